"""Withdrawing an encounter: a voiding encounter corrects it with nothing, so it stops
counting (card, daily counts, stock) and stays in the history, struck through."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from routecare.audit.models import AuditEvent
from routecare.cards.build import summary_of
from routecare.conftest import Society, register
from routecare.flows import stock
from routecare.flows.models import StockItem
from routecare.flows.selectors import derived_count
from routecare.people import actions
from routecare.people.models import ConsentPurpose, Encounter, Person


def _encounter(society: Society, person: Person, **values: Any) -> Encounter:
    return actions.record_encounter(
        society.actor(), person, **({"services": [("water", 1)]} | values)
    )


def test_a_volunteer_withdraws_an_encounter_and_the_history_keeps_it_struck_through(
    own: Society, web: Callable[..., Client]
) -> None:
    person = register(own)
    kept = _encounter(own, person, services=[("food", 1)])
    wrong = _encounter(own, person, services=[("first-aid", 2)], notes="wrong person")
    voiding = actions.void_encounter(own.actor(point=own.second_point), wrong, reason="typo")
    assert (voiding.voids, voiding.corrects, voiding.person) == (True, wrong, person)
    assert voiding.service_point == own.second_point
    assert not voiding.services.exists()
    assert list(Encounter.objects.current()) == [kept]
    assert AuditEvent.objects.filter(
        action="create", object_type="encounter", object_id=str(voiding.pk),
        actor=own.volunteer, person_id=person.pk, detail=f"voids {wrong.pk}",
    ).exists()  # fmt: skip
    page = web(own.volunteer, own.point).get(f"/people/{person.pk}/").content.decode()
    assert page.count("<del>") == 1
    assert "wrong person" in page  # the audit trail is not hidden
    assert "withdrawn, not counted" in page
    day = timezone.localtime(wrong.occurred_at).strftime("%Y-%m-%d %H:%M")
    assert f"Encounter of {day} withdrawn: typo" in page


def test_the_api_lists_a_withdrawal_as_such(own: Society, api: Callable[..., Client]) -> None:
    person = register(own)
    voiding = actions.void_encounter(own.actor(), _encounter(own, person), reason="duplicate")
    listed = api(own.volunteer, own.point).get(f"/api/v1/people/{person.pk}/encounters").json()
    assert {(row["id"], row["voids"]) for row in listed} == {
        (str(voiding.pk), True), (str(voiding.corrects_id), False)
    }  # fmt: skip


def test_staff_of_another_society_or_without_records_cannot_withdraw(
    own: Society, other: Society, outsider: Society
) -> None:
    encounter = _encounter(own, register(own))
    for actor in (other.actor(), outsider.actor("focal_point"), own.actor("partner")):
        with pytest.raises(PermissionError):
            actions.void_encounter(actor, encounter, reason="not ours")
    assert Encounter.objects.count() == 1
    assert not AuditEvent.objects.filter(object_type="encounter", detail__startswith="voids")


def test_an_encounter_is_withdrawn_once_and_a_withdrawal_is_no_encounter(own: Society) -> None:
    person = register(own)
    encounter = _encounter(own, person)
    with pytest.raises(ValidationError, match="Say why"):
        actions.void_encounter(own.actor(), encounter, reason="  ")
    with pytest.raises(ValidationError, match="1000 characters or fewer"):
        actions.void_encounter(own.actor(), encounter, reason="x" * 1001)
    voiding = actions.void_encounter(own.actor(), encounter, reason="duplicate")
    with pytest.raises(ValidationError, match="already corrected or withdrawn"):
        actions.void_encounter(own.actor("coordinator"), encounter, reason="again")
    with pytest.raises(ValidationError, match="withdrawal of an encounter, not an encounter"):
        actions.void_encounter(own.actor(), voiding, reason="undo")
    with pytest.raises(ValidationError, match="record a new encounter"):
        _encounter(own, person, corrects=voiding)
    corrected = _encounter(own, person)
    _encounter(own, person, services=[("food", 1)], corrects=corrected)
    with pytest.raises(ValidationError, match="already corrected or withdrawn"):
        actions.void_encounter(own.actor(), corrected, reason="late")
    assert Encounter.objects.count() == 4
    assert Encounter.objects.current().count() == 1


def test_a_withdrawn_encounter_and_its_withdrawal_are_not_on_the_card(own: Society) -> None:
    person = register(own)
    earlier = timezone.now() - dt.timedelta(days=2)
    _encounter(own, person, services=[("first-aid", 1)], triage="red", occurred_at=earlier)
    later = _encounter(own, person, services=[("water", 1)], triage="green")
    actions.void_encounter(own.actor(), later, reason="recorded twice")
    summary, _shortened = summary_of(
        person, serial="0" * 16, issued_at=timezone.now(), issued_at_point=own.point.code,
        consents={ConsentPurpose.CARE, ConsentPurpose.SHARE_NETWORK},
    )  # fmt: skip
    assert [(e.date, e.services) for e in summary.encounters] == [(earlier.date(), ["first-aid"])]
    assert summary.triage == "red"


def test_withdrawn_encounters_leave_the_counts_derived_from_encounters(own: Society) -> None:
    first, second = register(own), register(own)
    _encounter(own, first)
    actions.void_encounter(own.actor(), _encounter(own, second), reason="duplicate")
    assert derived_count(own.point, timezone.now().date()).people == 1


def test_withdrawing_gives_back_the_stock_the_encounter_holds_even_after_a_correction(
    own: Society, django_capture_on_commit_callbacks: Any
) -> None:
    item = stock.save_item(
        own.actor("coordinator"), own.point, kind="water", name="Water 1.5 l",
        unit="bottles", minimum=1, service="water", level=20,
    )  # fmt: skip
    person = register(own)
    with django_capture_on_commit_callbacks(execute=True):
        first = _encounter(own, person, services=[("water", 5)])
    with django_capture_on_commit_callbacks(execute=True):
        correction = _encounter(own, person, services=[("water", 3)], corrects=first)
    item.refresh_from_db()
    assert item.level == 17
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        actions.void_encounter(own.actor(), correction, reason="never came")
    assert len(callbacks) == 1
    item.refresh_from_db()
    assert item.level == 20
    assert StockItem.objects.get(pk=item.pk).movements.filter(change=3).count() == 1
