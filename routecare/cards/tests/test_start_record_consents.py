"""Starting a record from another society's card: only consents the card carries can be
confirmed, never silently, and a refused form returns to the card's result (issue 19 item 13)."""

from __future__ import annotations

from collections.abc import Callable

from django.test import Client

from routecare.cards import actions as card_actions
from routecare.cards.keys import ensure_keys
from routecare.cards.models import Card
from routecare.conftest import Society
from routecare.people import actions
from routecare.people.models import Consent, Person


def _card(other: Society) -> Card:
    ensure_keys(other.society.network)
    person = actions.register_person(
        other.actor(),
        sex="female",
        age_band="18-59",
        languages=["es"],
        consents=["care", "share-network"],
        consent_language="es",
    )
    return card_actions.issue_card(other.actor(), person)


def test_a_consent_the_card_does_not_carry_cannot_be_confirmed(
    own: Society, other: Society, web: Callable[..., Client]
) -> None:
    card = _card(other)
    client = web(own.volunteer, own.point)
    answer = client.post(
        "/cards/start-record/",
        {
            "text": str(card.qr_text),
            "care_consent": "on",
            "travel_group": "family",
            "consent_language": "es",
            "confirmed": ["share-partners"],
        },
        follow=True,
    )
    assert "The card does not carry that consent." in answer.content.decode()
    assert not Person.objects.filter(national_society=own.society).exists()
    # Back on the card's result, ready to start again without reading the card again.
    assert b'data-testid="card-reading"' in answer.content
    assert b'data-testid="carried-consents"' in answer.content


def test_without_confirmation_only_care_is_recorded(
    own: Society, other: Society, web: Callable[..., Client]
) -> None:
    card = _card(other)
    client = web(own.volunteer, own.point)
    client.post(
        "/cards/start-record/",
        {
            "text": str(card.qr_text),
            "care_consent": "on",
            "travel_group": "unaccompanied-minor",
            "consent_language": "es",
        },
    )
    person = Person.objects.get(national_society=own.society)
    assert person.travel_group == "unaccompanied-minor"
    assert list(Consent.objects.filter(person=person).values_list("purpose", flat=True)) == ["care"]


def test_who_the_person_travels_with_is_asked_never_assumed(
    own: Society, other: Society, web: Callable[..., Client]
) -> None:
    card = _card(other)
    client = web(own.volunteer, own.point)
    answer = client.post(
        "/cards/start-record/",
        {"text": str(card.qr_text), "care_consent": "on", "consent_language": "es"},
        follow=True,
    )
    page = answer.content.decode()
    assert (
        "Say whether the person travels alone, with family, or is an unaccompanied minor." in page
    )
    assert not Person.objects.filter(national_society=own.society).exists()
    assert 'name="travel_group"' in page  # asked on the card's result, nothing chosen
    assert "checked" not in page.split('name="travel_group"')[1][:80]
