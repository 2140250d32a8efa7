"""Scoped reads of personal data. Every function takes the acting user and audits the read."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from django.db.models import Exists, F, OuterRef, Prefetch, QuerySet
from django.http import Http404

from routecare.access import Actor
from routecare.audit.actions import record_event
from routecare.core.prepared import Prepared
from routecare.people import shortcode
from routecare.people.models import (
    Consent,
    Encounter,
    EncounterService,
    FollowUp,
    HealthSummary,
    Person,
)


def _society_people(society_id: uuid.UUID | None) -> QuerySet[Person]:
    # The registering point's code, not the whole point: a join of all its columns doubled
    # the cost of building the query, on every lookup and every encounter.
    return Person.objects.filter(national_society_id=society_id).annotate(
        registered_at_point_code=F("registered_at_point__code")
    )


def _people(actor: Actor) -> QuerySet[Person]:
    """Everyone the actor may see: only their own National Society's records."""
    if not actor.handles_personal_records:
        return Person.objects.none()
    return _society_people(actor.national_society_id)


# The two reads behind every lookup and every encounter write, compiled once
# (core.prepared): the same statements as ``_people(actor).filter(...).first()``.
_BY_CODE: Prepared[Person] = Prepared(
    lambda society, code: _society_people(society).filter(short_code=code).order_by("pk")[:1],
    society=uuid.UUID,
    code=str,
)
_BY_ID: Prepared[Person] = Prepared(
    lambda society, person: _society_people(society).filter(pk=person).order_by("pk")[:1],
    society=uuid.UUID,
    person=uuid.UUID,
)


# The person an encounter is recorded for: only what the write needs (its id and society), so
# the busiest write neither joins the registering point nor decrypts an alias and
# vulnerabilities it never reads. Any other field read later costs a query of its own.
_TO_RECORD: Prepared[Person] = Prepared(
    lambda society, person: (
        Person.objects.filter(national_society_id=society, pk=person)
        .only("id", "national_society_id")
        .order_by("pk")[:1]
    ),
    society=uuid.UUID,
    person=uuid.UUID,
)
_TO_RECORD_BY_CODE: Prepared[Person] = Prepared(
    lambda society, code: (
        Person.objects.filter(national_society_id=society, short_code=code)
        .only("id", "national_society_id")
        .order_by("pk")[:1]
    ),
    society=uuid.UUID,
    code=str,
)


def _one_person(actor: Actor, query: Prepared[Person], **values: object) -> Person | None:
    if not actor.handles_personal_records or actor.national_society_id is None:
        return None
    return query.first(society=actor.national_society_id, **values)


def parse_id(raw: str | uuid.UUID) -> uuid.UUID:
    """An id from a URL or body; a malformed one answers 404 like an unknown one."""
    if isinstance(raw, uuid.UUID):
        return raw
    try:
        return uuid.UUID(str(raw))
    except ValueError as exc:
        raise Http404 from exc


def person_for_change(actor: Actor, person_id: str | uuid.UUID) -> Person:
    """The person an action is about to change; the action audits the change itself."""
    person = _one_person(actor, _BY_ID, person=parse_id(person_id))
    if person is None:
        raise Http404
    return person


def person_to_record(actor: Actor, person_id: str | uuid.UUID) -> Person:
    """The person an encounter is about to be recorded for (``people.actions.record_encounter``
    audits it): its id and society only."""
    person = _one_person(actor, _TO_RECORD, person=parse_id(person_id))
    if person is None:
        raise Http404
    return person


def record_with_code(actor: Actor, code: str) -> Person | None:
    """The actor's society's person with exactly this (formatted) short code, id and society
    only, as ``person_to_record``: the caller audits what it does with it (a card read)."""
    return _one_person(actor, _TO_RECORD_BY_CODE, code=code)


def get_person(actor: Actor, person_id: str | uuid.UUID) -> Person:
    person = person_for_change(actor, person_id)
    record_event(actor, "read", "person", person.pk, person_id=person.pk)
    return person


@dataclass
class Lookup:
    """The result of looking a short code up: the person, or near matches for a typo."""

    person: Person | None = None
    suggestions: list[Person] = field(default_factory=list)
    malformed: bool = False


def find_by_short_code(actor: Actor, typed: str) -> Lookup:
    compact = shortcode.normalise(typed)
    if compact is None:
        return Lookup(malformed=True)
    if shortcode.is_valid(compact):
        person = _one_person(actor, _BY_CODE, code=shortcode.format_code(compact))
        if person is not None:
            record_event(actor, "read", "person", person.pk, person_id=person.pk, detail="lookup")
        return Lookup(person=person)
    suggestions = list(
        _people(actor)
        .filter(short_code__in=shortcode.typo_candidates(compact))
        .order_by("short_code")
    )
    for suggestion in suggestions:
        record_event(
            actor, "search", "person", suggestion.pk, person_id=suggestion.pk, detail="typo match"
        )
    return Lookup(suggestions=suggestions)


