import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from routecare.audit.models import AuditEvent
from routecare.conftest import Society, register
from routecare.people import actions
from routecare.people.models import Encounter, EncounterService, FollowUp, Person


def test_volunteer_records_an_encounter_with_a_follow_up(
    own: Society, web: Callable[..., Client]
) -> None:
    person = register(own)
    client = web(own.volunteer, own.second_point)
    response = client.post(
        f"/people/{person.pk}/encounters/new/",
        {
            "service-first-aid": "1",
            "service-medicines": "10",
            "triage": "yellow",
            "notes": "sprained ankle",
            "follow_up_text": "Re-check the ankle in 48 h",
            "follow_up_urgency": "priority",
            "follow_up_due": (timezone.now().date() + dt.timedelta(days=2)).isoformat(),
        },
    )
    assert response.status_code == 302
    encounter = Encounter.objects.get(person=person)
    assert encounter.service_point == own.second_point
    assert sorted(encounter.services.values_list("service", "quantity")) == [
        ("first-aid", 1),
        ("medicines", 10),
    ]
    assert FollowUp.objects.get(person=person).text == "Re-check the ankle in 48 h"
    page = client.get(f"/people/{person.pk}/").content.decode()
    assert "Re-check the ankle in 48 h" in page
    assert "sprained ankle" in page
    assert AuditEvent.objects.filter(object_type="encounter", action="create").count() == 1
    assert AuditEvent.objects.filter(object_type="follow_up", action="create").count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, b"Enter a quantity for at least one service delivered."),
        ({"service-first-aid": "-3"}, b"greater than or equal to 0"),
        ({"service-first-aid": "1", "triage": "purple"}, b"Select a valid choice"),
        ({"service-first-aid": "1", "follow_up_due": "2020-01-01", "follow_up_text": "x"},
         b"The due date is in the past."),
        ({"service-first-aid": "1", "follow_up_due": "tomorrow"}, b"Enter a valid date."),
        ({"service-first-aid": "1", "notes": "n" * 1001}, b"at most 1000 characters"),
    ],
)  # fmt: skip
def test_bad_encounters_are_explained_and_write_nothing(
    own: Society, web: Callable[..., Client], data: dict[str, Any], message: bytes
) -> None:
    person = register(own)
    response = web(own.volunteer, own.point).post(f"/people/{person.pk}/encounters/new/", data)
    assert response.status_code == 200
    assert message in response.content
    assert Encounter.objects.count() == 0
    assert FollowUp.objects.count() == 0


def test_encounters_are_immutable(own_person: Person) -> None:
    encounter = Encounter.objects.get(person=own_person)
    encounter.triage = "red"
    with pytest.raises(PermissionError):
        encounter.save()
    with pytest.raises(PermissionError):
        encounter.delete()


def test_a_correction_is_a_new_encounter(own: Society, own_person: Person) -> None:
    original = Encounter.objects.get(person=own_person)
    correction = actions.record_encounter(
        own.actor(), own_person, services=[("first-aid", 2)], corrects=original
    )
    assert correction.corrects == original
    assert Encounter.objects.filter(person=own_person).count() == 2


def test_actions_reject_bad_values_without_writing(own: Society, own_person: Person) -> None:
    before = Encounter.objects.count()
    bad_values: list[dict[str, Any]] = [
        {"services": []},
        {"services": [("teleportation", 1)]},
        {"services": [("water", 0)]},
        {"services": [("water", 1)], "triage": "blue"},
        {"services": [("water", 1)], "occurred_at": timezone.now() + dt.timedelta(days=1)},
        {"services": [("water", 1)], "follow_up": actions.FollowUpInput("  ")},
    ]
    for kwargs in bad_values:
        with pytest.raises(ValidationError):
            actions.record_encounter(own.actor(), own_person, **kwargs)
    assert Encounter.objects.count() == before
    assert EncounterService.objects.filter(encounter__person=own_person).count() == 1


