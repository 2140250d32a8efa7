"""Reads for retention: a person's whole record for a data-subject request, the purges.

Every read of personal data is audited, as in ``people.selectors`` (which these reuse).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from routecare.access import Actor
from routecare.audit.actions import record_event
from routecare.audit.models import AuditEvent
from routecare.cards.models import Card, CarriedCard
from routecare.cash.selectors import HeldEnrolment, held_enrolments
from routecare.messaging.selectors import HeldMessages, held_messages
from routecare.people import selectors as people
from routecare.people.models import Consent, Encounter, FollowUp, HealthSummary, Person
from routecare.referrals.models import Referral
from routecare.retention.models import PurgeRun

PURPOSE = "data-subject request"


@dataclass
class HeldAbout:
    """Everything RouteCare holds about one person."""

    person: Person
    health: HealthSummary
    encounters: list[Encounter]
    follow_ups: list[FollowUp]
    consents: list[Consent]
    referrals: list[Referral]
    cards: list[Card]
    carried_cards: list[CarriedCard]
    household_members: int
    accesses: int
    messages: list[HeldMessages]
    cash: list[HeldEnrolment]


def _require_focal_point(actor: Actor) -> None:
    if not (actor.administers_society and actor.handles_personal_records):
        raise PermissionError("data-subject requests are handled by focal points")


def person_for_request(actor: Actor, typed_code: str) -> Person | None:
    """The person whose code the focal point typed (no near matches: the person is there
    with their card or code, and a neighbour's record must not be shown by a typo)."""
    _require_focal_point(actor)
    return people.person_with_code(actor, typed_code, purpose=PURPOSE)


def person_of_request(actor: Actor, person_id: str | uuid.UUID) -> Person:
    """The person a request being handled is about (by the opaque id the page carries)."""
    _require_focal_point(actor)
    return people.get_person(actor, person_id)


def everything_held(actor: Actor, person: Person) -> HeldAbout:
    _require_focal_point(actor)
    referrals = list(
        Referral.objects.filter(person=person).select_related("to_point", "to_society")
    )
    if referrals:
        record_event(
            actor, "read", "referral", person.pk, person_id=person.pk,
            fields=["reason", "shared"], detail=PURPOSE,
        )  # fmt: skip
    return HeldAbout(
        person=person,
        health=people.get_health_summary(actor, person),
        encounters=people.encounters_of(actor, person),
        follow_ups=people.follow_ups_of(actor, person),
        consents=people.consents_of(actor, person),
        referrals=referrals,
        cards=list(Card.objects.filter(person=person).select_related("issued_at_point")),
        carried_cards=list(CarriedCard.objects.filter(person=person).select_related("issuer")),
        household_members=(
            Person.objects.filter(household_id=person.household_id).exclude(pk=person.pk).count()
            if person.household_id
            else 0
        ),
        accesses=AuditEvent.objects.filter(person_id=person.pk).count(),
        messages=held_messages(person.pk),
        cash=held_enrolments(person.pk),
    )


def purge_runs(actor: Actor, limit: int = 20) -> list[PurgeRun]:
    """The society's latest purges and dry runs (counts only)."""
    if not actor.administers_society:
        return []
    return list(PurgeRun.objects.filter(national_society_id=actor.national_society_id)[:limit])
