"""Scoped reads of referrals: the sending and the receiving society see a referral, nobody
else; protection referrals only staff with a protection role, at either end."""

from __future__ import annotations

import uuid

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.http import Http404

from routecare.access import Actor
from routecare.audit.actions import record_event
from routecare.core.prepared import Prepared
from routecare.people.models import Person
from routecare.people.shortcode import format_code, normalise
from routecare.referrals.models import (
    OPEN_STATUSES,
    RESTRICTED_TYPES,
    Referral,
    ReferralType,
)

URGENCY_FIRST = Case(
    When(urgency="emergency", then=Value(0)),
    When(urgency="priority", then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


def _referrals(actor: Actor) -> QuerySet[Referral]:
    if not actor.handles_personal_records:
        return Referral.objects.none()
    referrals = Referral.objects.select_related(
        "from_society", "from_point", "to_society", "to_point"
    )
    if not actor.protection:
        referrals = referrals.exclude(type__in=RESTRICTED_TYPES)
    # Family-links referrals to a society (no point) reach its RFL focal points only.
    if not actor.rfl_focal_point:
        referrals = referrals.exclude(
            Q(to_point__isnull=True, type=ReferralType.RFL)
            & Q(to_society_id=actor.national_society_id)
            & ~Q(from_society_id=actor.national_society_id)
        )
    return referrals


def inbox(actor: Actor) -> list[Referral]:
    """Referrals to the actor's society, urgent and open first."""
    return list(
        _referrals(actor)
        .filter(to_society_id=actor.national_society_id)
        .annotate(open_first=Case(When(status__in=OPEN_STATUSES, then=Value(0)), default=Value(1)))
        .annotate(urgency_rank=URGENCY_FIRST)
        .order_by("open_first", "urgency_rank", "due", "-created_at")[:200]
    )


def outbox(actor: Actor) -> list[Referral]:
    return list(_referrals(actor).filter(from_society_id=actor.national_society_id)[:200])


def get_referral(actor: Actor, referral_id: str | uuid.UUID) -> Referral:
    """One referral the actor's society sent or received; every read is audited."""
    try:
        key = referral_id if isinstance(referral_id, uuid.UUID) else uuid.UUID(str(referral_id))
    except ValueError as error:
        raise Http404 from error
    referral = (
        _referrals(actor)
        .filter(
            Q(from_society_id=actor.national_society_id)
            | Q(to_society_id=actor.national_society_id)
        )
        .filter(pk=key)
        .first()
    )
    if referral is None:
        raise Http404
    sending = referral.from_society_id == actor.national_society_id
    record_event(
        actor,
        "read",
        "referral",
        referral.pk,
        person_id=referral.person_id if sending else None,
        fields=sorted(referral.shared),
    )
    return referral


def referrals_of(actor: Actor, person: Person) -> list[Referral]:
    """The referrals sent for a person (``person`` comes from a people selector)."""
    return list(_referrals(actor).filter(person=person, from_society_id=actor.national_society_id))


# Whether any referral is open to a society for a code, compiled once (core.prepared): most
# cards read and codes typed have none waiting, and the scoped query below (four joined tables,
# the actor's exclusions) cost half of a card read to build.
_ANY_OPEN: Prepared[tuple[uuid.UUID]] = Prepared(
    lambda society, code: Referral.objects.filter(
        to_society_id=society, short_code=code, status__in=OPEN_STATUSES
    ).values_list("pk")[:1],
    society=uuid.UUID,
    code=str,
)


def expected(actor: Actor, typed_code: str) -> list[Referral]:
    """Open referrals to the actor's society for the person with this short code: shown the
    moment their card is read or their code typed ("expected: insulin refill, from Danlí")."""
    compact = normalise(typed_code)
    society = actor.national_society_id
    if compact is None or society is None or not actor.handles_personal_records:
        return []
    code = format_code(compact)
    if not _ANY_OPEN.exists(society=society, code=code):
        return []
    found = list(
        _referrals(actor).filter(to_society_id=society, short_code=code, status__in=OPEN_STATUSES)
    )
    for referral in found:
        record_event(actor, "read", "referral", referral.pk, detail="expected on arrival")
    return found
