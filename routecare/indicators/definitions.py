"""The programme indicators, each with the definition shown beside it on the dashboards: what
is counted, from which source, and how duplicates are handled."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Indicator:
    code: str
    name: Promise
    definition: Promise
    hxl: str


INDICATORS = (
    Indicator(
        "people-supported",
        _("People supported"),
        _(
            "Registered people with at least one encounter in the period, each counted once "
            "per National Society and period however many points they visited, plus people "
            "entered in daily counts beyond those registered at the same point that day. "
            "Counted-only people cannot be recognised again, so they count at each point and "
            "day. A total over several periods adds the periods."
        ),
        "#reached+total",
    ),
    Indicator(
        "people-on-the-move",
        _("People on the move along routes"),
        _(
            "People supported at the points of a route who are registered as on the move "
            "(not returnees or host community), and people counted there; once per route and "
            "period."
        ),
        "#reached+on_the_move",
    ),
    Indicator(
        "returnees",
        _("Returnees assisted"),
        _("Registered people recorded as returnees with an encounter in the period."),
        "#reached+returnees",
    ),
    Indicator(
        "host-community",
        _("Host community members"),
        _("Registered people recorded as host community members with an encounter in the period."),
        "#reached+host_community",
    ),
    Indicator(
        "people-through-hsps",
        _("People supported through HSPs"),
        _(
            "People supported (as above) at fixed and mobile humanitarian service points only, "
            "not at branches, transit centres or partners."
        ),
        "#reached+hsp",
    ),
    Indicator(
        "active-points",
        _("Active service points"),
        _("Service points with at least one encounter or daily count in the period."),
        "#loc+active+num",
    ),
    Indicator(
        "trained",
        _("Staff and volunteers trained"),
        _(
            "Attendance recorded for trainings held in the period; a person attending two "
            "trainings counts twice."
        ),
        "#reached+trained",
    ),
    Indicator(
        "consultations",
        _("Health consultations"),
        _(
            "Encounters delivering first aid, primary health care, maternal and child "
            "health, medicines or medical transport; a corrected encounter counts once."
        ),
        "#activity+consultations",
    ),
    Indicator(
        "referrals",
        _("Referrals"),
        _("Referrals sent from the points in view during the period, whatever became of them."),
        "#activity+referrals",
    ),
    Indicator(
        "locations",
        _("Locations where people were supported"),
        _("Distinct places (service points) where people were supported in the period."),
        "#loc+num",
    ),
)
BY_CODE = {indicator.code: indicator for indicator in INDICATORS}
