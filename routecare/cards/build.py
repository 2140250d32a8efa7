"""What goes on a card: the summary built from a person's records (only what consent lets
travel), made small enough for the QR size limit by leaving the least important items off."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from routecare.cards.summary import CardSummary
from routecare.people.models import (
    ConsentPurpose,
    Encounter,
    FollowUp,
    HealthSummary,
    Person,
)

# QR version 15 at level M holds 600 alphanumeric characters; no card is ever larger.
MAX_QR_VERSION = 15
MAX_CARD_CHARS = 600
# A typical record fits version 12 at level M (419 characters).
TYPICAL_QR_VERSION = 12
# Most recent encounters considered before fitting; older ones are on the issuing record.
ENCOUNTERS_CONSIDERED = 10
URGENCY_ORDER = {"emergency": 0, "priority": 1, "routine": 2}
SHORTENED_TEXT = 140
# Services that hint at violence or exploitation never travel on a card anyone may be shown.
RESTRICTED_SERVICES = frozenset({"protection", "safe-space-women-children"})


def summary_of(
    person: Person,
    *,
    serial: str,
    issued_at: dt.datetime,
    issued_at_point: str,
    consents: set[str],
) -> CardSummary:
    """The full summary of a person's records, before fitting. Reads without auditing: the
    issuing action records one event naming everything that went on the card."""
    base: dict[str, Any] = {
        "short_code": person.short_code,
        "serial": serial,
        "issued_at": issued_at,
        "issued_at_point": issued_at_point,
        "consents": sorted(consents),
    }
    if ConsentPurpose.SHARE_NETWORK not in consents:
        # Without consent to share beyond this society the card carries only the code: the
        # society's own points still find the full record with it.
        return CardSummary.model_validate(base)
    health = HealthSummary.objects.filter(person=person).first()
    encounters = list(
        Encounter.objects.filter(person=person, corrections__isnull=True)
        .select_related("service_point")
        .prefetch_related("services")[:ENCOUNTERS_CONSIDERED]
    )
    follow_ups = sorted(
        FollowUp.objects.filter(person=person, done_at__isnull=True),
        key=lambda f: (URGENCY_ORDER.get(f.urgency, 3), f.due or dt.date.max),
    )
    today = issued_at.date()
    base.update(
        sex=person.sex,
        age_band=person.age_band,
        birth_year=person.birth_year,
        languages=list(person.languages)[:10],
        # The latest assessment only: an old red must not read as today's urgency.
        triage=(encounters[0].triage or None) if encounters else None,
        encounters=[
            {
                "date": e.occurred_at.date(),
                "service_point": e.service_point.code,
                "services": sorted(
                    {line.service for line in e.services.all()} - RESTRICTED_SERVICES
                ),
            }
            for e in encounters
        ],
        follow_ups=[
            {"text": str(f.text)[:500], "due": f.due, "urgency": f.urgency} for f in follow_ups[:20]
        ],
    )
    if health is not None:
        base.update(_health(health, today))
    return CardSummary.model_validate(base)


def _health(health: HealthSummary, today: dt.date) -> dict[str, Any]:
    medicines = []
    for medicine in health.medicines or []:
        days_left = _days_left(medicine, today)
        if days_left == 0:
            continue  # no longer being taken
        medicines.append(
            {
                "name": str(medicine.get("name", ""))[:60] or "?",
                "dose": str(medicine.get("dose") or "")[:40],
                "days_left": days_left,
            }
        )
    growth = sorted(health.child_growth or [], key=lambda g: str(g.get("measured_on", "")))
    latest = growth[-1] if growth else None
    return {
        "allergies": [str(a)[:60] for a in health.allergies or [] if str(a).strip()][:20],
        "conditions": [str(c)[:60] for c in health.conditions or [] if str(c).strip()][:20],
        "medicines": medicines[:20],
        "pregnancy": health.pregnancy or None,
        "child_growth": (
            {
                "measured_on": latest["measured_on"],
                "weight_kg": latest.get("weight_kg"),
                "height_cm": latest.get("height_cm"),
                "muac_mm": None
                if latest.get("muac_mm") is None
                else round(float(latest["muac_mm"])),
            }
            if latest and latest.get("measured_on")
            else None
        ),
        "vaccinations": sorted(
            (
                {"vaccine": str(v.get("vaccine", ""))[:40], "given_on": v.get("given_on")}
                for v in health.vaccinations or []
                if v.get("vaccine")
            ),
            key=lambda v: str(v["given_on"] or ""),
            reverse=True,
        )[:30],
    }


def _days_left(medicine: dict[str, Any], today: dt.date) -> int | None:
    supply = medicine.get("days_supply")
    if supply is None:
        return None
    dispensed = medicine.get("dispensed_on")
    if not dispensed:
        return int(supply)
    elapsed = (today - dt.date.fromisoformat(str(dispensed))).days
    return max(0, int(supply) - max(0, elapsed))


# Reductions, least important first: each returns a smaller summary or None when it cannot
# reduce further. Allergies go last of all: they are what the next carer most needs.
def _drop_last(name: str, keep: int) -> Callable[[CardSummary], CardSummary | None]:
    def reduce(summary: CardSummary) -> CardSummary | None:
        items = getattr(summary, name)
        if len(items) <= keep:
            return None
        dropped = dict(summary.dropped)
        dropped[name] = dropped.get(name, 0) + 1
        return summary.model_copy(update={name: items[:-1], "dropped": dropped})

    return reduce


def _drop_single(name: str) -> Callable[[CardSummary], CardSummary | None]:
    def reduce(summary: CardSummary) -> CardSummary | None:
        if getattr(summary, name) is None:
            return None
        dropped = dict(summary.dropped)
        dropped[name] = 1
        return summary.model_copy(update={name: None, "dropped": dropped})

    return reduce


def _shorten_follow_ups(summary: CardSummary) -> CardSummary | None:
    if all(len(f.text) <= SHORTENED_TEXT for f in summary.follow_ups):
        return None
    shortened = [
        f.model_copy(update={"text": f.text[: SHORTENED_TEXT - 1] + "…"})
        if len(f.text) > SHORTENED_TEXT
        else f
        for f in summary.follow_ups
    ]
    return summary.model_copy(update={"follow_ups": shortened})


REDUCTIONS: list[Callable[[CardSummary], CardSummary | None]] = [
    _drop_last("vaccinations", 0),
    _drop_last("encounters", 2),
    _drop_last("languages", 2),
    _shorten_follow_ups,
    _drop_last("follow_ups", 2),
    _drop_last("encounters", 1),
    _drop_single("child_growth"),
    _drop_last("conditions", 3),
    _drop_last("medicines", 3),
    _drop_last("follow_ups", 1),
    _drop_last("encounters", 0),
    _drop_last("conditions", 0),
    _drop_last("medicines", 0),
    _drop_last("follow_ups", 0),
    _drop_single("pregnancy"),
    _drop_last("languages", 0),
    _drop_last("allergies", 0),
]


def fit(summary: CardSummary, seal: Callable[[CardSummary], str]) -> tuple[CardSummary, str]:
    """The summary and its QR text, reduced until the text fits ``MAX_CARD_CHARS``. The
    bare record (code, serial, issue time and point) always fits, so a card is always issued."""
    text = seal(summary)
    while len(text) > MAX_CARD_CHARS:
        for reduce in REDUCTIONS:
            smaller = reduce(summary)
            if smaller is not None:
                summary = smaller
                break
        else:  # pragma: no cover - the bare record is far below the limit
            raise AssertionError("a bare card record does not fit")
        text = seal(summary)
    return summary, text