def test_api_records_and_lists_encounters(
    own: Society, own_person: Person, api: Callable[..., Client]
) -> None:
    client = api(own.volunteer, own.point)
    response = client.post(
        f"/api/v1/people/{own_person.pk}/encounters",
        {
            "services": [{"service": "water", "quantity": 2}],
            "triage": "green",
            "follow_up": {"text": "needs insulin refill", "urgency": "emergency"},
        },
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json()["services"] == [{"service": "water", "quantity": 2}]
    listed = client.get(f"/api/v1/people/{own_person.pk}/encounters").json()
    assert len(listed) == 2
    follow_ups = client.get(f"/api/v1/people/{own_person.pk}/follow-ups").json()
    assert {f["text"] for f in follow_ups} == {"re-check dressing", "needs insulin refill"}


def test_api_encounter_bad_bodies_answer_422(
    own: Society, own_person: Person, api: Callable[..., Client]
) -> None:
    client = api(own.volunteer, own.point)
    bodies: list[dict[str, Any]] = [
        {"services": []},
        {"services": [{"service": "water", "quantity": 0}]},
        {"services": [{"service": "nope"}]},
        {"services": [{"service": "water"}], "occurred_at": "2999-01-01T00:00:00Z"},
        {"services": [{"service": "water"}], "follow_up": {"text": ""}},
        {"services": "water"},
    ]
    for body in bodies:
        response = client.post(
            f"/api/v1/people/{own_person.pk}/encounters", body, content_type="application/json"
        )
        assert response.status_code == 422, body
    assert Encounter.objects.filter(person=own_person).count() == 1


def test_follow_ups_can_be_marked_done(
    own: Society, own_person: Person, web: Callable[..., Client]
) -> None:
    follow_up = FollowUp.objects.get(person=own_person)
    response = web(own.volunteer, own.point).post(
        f"/people/{own_person.pk}/follow-ups/{follow_up.pk}/done/"
    )
    follow_up.refresh_from_db()
    assert response.status_code == 302
    assert follow_up.done_at is not None
    assert follow_up.done_by == own.volunteer


def test_follow_up_of_another_person_is_not_found(
    own: Society, own_person: Person, web: Callable[..., Client]
) -> None:
    someone_else = register(own)
    follow_up = FollowUp.objects.get(person=own_person)
    response = web(own.volunteer, own.point).post(
        f"/people/{someone_else.pk}/follow-ups/{follow_up.pk}/done/"
    )
    follow_up.refresh_from_db()
    assert response.status_code == 404
    assert follow_up.done_at is None


def test_api_encounter_times_need_a_time_zone_and_a_recent_date(
    own: Society, own_person: Person, api: Callable[..., Client]
) -> None:
    client = api(own.volunteer, own.point)
    for occurred_at in ("2026-01-01T10:00:00", "2026-01-01", "0001-01-01T00:00:00Z"):
        response = client.post(
            f"/api/v1/people/{own_person.pk}/encounters",
            {"services": [{"service": "water"}], "occurred_at": occurred_at},
            content_type="application/json",
        )
        assert response.status_code == 422, occurred_at
    assert Encounter.objects.filter(person=own_person).count() == 1


def test_nothing_more_is_recorded_after_care_consent_is_withdrawn(
    own: Society, own_person: Person
) -> None:
    actions.withdraw_consent(own.actor(), own_person, "care")
    with pytest.raises(ValidationError):
        actions.record_encounter(own.actor(), own_person, services=[("water", 1)])
    with pytest.raises(ValidationError):
        actions.update_health_summary(own.actor(), own_person, allergies=["latex"])
    with pytest.raises(ValidationError):
        actions.add_follow_up(own.actor(), own_person, actions.FollowUpInput("x"))
    actions.give_consent(own.actor(), own_person, "care", "es")
    actions.record_encounter(own.actor(), own_person, services=[("water", 1)])
    assert Encounter.objects.filter(person=own_person).count() == 2


def test_encounters_cannot_be_changed_in_bulk(own_person: Person) -> None:
    with pytest.raises(PermissionError):
        Encounter.objects.filter(person=own_person).update(triage="red")
    with pytest.raises(PermissionError):
        Encounter.objects.filter(person=own_person).delete()


def test_actions_refuse_a_person_of_another_society(own: Society, other_person: Person) -> None:
    with pytest.raises(PermissionError):
        actions.record_encounter(own.actor(), other_person, services=[("water", 1)])
