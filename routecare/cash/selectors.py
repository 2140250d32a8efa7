"""Scoped reads of cash rounds and enrolments. A society reads its own enrolments only; of an
enrolment another one flagged it against, it learns the date and the service point, nothing
else (``Flag``)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from routecare import access
from routecare.access import Actor
from routecare.audit.actions import record_event
from routecare.cash.models import CashEnrolment, CashRound, EnrolmentStatus
from routecare.people.models import Person
from routecare.people.selectors import parse_id


def _rounds(actor: Actor) -> QuerySet[CashRound]:
    if not actor.handles_personal_records:
        return CashRound.objects.none()
    return CashRound.objects.filter(participants=actor.national_society_id)


def rounds_for(actor: Actor) -> list[CashRound]:
    """The rounds the actor's society takes part in, with its own counts of enrolments."""
    mine = Q(enrolments__national_society_id=actor.national_society_id)
    flagged = mine & Q(enrolments__status__in=[EnrolmentStatus.BLOCKED, EnrolmentStatus.REVIEW])
    return list(
        _rounds(actor)
        .select_related("national_society")
        .annotate(
            own_enrolments=Count("enrolments", filter=mine),
            own_flagged=Count("enrolments", filter=flagged),
        )
        .order_by("-starts_on", "name")
    )


def open_rounds_for(actor: Actor, today: dt.date) -> list[CashRound]:
    return list(
        _rounds(actor).filter(closed_at__isnull=True, starts_on__lte=today, ends_on__gte=today)
    )


def round_for(actor: Actor, round_id: str | uuid.UUID) -> CashRound:
    """A round the actor's society takes part in; any other answers 404."""
    cash_round = _rounds(actor).filter(pk=parse_id(round_id)).first()
    if cash_round is None:
        raise Http404
    return cash_round


def participant_ids(cash_round: CashRound) -> set[uuid.UUID]:
    return set(cash_round.participants.values_list("pk", flat=True))


def may_manage(actor: Actor, cash_round: CashRound) -> bool:
    return access.may_manage_cash_round(
        actor, cash_round.national_society_id, participant_ids(cash_round)
    )


def enrolments_of(actor: Actor, cash_round: CashRound) -> list[CashEnrolment]:
    """The actor's society's enrolments of the round (one audited read of the list)."""
    enrolments = list(
        CashEnrolment.objects.filter(
            round=cash_round, national_society_id=actor.national_society_id
        )
        .select_related("person", "service_point")
        .defer("encoding", "person__alias", "person__vulnerabilities")
        .order_by("-enrolled_at")
    )
    record_event(actor, "read", "cash_round", cash_round.pk, detail="enrolments")
    return enrolments


def enrolment_for(actor: Actor, enrolment_id: str | uuid.UUID) -> CashEnrolment:
    """One of the actor's society's enrolments (read audited); any other answers 404."""
    enrolment = (
        CashEnrolment.objects.filter(
            pk=parse_id(enrolment_id), national_society_id=actor.national_society_id
        )
        .select_related("round", "person", "service_point")
        .defer("encoding")
        .first()
    )
    if enrolment is None or not actor.handles_personal_records:
        raise Http404
    record_event(actor, "read", "cash_enrolment", enrolment.pk, person_id=enrolment.person_id)
    return enrolment


def enrolments_of_person(actor: Actor, person: Person) -> list[CashEnrolment]:
    """The person's enrolments (the person was read, and audited, by people.selectors)."""
    if person.national_society_id != actor.national_society_id:
        raise Http404
    return list(
        CashEnrolment.objects.filter(person=person)
        .select_related("round", "service_point")
        .defer("encoding")
    )


@dataclass(frozen=True)
class Flag:
    """All a society learns of the enrolment its own was flagged against."""

    verdict: str
    verdict_label: str
    similarity: float
    other_enrolled_on: dt.date | None
    other_service_point: str | None


def flag_of(enrolment: CashEnrolment) -> Flag:
    other = (
        CashEnrolment.objects.filter(pk=enrolment.matched_id)
        .values_list("enrolled_at", "service_point__name")
        .first()
        if enrolment.matched_id
        else None
    )
    return Flag(
        verdict=enrolment.verdict,
        verdict_label=enrolment.get_verdict_display(),
        similarity=enrolment.similarity,
        other_enrolled_on=other[0].date() if other else None,
        other_service_point=other[1] if other else None,
    )


# What a person is told of an enrolment's status: a flag (probable or possible duplicate) is
# "being checked", nothing of the verdict, its score or the enrolment it resembled.
PERSON_STATUS: dict[str, str] = {
    EnrolmentStatus.CLEARED: "cleared",
    EnrolmentStatus.BLOCKED: "checking",
    EnrolmentStatus.REVIEW: "checking",
    EnrolmentStatus.DUPLICATE: "duplicate",
    EnrolmentStatus.PAID: "paid",
}


@dataclass(frozen=True)
class HeldEnrolment:
    """One of a person's enrolments in a cash round, for their data-subject report."""

    round_name: str
    starts_on: dt.date
    ends_on: dt.date
    service_point: str
    enrolled_at: dt.datetime
    status: str  # PERSON_STATUS: checking, cleared, paid, duplicate


def held_enrolments(person_id: uuid.UUID) -> list[HeldEnrolment]:
    """Called by the data-subject report's selector, which has checked the actor."""
    # Plain values: neither the encoding nor the round's key is ever loaded here.
    rows = (
        CashEnrolment.objects.filter(person_id=person_id)
        .order_by("-enrolled_at")
        .values_list(
            "round__name", "round__starts_on", "round__ends_on", "service_point__name",
            "enrolled_at", "status",
        )
    )  # fmt: skip
    return [
        HeldEnrolment(name, starts_on, ends_on, point, enrolled_at, PERSON_STATUS[status])
        for name, starts_on, ends_on, point, enrolled_at, status in rows
    ]
