"""What goes on a card: the summary built from a person's records (only what consent lets
travel), made small enough for the QR size limit by leaving the least important items off."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from routecare.cards.summary import LIST_KEYS, CardSummary
from routecare.core.fields import is_language_code, text_problem
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
# Ends every text shortened to fit (section 5).
MARKER = "…"
T = TypeVar("T")
# Services that hint at violence or exploitation never travel on a card anyone may be shown.
RESTRICTED_SERVICES = frozenset({"protection", "safe-space-women-children"})


def summary_of(
    person: Person,
    *,
    serial: str,
    issued_at: dt.datetime,
    issued_at_point: str,
    consents: set[str],
) -> tuple[CardSummary, dict[str, set[int]]]:
    """The full summary of a person's records, before fitting, and the positions of the items
    whose text was shortened (by list). Reads without auditing: the issuing action records one
    event naming everything that went on the card."""
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
        return CardSummary.model_validate(base), {}
    health = HealthSummary.objects.filter(person=person).first()
    current = Encounter.objects.current().filter(person=person)
    encounters = list(
        current.select_related("service_point").prefetch_related("services")[:ENCOUNTERS_CONSIDERED]
    )
    older = current.count() - len(encounters) if len(encounters) == ENCOUNTERS_CONSIDERED else 0
    follow_ups = sorted(
        FollowUp.objects.filter(person=person, done_at__isnull=True),
        key=lambda f: (URGENCY_ORDER.get(f.urgency, 3), f.due or dt.date.max),
    )
    today = issued_at.date()
    cut = Shortening()
    base.update(
        sex=person.sex,
        age_band=person.age_band,
        birth_year=person.birth_year,
        languages=cut.first(
            "languages", [code for code in person.languages if is_language_code(code)], 10
        ),
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
            {
                "text": cut.text("follow_ups", i, str(f.text), 500),
                "due": f.due,
                "urgency": f.urgency,
            }
            for i, f in enumerate(cut.first("follow_ups", follow_ups, 20))
        ],
    )
    if older:
        cut.beyond["encounters"] = older
    if health is not None:
        base.update(_health(health, today, cut))
    base["dropped"] = dict(cut.beyond)
    return CardSummary.model_validate(base), cut.shortened


class Shortening:
    """What had to be cut to make a person's records fit the card's limits (section 5): items
    beyond a list's limit, counted, and texts shortened to their limit, ending in a marker.
    Both are counted in the card's key 19, so the reader and the person are told."""

    def __init__(self) -> None:
        self.beyond: dict[str, int] = {}
        self.shortened: dict[str, set[int]] = {}

    def first(self, name: str, items: list[T], most: int) -> list[T]:
        if len(items) > most:
            self.beyond[name] = self.beyond.get(name, 0) + len(items) - most
        return items[:most]

    def text(self, name: str, position: int, text: str, longest: int) -> str:
        # Characters a card refuses (section 5) are left out of the card's copy of a text:
        # a record stored before the rules must still go on a card.
        text = "".join(c for c in text if text_problem(c, multiline=name == "follow_ups") is None)
        if len(text) <= longest:
            return text
        self.shortened.setdefault(name, set()).add(position)
        return text[: longest - 1] + MARKER


def _health(health: HealthSummary, today: dt.date, cut: Shortening) -> dict[str, Any]:
    taken = [
        (medicine, days_left)
        for medicine in health.medicines or []
        if (days_left := _days_left(medicine, today)) != 0  # 0: no longer being taken
    ]
    medicines = []
    for i, (medicine, days_left) in enumerate(cut.first("medicines", taken, 20)):
        name = cut.text("medicines", i, str(medicine.get("name", "")) or "?", 60)
        dose = cut.text("medicines", i, str(medicine.get("dose") or ""), 40)
        medicines.append({"name": name, "dose": dose, "days_left": days_left})
    growth = sorted(health.child_growth or [], key=lambda g: str(g.get("measured_on", "")))
    latest = growth[-1] if growth else None
    vaccinations = sorted(
        (v for v in health.vaccinations or [] if v.get("vaccine")),
        key=lambda v: str(v.get("given_on") or ""),
        reverse=True,
    )

    def texts(name: str, items: list[Any] | None) -> list[str]:
        kept = cut.first(name, [str(item) for item in items or [] if str(item).strip()], 20)
        return [cut.text(name, i, text, 60) for i, text in enumerate(kept)]

    return {
        "allergies": texts("allergies", health.allergies),
        "conditions": texts("conditions", health.conditions),
        "medicines": medicines,
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
        "vaccinations": [
            {
                "vaccine": cut.text("vaccinations", i, str(v["vaccine"]), 40),
                "given_on": v.get("given_on"),
            }
            for i, v in enumerate(cut.first("vaccinations", vaccinations, 30))
        ],
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
# reduce further. Allergies go last of all: they are what the next carer most needs. Items are
# left off from the end of a list only; ``fit`` counts what is gone.
def _drop_last(name: str, keep: int) -> Callable[[CardSummary], CardSummary | None]:
    def reduce(summary: CardSummary) -> CardSummary | None:
        items = getattr(summary, name)
        if len(items) <= keep:
            return None
        return summary.model_copy(update={name: items[:-1]})

    return reduce


def _drop_single(name: str) -> Callable[[CardSummary], CardSummary | None]:
    def reduce(summary: CardSummary) -> CardSummary | None:
        if getattr(summary, name) is None:
            return None
        return summary.model_copy(update={name: None})

    return reduce


def _shorten_follow_ups(summary: CardSummary) -> CardSummary | None:
    if all(len(f.text) <= SHORTENED_TEXT for f in summary.follow_ups):
        return None
    shortened = [
        f.model_copy(update={"text": f.text[: SHORTENED_TEXT - 1] + MARKER})
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


def fit(
    summary: CardSummary,
    seal: Callable[[CardSummary], str],
    shortened: dict[str, set[int]] | None = None,
) -> tuple[CardSummary, str]:
    """The summary and its QR text, reduced until the text fits ``MAX_CARD_CHARS``. The bare
    record (code, serial, issue time and point) always fits, so a card is always issued.

    The summary's ``dropped`` counts, per list, the items that are not on the card whole: those
    already counted (``summary.dropped``: beyond a list's limit), those left off here, and those
    on the card with a shortened text (``shortened``: positions in the summary's lists). An item
    shortened and then left off counts once."""
    full = summary
    marked = {name: set(positions) for name, positions in (shortened or {}).items()}

    def counted(candidate: CardSummary) -> CardSummary:
        dropped = dict(full.dropped)
        for name in LIST_KEYS:
            before, after = getattr(full, name), getattr(candidate, name)
            if isinstance(before, list):
                # What is kept is the start of the list, some texts shortened here (follow-ups).
                marks = marked.get(name, set())
                cut = sum(1 for i, item in enumerate(after) if i in marks or item != before[i])
                count = len(before) - len(after) + cut
            else:
                count = int(before is not None and after is None)
            if count:
                dropped[name] = dropped.get(name, 0) + count
        return candidate.model_copy(update={"dropped": dropped})

    candidate = summary
    text = seal(counted(candidate))
    while len(text) > MAX_CARD_CHARS:
        for reduce in REDUCTIONS:
            smaller = reduce(candidate)
            if smaller is not None:
                candidate = smaller
                break
        else:  # pragma: no cover - the bare record is far below the limit
            raise AssertionError("a bare card record does not fit")
        text = seal(counted(candidate))
    return counted(candidate), text
