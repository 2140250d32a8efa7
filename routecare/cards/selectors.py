"""Scoped reads of cards: only the acting user's society's cards, each read audited."""

from __future__ import annotations

from routecare.access import Actor
from routecare.audit.actions import record_event
from routecare.cards.keys import DatabaseKeys
from routecare.cards.models import Card
from routecare.cards.summary import CardSummary, read_text
from routecare.people.models import Consent, Encounter, FollowUp, HealthSummary, Person


def current_card(actor: Actor, person: Person) -> Card | None:
    """The person's valid card, if their society issued one. ``person`` comes from a selector."""
    if not actor.handles_personal_records or person.national_society_id != actor.society_id:
        return None
    return (
        Card.objects.filter(person=person, ended_at=None)
        .select_related("issued_at_point", "card_key", "signing_key")
        .first()
    )


def latest_card(actor: Actor, person: Person) -> Card | None:
    """The person's most recent card, valid or ended (revoking twice changes nothing)."""
    if not actor.handles_personal_records or person.national_society_id != actor.society_id:
        return None
    return Card.objects.filter(person=person).select_related("issued_at_point").first()


def cards_of(actor: Actor, person: Person) -> list[Card]:
    if not actor.handles_personal_records or person.national_society_id != actor.society_id:
        return []
    return list(Card.objects.filter(person=person).select_related("issued_at_point"))


def summary_of_card(actor: Actor, card: Card, *, purpose: str = "view") -> CardSummary:
    """What an issued card says, opened with the network's keys; the read is audited."""
    _unsealed, summary = read_text(str(card.qr_text), DatabaseKeys())
    record_event(
        actor,
        "export" if purpose != "view" else "read",
        "card",
        card.serial,
        person_id=card.person_id,
        detail=purpose,
    )
    return summary


def is_outdated(card: Card) -> bool:
    """Whether the person's records changed after the card was issued (offer a re-issue)."""
    person_id = card.person_id
    after = {"person_id": person_id}
    return (
        Encounter.objects.filter(**after, occurred_at__gt=card.issued_at).exists()
        or HealthSummary.objects.filter(**after, updated_at__gt=card.issued_at).exists()
        or FollowUp.objects.filter(**after, created_at__gt=card.issued_at).exists()
        or FollowUp.objects.filter(**after, done_at__gt=card.issued_at).exists()
        or Consent.objects.filter(**after, recorded_at__gt=card.issued_at).exists()
        or Consent.objects.filter(**after, withdrawn_at__gt=card.issued_at).exists()
    )
