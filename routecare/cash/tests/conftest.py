"""A round in which both test societies ("own", "other") take part, and enrolment helpers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from routecare.cash import actions
from routecare.cash.models import CashEnrolment, CashRound
from routecare.conftest import Society
from routecare.people.models import Person

TODAY = timezone.now().date()


def make_round(society: Society, *others: Society, **overrides: Any) -> CashRound:
    values: dict[str, Any] = {
        "name": "Onward transport",
        "starts_on": TODAY - dt.timedelta(days=3),
        "ends_on": TODAY + dt.timedelta(days=30),
        "amount": Decimal("50.00"),
        "currency": "USD",
        "participant_ids": [society.society.pk, *(other.society.pk for other in others)],
    }
    values.update(overrides)
    return actions.create_round(society.actor("coordinator"), actions.RoundInput(**values))


@pytest.fixture
def shared_round(own: Society, other: Society) -> CashRound:
    return make_round(own, other)


def enrol(
    society: Society,
    cash_round: CashRound,
    person: Person,
    given_names: str,
    surnames: str,
    birth_date: str,
    sex: str = "male",
    role: str = "volunteer",
) -> CashEnrolment:
    return actions.enrol_person(
        society.actor(role), cash_round, person, given_names=given_names, surnames=surnames,
        birth_date=dt.date.fromisoformat(birth_date), sex=sex,
    )  # fmt: skip
