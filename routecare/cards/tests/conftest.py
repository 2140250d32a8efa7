from __future__ import annotations

import pytest

from routecare.cards.keys import ensure_keys
from routecare.conftest import Society, register
from routecare.people import actions
from routecare.people.models import Person


@pytest.fixture
def keys(own: Society, other: Society) -> None:
    ensure_keys(own.society.network)


@pytest.fixture
def carrier(own: Society, keys: None) -> Person:
    """A person of the "own" society who agreed to share with the network and with partners."""
    person = register(
        own,
        languages=["fa", "en"],
        consents=["care", "share-network", "share-partners"],
        birth_year=1990,
    )
    actions.record_encounter(
        own.actor(),
        person,
        services=[("first-aid", 1), ("water", 2)],
        triage="red",
        follow_up=actions.FollowUpInput("needs insulin refill", urgency="emergency"),
    )
    actions.update_health_summary(
        own.actor(),
        person,
        allergies=["penicillin"],
        conditions=["type 1 diabetes"],
        medicines=[{"name": "insulin", "dose": "20 units", "days_supply": 3}],
    )
    return person


def fill_beyond_a_card(society: Society, person: Person) -> None:
    """More than any card holds: twelve visits with long follow-ups, twenty long allergies and
    conditions (the issuer trims them to the largest card it makes)."""
    for n in range(12):
        actions.record_encounter(
            society.actor(),
            person,
            services=[("first-aid", 1), ("water", 1), ("food", 1), ("nfi", 1)],
            follow_up=actions.FollowUpInput(f"follow-up number {n} " + "x" * 400),
        )
    actions.update_health_summary(
        society.actor(),
        person,
        allergies=[f"allergy {n} to something long enough" for n in range(20)],
        conditions=[f"condition {n} described at length" for n in range(20)],
    )