def person_with_code(actor: Actor, typed: str, *, purpose: str = "import") -> Person | None:
    """The person with exactly this short code (imports, data-subject requests: no near
    matches are offered); ``purpose`` is recorded in the audit trail."""
    compact = shortcode.normalise(typed)
    if compact is None or not shortcode.is_valid(compact):
        return None
    person = _one_person(actor, _BY_CODE, code=shortcode.format_code(compact))
    if person is not None:
        record_event(actor, "read", "person", person.pk, person_id=person.pk, detail=purpose)
    return person


def get_health_summary(actor: Actor, person: Person) -> HealthSummary:
    summary = HealthSummary.objects.filter(person=person).first()
    if summary is None:
        summary = HealthSummary(person=person)
    record_event(
        actor,
        "read",
        "health_summary",
        person.pk,
        person_id=person.pk,
        fields=HealthSummary.SENSITIVE_FIELDS,
    )
    return summary


def encounters_of(actor: Actor, person: Person) -> list[Encounter]:
    """The person's timeline across the society's service points, newest first; each says
    whether it was ``withdrawn`` (a voiding encounter corrects it), and a voiding one when
    the encounter it withdraws took place (``withdraws_at``)."""
    withdrawn = Encounter.objects.filter(corrects_id=OuterRef("pk"), voids=True)
    encounters = list(
        Encounter.objects.filter(person=person)
        .annotate(withdrawn=Exists(withdrawn), withdraws_at=F("corrects__occurred_at"))
        .select_related("service_point", "recorded_by")
        .prefetch_related(Prefetch("services", queryset=EncounterService.objects.order_by("pk")))
    )
    record_event(
        actor, "read", "encounter", person.pk, person_id=person.pk, fields=["notes", "services"]
    )
    return encounters


def follow_ups_of(actor: Actor, person: Person, *, open_only: bool = False) -> list[FollowUp]:
    follow_ups = FollowUp.objects.filter(person=person).select_related("created_at_point")
    if open_only:
        follow_ups = follow_ups.filter(done_at__isnull=True)
    record_event(actor, "read", "follow_up", person.pk, person_id=person.pk, fields=["text"])
    return list(follow_ups)


def encounter_of(actor: Actor, person: Person, encounter_id: str | uuid.UUID) -> Encounter:
    """One encounter of a person the actor may see, e.g. the one a correction corrects."""
    encounter = (
        Encounter.objects.filter(pk=parse_id(encounter_id), person__in=_people(actor))
        .filter(person=person)
        .first()
    )
    if encounter is None:
        raise Http404
    return encounter


def follow_up_for_change(actor: Actor, follow_up_id: str | uuid.UUID) -> FollowUp:
    follow_up = (
        FollowUp.objects.filter(pk=parse_id(follow_up_id), person__in=_people(actor))
        .select_related("person")
        .first()
    )
    if follow_up is None:
        raise Http404
    return follow_up


def consents_of(actor: Actor, person: Person) -> list[Consent]:
    """Consent history (no audit of its own: it is shown only beside an audited person read)."""
    return list(Consent.objects.filter(person=person).select_related("recorded_at_point"))


def active_consent_purposes(person: Person) -> set[str]:
    return set(
        Consent.objects.filter(person=person, withdrawn_at__isnull=True).values_list(
            "purpose", flat=True
        )
    )


def household_members(actor: Actor, person: Person) -> list[Person]:
    if person.household_id is None:
        return []
    members = list(
        _people(actor)
        .filter(household_id=person.household_id)
        .exclude(pk=person.pk)
        .order_by("created_at")
    )
    for member in members:
        record_event(
            actor, "read", "person", member.pk, person_id=member.pk, detail="household member"
        )
    return members


OVERDUE_SHOWN = 50


def overdue_follow_ups(actor: Actor, today: dt.date) -> list[FollowUp]:
    """Open follow-ups past their due date in the actor's society: the coordinator's list.
    Coordinators and focal points only; each person shown is an audited read."""
    if actor.role not in ("coordinator", "focal_point") or not actor.handles_personal_records:
        return []
    overdue = list(
        FollowUp.objects.filter(
            person__national_society_id=actor.national_society_id,
            done_at__isnull=True,
            due__lt=today,
        )
        .select_related("person", "created_at_point")
        .order_by("due")[:OVERDUE_SHOWN]
    )
    for follow_up in overdue:
        record_event(
            actor, "read", "follow_up", follow_up.pk, person_id=follow_up.person_id,
            fields=["text"], detail="overdue list",
        )  # fmt: skip
    return overdue
