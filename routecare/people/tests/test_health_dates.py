"""Health summary dates are judged around the time they describe, not the server's clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from routecare.conftest import Society, register
from routecare.people import actions
from routecare.people.models import HealthSummary


@pytest.fixture(autouse=True)
def in_english() -> Iterator[None]:
    """The messages compared below are the English ones, whatever an earlier test left."""
    with translation.override("en"):
        yield


def test_values_carried_from_an_earlier_time_are_judged_around_it(own: Society) -> None:
    person = register(own)
    issued = timezone.now() - dt.timedelta(days=120)
    # Expected a month after a card issued four months ago: three months past today.
    carried = {"pregnancy": {"weeks": 36, "expected_date": (issued + dt.timedelta(days=30))
                             .date().isoformat()}}  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        actions.update_health_summary(own.actor(), person, **carried)
    assert "pregnancy.expected_date" in refused.value.message_dict
    assert not HealthSummary.objects.filter(person=person).exists()

    actions.update_health_summary_as_of(own.actor(), person, issued, carried)
    assert HealthSummary.objects.get(person=person).pregnancy == carried["pregnancy"]


def test_a_summary_from_a_form_or_an_import_is_checked_like_the_api(own: Society) -> None:
    person = register(own)
    with pytest.raises(ValidationError) as refused:
        actions.update_health_summary(
            own.actor(), person, allergies=["penicillin", ""], vaccinations=[
                {"vaccine": "measles", "given_on": "9999-01-01"}
            ],
        )  # fmt: skip
    assert set(refused.value.message_dict) == {"allergies.1", "vaccinations.0.given_on"}
    assert refused.value.message_dict["vaccinations.0.given_on"] == [
        "The date cannot be in the future."
    ]
    assert not HealthSummary.objects.filter(person=person).exists()
