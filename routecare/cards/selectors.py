"""Scoped reads of cards: only the acting user's society's cards, each read audited."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy

from routecare.access import Actor
from routecare.audit.actions import record_event
from routecare.cards.keys import DatabaseKeys
from routecare.cards.models import Card
from routecare.cards.summary import CardSummary, read_text
from routecare.people import selectors as people_selectors
from routecare.people import shortcode
from routecare.people.models import Consent, Encounter, FollowUp, HealthSummary, Person
from routecare.referrals import selectors as referral_selectors
from routecare.referrals.models import Referral


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


SHORT_CODE_UNKNOWN = gettext_lazy(
    "No one with that short code is registered in your National Society."
)
SHORT_CODE_NOT_FOR_PARTNERS = gettext_lazy(
    "Partner organisations cannot look people up by short code: scan the card or upload a "
    "photo of it."
)


def is_short_code(text: str) -> bool:
    """Whether typed text is a short code (``RC-7K3M-9Q4``, ``7k3m9q4``), not a card's QR text."""
    return shortcode.normalise(text) is not None and len(text) <= 16


@dataclass(frozen=True)
class TypedCode:
    """What a typed short code finds: the reader's own record, and referrals expected here."""

    person: Person | None = None
    expected: list[Referral] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return self.person is not None or bool(self.expected)


def look_up_typed_code(actor: Actor, text: str) -> TypedCode:
    """The same look-up for the read-a-card page and the API; only staff with records (a
    partner has no records to look up and receives referrals by link)."""
    if not actor.handles_personal_records:
        return TypedCode()
    lookup = people_selectors.find_by_short_code(actor, text)
    return TypedCode(person=lookup.person, expected=expected_referrals(actor, text))


def expected_referrals(actor: Actor, short_code: str) -> list[Referral]:
    """Open referrals to the actor's society for this code: protection referrals only for staff
    with the protection role, none for partners (``referrals.selectors`` decides)."""
    if not actor.handles_personal_records:
        return []
    return referral_selectors.expected(actor, short_code)
