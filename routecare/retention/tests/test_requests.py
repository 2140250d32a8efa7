"""Data-subject requests: a focal point shows a person everything held about them, in their
language, and erases it on request; and the retention policy page."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from routecare.audit.models import AuditEvent
from routecare.cards.actions import issue_card
from routecare.cards.keys import ensure_keys
from routecare.cards.models import Card, RevokedSerial
from routecare.conftest import Society, register
from routecare.core import person_texts
from routecare.people import actions
from routecare.people.models import Encounter, HealthSummary, Person
from routecare.retention.models import PurgeRun, RetentionPolicy

REQUESTS = reverse("retention:requests")
ERASE = reverse("retention:erase")
POLICY = reverse("retention:policy")


@pytest.fixture
def person(own: Society) -> Person:
    person = register(own, languages=["fa", "es"], nationality="AF", vulnerabilities=["disability"])
    actions.record_encounter(
        own.actor(), person, services=[("medicines", 2)], notes="asked about insulin"
    )
    actions.update_health_summary(own.actor(), person, allergies=["penicillin"])
    ensure_keys(own.society.network)
    issue_card(own.actor(), person)
    return person


@pytest.fixture
def focal(own: Society, web: Callable[..., Client]) -> Client:
    return web(own.focal_point)


def test_the_focal_point_sees_everything_held_in_the_persons_language(
    focal: Client, person: Person
) -> None:
    response = focal.post(REQUESTS, {"code": person.short_code.lower().replace("-", " ")})
    page = response.content.decode()
    assert response.status_code == 200
    assert 'lang="fa" dir="rtl"' in page
    assert person_texts.text("held_title", "fa") in page
    assert person_texts.text("held_title", "fa") != person_texts.text("held_title", "en")
    assert "penicillin" in page
    assert "asked about insulin" in page
    assert person_texts.service_name("medicines", "fa") in page
    assert person_texts.text("need_disability", "fa") in page
    # Each consent by its short name (the wording the person read is another text).
    assert person_texts.text("consent_care", "fa") in page
    assert person_texts.text("consent_wording_care", "fa") not in page
    assert person.short_code not in response.headers.get("Location", "")
    assert response.headers["Cache-Control"] == "no-store"
    reads = AuditEvent.objects.filter(person_id=person.pk, detail="data-subject request")
    assert reads.filter(object_type="person").exists()
    assert AuditEvent.objects.filter(
        person_id=person.pk, object_type="health_summary", actor__username="hn-focal"
    ).exists()


def test_the_report_can_be_shown_in_another_language(focal: Client, person: Person) -> None:
    response = focal.post(REQUESTS, {"person": str(person.pk), "language": "ht"})
    page = response.content.decode()
    assert 'lang="ht" dir="ltr"' in page
    assert person_texts.text("held_title", "ht") in page


def test_an_unknown_code_changes_nothing_and_says_so(focal: Client, person: Person) -> None:
    response = focal.post(REQUESTS, {"code": "RC-0000-000"})
    assert response.status_code == 200
    assert "No person of your National Society has this code." in response.content.decode()
    assert 'data-testid="held-report"' not in response.content.decode()


@pytest.mark.parametrize(
    "body",
    [
        {"code": ""},
        {"code": "x" * 500},
        {"person": "not-an-id", "language": "fa"},
        {"person": "8c1e0c52-2f4b-4c39-9b7e-0d1e0c52aaaa", "language": "fa"},
        {"person": "8c1e0c52-2f4b-4c39-9b7e-0d1e0c52aaaa", "language": "xx"},
    ],
)
def test_bad_requests_get_an_answer_not_an_error(focal: Client, body: dict[str, str]) -> None:
    response = focal.post(REQUESTS, body)
    assert response.status_code in (200, 302, 404)


def test_another_societys_focal_point_cannot_find_the_person(
    other: Society, web: Callable[..., Client], person: Person
) -> None:
    client = web(other.focal_point)
    response = client.post(REQUESTS, {"code": person.short_code})
    assert "No person of your National Society has this code." in response.content.decode()
    response = client.post(REQUESTS, {"person": str(person.pk), "language": "en"})
    assert response.status_code == 404
    response = client.post(ERASE, {"erase-person": str(person.pk), "erase-code": person.short_code})
    assert response.status_code == 404
    assert Person.objects.filter(pk=person.pk).exists()


@pytest.mark.parametrize("role", ["volunteer", "coordinator", "partner"])
def test_other_roles_cannot_handle_requests(
    own: Society, web: Callable[..., Client], person: Person, role: str
) -> None:
    client = web(getattr(own, role), own.point)
    assert client.post(REQUESTS, {"code": person.short_code}).status_code == 403
    assert (
        client.post(
            ERASE, {"erase-person": str(person.pk), "erase-code": person.short_code}
        ).status_code
        == 403
    )
    assert client.get(POLICY).status_code == 403
    assert Person.objects.filter(pk=person.pk).exists()


def test_erasure_needs_the_code_typed_again(focal: Client, person: Person) -> None:
    response = focal.post(ERASE, {"erase-person": str(person.pk), "erase-code": "RC-0000-000"})
    assert response.status_code == 200
    assert "Nothing was erased." in response.content.decode()
    assert Person.objects.filter(pk=person.pk).exists()
    response = focal.post(ERASE, {"erase-person": str(person.pk), "erase-code": ""})
    assert response.status_code == 200
    assert Person.objects.filter(pk=person.pk).exists()
    assert focal.post(ERASE, {"erase-person": "garbage", "erase-code": "x"}).status_code == 302


def test_erasure_deletes_everything_and_revokes_the_card(focal: Client, person: Person) -> None:
    serial = Card.objects.get(person=person).serial
    response = focal.post(ERASE, {"erase-person": str(person.pk), "erase-code": person.short_code})
    assert response.status_code == 302
    assert not Person.objects.filter(pk=person.pk).exists()
    assert not Encounter.objects.filter(person_id=person.pk).exists()
    assert not HealthSummary.objects.filter(person_id=person.pk).exists()
    assert RevokedSerial.objects.filter(serial=serial, reason="withdrawn").exists()
    erased = AuditEvent.objects.get(action="erase", person_id=person.pk)
    assert erased.actor_username == "hn-focal"
    assert "1 encounters" in erased.detail
    # The earlier events stay as stubs: who did what, when, about an id.
    assert AuditEvent.objects.filter(person_id=person.pk, action="create").exists()


def test_the_focal_point_sets_the_retention_policy(focal: Client, own: Society) -> None:
    response = focal.post(POLICY, {"inactive_months": "0"})
    assert response.status_code == 200
    assert not RetentionPolicy.objects.exists()
    response = focal.post(POLICY, {"purge_enabled": "on"})
    assert "Choose after how many months" in response.content.decode()
    assert not RetentionPolicy.objects.exists()
    response = focal.post(POLICY, {"inactive_months": "18", "purge_enabled": "on"})
    assert response.status_code == 302
    policy = RetentionPolicy.objects.get(national_society=own.society)
    assert (policy.inactive_months, policy.purge_enabled) == (18, True)
    assert AuditEvent.objects.filter(object_type="retention_policy").exists()
    response = focal.post(POLICY, {"count": "1"})
    assert response.status_code == 302
    assert PurgeRun.objects.get().dry_run
    assert "18" in focal.get(POLICY).content.decode()
