"""POST /api/v1/cards/read: the referrals expected here, by the read-a-card page's rules, and a
typed short code looked up as the page does (issue 19 item 14)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client

from routecare.cards.actions import issue_card
from routecare.cards.keys import ensure_keys
from routecare.cards.models import Card
from routecare.conftest import Society, register
from routecare.orgs.models import Membership
from routecare.people.models import Person
from routecare.referrals import actions
from routecare.referrals.actions import Destination
from routecare.referrals.models import Referral


def _give_protection_role(user: User) -> None:
    membership: Membership = user.membership
    membership.protection = True
    membership.save()


@pytest.fixture
def traveller(own: Society) -> Person:
    return register(own, consents=["care", "share-network", "share-partners"], languages=["es"])


@pytest.fixture
def referrals(own: Society, other: Society, traveller: Person) -> dict[str, Referral]:
    """A health and a protection referral from Honduras to Guatemala for the traveller."""
    _give_protection_role(own.coordinator)
    sent = {}
    for kind, role in (("health", "volunteer"), ("protection", "coordinator")):
        sent[kind] = actions.send_referral(
            own.actor(role),
            traveller,
            destination=Destination(point=other.point),
            referral_type=kind,
            service="first-aid" if kind == "health" else "water",
            reason="check",
            urgency="priority",
            idempotency_key=f"key-{kind}-0001",
        )
    return sent


@pytest.fixture
def card(own: Society, traveller: Person) -> Card:
    ensure_keys(own.society.network)
    return issue_card(own.actor(), traveller)


def _expected_ids(answer: dict[str, object]) -> set[str]:
    expected = answer["expected_referrals"]
    assert isinstance(expected, list)
    return {str(referral["id"]) for referral in expected}


def _page_ids(page: bytes) -> set[str]:
    return set(re.findall(r'href="/referrals/([0-9a-f-]{36})/"', page.decode()))


def test_the_api_lists_the_referrals_the_page_shows_without_protection_for_a_volunteer(
    other: Society,
    card: Card,
    referrals: dict[str, Referral],
    api: Callable[..., Client],
    web: Callable[..., Client],
) -> None:
    response = api(other.volunteer, other.point).post(
        "/api/v1/cards/read", {"text": str(card.qr_text)}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["kind"] == "card"
    assert _expected_ids(answer) == {str(referrals["health"].pk)}
    (health,) = answer["expected_referrals"]
    assert health["service"] == "first-aid"
    assert health["from_point"] == referrals["health"].from_point.name
    page = web(other.volunteer, other.point).post("/cards/scan/", {"text": str(card.qr_text)})
    assert _page_ids(page.content) == _expected_ids(answer)


def test_staff_with_the_protection_role_see_protection_referrals_too(
    other: Society,
    card: Card,
    referrals: dict[str, Referral],
    api: Callable[..., Client],
    web: Callable[..., Client],
) -> None:
    _give_protection_role(other.coordinator)
    answer = (
        api(other.coordinator, other.point)
        .post("/api/v1/cards/read", {"text": str(card.qr_text)}, content_type="application/json")
        .json()
    )
    assert _expected_ids(answer) == {str(referral.pk) for referral in referrals.values()}
    page = web(other.coordinator, other.point).post("/cards/scan/", {"text": str(card.qr_text)})
    assert _page_ids(page.content) == _expected_ids(answer)


def test_a_partner_reading_the_card_sees_no_referral(
    other: Society, card: Card, referrals: dict[str, Referral], api: Callable[..., Client]
) -> None:
    response = api(other.partner).post(
        "/api/v1/cards/read", {"text": str(card.qr_text)}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["expected_referrals"] == []


def test_a_typed_short_code_is_looked_up_like_on_the_page(
    own: Society,
    other: Society,
    traveller: Person,
    referrals: dict[str, Referral],
    api: Callable[..., Client],
) -> None:
    compact = traveller.short_code[3:].replace("-", "").lower()
    assert len(compact) == 7
    answer = (
        api(other.volunteer, other.point)
        .post("/api/v1/cards/read", {"text": compact}, content_type="application/json")
        .json()
    )
    assert answer["kind"] == "short_code"
    assert answer["local_person_id"] is None  # Guatemala has no record of its own yet
    assert _expected_ids(answer) == {str(referrals["health"].pk)}

    mine = api(own.volunteer, own.point).post(
        "/api/v1/cards/read", {"text": traveller.short_code}, content_type="application/json"
    )
    assert mine.status_code == 200, mine.content
    assert mine.json() == {
        "kind": "short_code",
        "local_person_id": str(traveller.pk),
        "expected_referrals": [],
    }


def test_an_unknown_short_code_says_so_and_a_partner_is_told_to_scan(
    own: Society, other: Society, traveller: Person, api: Callable[..., Client]
) -> None:
    compact = traveller.short_code[3:].replace("-", "")
    unknown = api(other.volunteer, other.point).post(
        "/api/v1/cards/read", {"text": compact}, content_type="application/json"
    )
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "unknown_short_code"
    assert "short code" in unknown.json()["detail"]
    assert "type the short code" not in unknown.json()["detail"]
    partner = api(own.partner).post(
        "/api/v1/cards/read", {"text": compact}, content_type="application/json"
    )
    assert partner.status_code == 422
    assert partner.json()["code"] == "short_code_not_for_partners"
    assert "scan the card" in partner.json()["detail"]
