"""Reads of counts and alerts: aggregates and group alerts, no personal data."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from dataclasses import dataclass

from django.http import Http404
from django.utils import timezone

from routecare.access import Actor
from routecare.flows.models import Alert, DailyCount
from routecare.orgs.models import Role, ServicePoint
from routecare.people.models import Encounter


@dataclass(frozen=True)
class DayCount:
    point: ServicePoint
    day: dt.date
    people: int
    new_arrivals: int | None
    departures: int | None
    by_sex_and_age: dict[str, dict[str, int]]
    source: str  # "entered" or "derived from encounters"


def derived_count(point: ServicePoint, day: dt.date) -> DayCount:
    """People seen at a point on a day, from the encounters recorded there."""
    people = (
        Encounter.objects.filter(service_point=point, occurred_at__date=day)
        .values_list("person_id", "person__sex", "person__age_band")
        .distinct()
    )
    breakdown: dict[str, Counter[str]] = {}
    seen = set()
    for person_id, sex, band in people:
        if person_id in seen:
            continue
        seen.add(person_id)
        breakdown.setdefault(sex, Counter())[band] += 1
    return DayCount(
        point,
        day,
        len(seen),
        None,
        None,
        {sex: dict(bands) for sex, bands in breakdown.items()},
        "derived",
    )


def day_count(point: ServicePoint, day: dt.date) -> DayCount:
    """The entered count if there is one, else the count derived from encounters."""
    entered = DailyCount.objects.filter(service_point=point, day=day).first()
    if entered is None:
        return derived_count(point, day)
    return DayCount(
        point,
        day,
        entered.people,
        entered.new_arrivals,
        entered.departures,
        entered.by_sex_and_age,
        "entered",
    )


def active_alerts(actor: Actor, now: dt.datetime | None = None) -> list[Alert]:
    """Alerts reaching any point of the actor's society (or, for regional staff, their
    network), not expired: the panel on every staff dashboard."""
    now = now or timezone.now()
    alerts = Alert.objects.filter(expires_at__gt=now).select_related("from_society", "from_point")
    if actor.national_society_id is not None:
        alerts = alerts.filter(targets__national_society_id=actor.national_society_id)
    elif actor.network_id is not None:
        alerts = alerts.filter(targets__national_society__network_id=actor.network_id)
    elif actor.role != Role.SYSADMIN:
        return []  # system administrators see every alert: they hold no personal data
    return list(alerts.distinct()[:50])


def alert_for(actor: Actor, alert_id: str | uuid.UUID) -> Alert:
    try:
        key = alert_id if isinstance(alert_id, uuid.UUID) else uuid.UUID(str(alert_id))
    except ValueError as error:
        raise Http404 from error
    alert = next((a for a in active_alerts(actor) if a.pk == key), None)
    if alert is None:
        raise Http404
    return alert
