"""Referrals: consent-limited data, overrides, restricted types, the receiving inbox, answers,
expiry and idempotency."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.test import Client
from django.utils import timezone

from routecare.audit.models import AuditEvent
from routecare.cards.actions import issue_card
from routecare.cards.keys import ensure_keys
from routecare.conftest import Society, register
from routecare.orgs.models import Membership
from routecare.people import actions as people_actions
from routecare.people import selectors as people_selectors
from routecare.people.models import Person
from routecare.referrals import actions, selectors
from routecare.referrals.actions import Destination
from routecare.referrals.models import Referral


@pytest.fixture
def pregnant(own: Society) -> Person:
    person = register(own, consents=["care", "share-network"], languages=["es"])
    people_actions.update_health_summary(
        own.actor(),
        person,
        allergies=["penicillin"],
        pregnancy={"weeks": 30, "expected_date": None},
    )
    return person


def _send(society: Society, person: Person, **overrides: Any) -> Referral:
    values: dict[str, Any] = {
        "destination": Destination(point=overrides.pop("to", None) or society.second_point),
        "referral_type": "health",
        "service": "water",
        "reason": "antenatal check",
        "urgency": "priority",
        "fields": ["pregnancy", "allergies"],
        "idempotency_key": overrides.pop("key", "key-00001"),
    }
    values.update(overrides)
    role = values.pop("role", "volunteer")
    return actions.send_referral(society.actor(role), person, **values)


def test_a_cross_border_referral_carries_only_the_chosen_fields(
    own: Society, other: Society, pregnant: Person
) -> None:
    referral = _send(own, pregnant, to=other.point)
    assert referral.shared == {
        "allergies": ["penicillin"],
        "pregnancy": {"weeks": 30, "expected_date": None},
    }
    assert referral.to_society == other.society
    seen = selectors.get_referral(other.actor(), referral.pk)
    assert seen.short_code == pregnant.short_code
    assert AuditEvent.objects.filter(object_type="referral", action="share").exists()
    # The receiver reads the referral, never the sender's record.
    with pytest.raises(Http404):
        people_selectors.get_person(other.actor(), pregnant.pk)


def test_without_consent_to_share_a_cross_border_referral_is_refused(
    own: Society, other: Society
) -> None:
    person = register(own)
    with pytest.raises(ValidationError, match="has not agreed"):
        _send(own, person, to=other.point)
    assert not Referral.objects.exists()
    # Within the society, care consent is enough.
    assert _send(own, person).consent_basis == "consent"


def test_a_focal_point_may_override_with_a_written_reason(own: Society, other: Society) -> None:
    person = register(own)
    with pytest.raises(ValidationError, match="Only a focal point"):
        _send(own, person, to=other.point, override_reason="life-threatening results")
    referral = _send(
        own, person, to=other.point, override_reason="life-threatening results", role="focal_point"
    )
    assert referral.consent_basis == "override"
    assert referral.override_by == own.focal_point
    assert (
        "consent overridden"
        in AuditEvent.objects.get(action="share", object_type="referral").detail
    )


def test_consent_withdrawal_stops_new_referrals_at_once(
    own: Society, other: Society, pregnant: Person
) -> None:
    _send(own, pregnant, to=other.point)
    people_actions.withdraw_consent(own.actor(), pregnant, "share-network")
    with pytest.raises(ValidationError):
        _send(own, pregnant, to=other.point, key="key-00002")
    people_actions.withdraw_consent(own.actor(), pregnant, "care")
    with pytest.raises(ValidationError):
        _send(own, pregnant, key="key-00003")
    assert Referral.objects.count() == 1


def test_a_double_submit_makes_one_referral(own: Society, pregnant: Person) -> None:
    first = _send(own, pregnant)
    again = _send(own, pregnant)
    assert first == again
    assert Referral.objects.count() == 1


def test_a_point_without_the_service_needs_a_reason(own: Society, pregnant: Person) -> None:
    with pytest.raises(ValidationError, match="does not list this service"):
        _send(own, pregnant, service="shelter")
    referral = _send(own, pregnant, service="shelter", service_warning_reason="only one nearby")
    assert str(referral.service_warning_reason) == "only one nearby"


def test_protection_referrals_are_for_protection_staff_only(
    own: Society, other: Society, pregnant: Person
) -> None:
    with pytest.raises(ValidationError, match="protection role"):
        _send(own, pregnant, to=other.point, referral_type="protection")
    Membership.objects.filter(user=own.volunteer).update(protection=True)
    own.volunteer.refresh_from_db()
    referral = _send(own, pregnant, to=other.point, referral_type="protection")
    # Invisible to staff without the role, at both ends; visible with it.
    assert selectors.inbox(other.actor()) == []
    assert selectors.outbox(own.actor("coordinator")) == []
    with pytest.raises(Http404):
        selectors.get_referral(other.actor("coordinator"), referral.pk)
    assert selectors.expected(other.actor(), pregnant.short_code) == []
    Membership.objects.filter(user=other.coordinator).update(protection=True)
    other.coordinator.refresh_from_db()
    assert selectors.inbox(other.actor("coordinator")) == [referral]


def test_family_links_requests_reach_the_rfl_focal_point(
    own: Society, other: Society, pregnant: Person
) -> None:
    referral = actions.send_referral(
        own.actor(),
        pregnant,
        destination=Destination(society=other.society),
        referral_type="rfl",
        service="rfl",
        reason="looking for her brother",
        idempotency_key="rfl-000001",
    )
    assert selectors.inbox(other.actor("coordinator")) == []
    Membership.objects.filter(user=other.focal_point).update(rfl_focal_point=True)
    other.focal_point.refresh_from_db()
    assert selectors.inbox(other.actor("focal_point")) == [referral]


def test_answers_follow_the_workflow(own: Society, other: Society, pregnant: Person) -> None:
    referral = _send(own, pregnant, to=other.point)
    receiver, sender = other.actor("coordinator"), own.actor()
    with pytest.raises(ValidationError):
        actions.respond(sender, referral, "accept")  # only the receiver accepts
    with pytest.raises(ValidationError):
        actions.respond(receiver, referral, "complete", "done")  # not accepted yet
    actions.respond(receiver, referral, "accept")
    with pytest.raises(ValidationError, match="outcome"):
        actions.respond(receiver, referral, "complete")
    done = actions.respond(receiver, referral, "complete", "antenatal check done, all well")
    assert done.status == "completed"
    statuses = [r.status for r in selectors.get_referral(sender, referral.pk).responses.all()]
    assert statuses == ["sent", "accepted", "completed"]


def test_unanswered_referrals_expire_after_their_due_date(
    own: Society, other: Society, pregnant: Person
) -> None:
    referral = _send(own, pregnant, to=other.point, due=timezone.now().date())
    assert actions.expire_overdue(timezone.now() + dt.timedelta(days=2)) == 1
    referral.refresh_from_db()
    assert referral.status == "expired"


def test_an_expected_referral_appears_when_the_card_is_scanned(
    own: Society, other: Society, pregnant: Person, web: Callable[..., Client]
) -> None:
    ensure_keys(own.society.network)
    card = issue_card(own.actor(), pregnant)
    _send(own, pregnant, to=other.point)
    page = web(other.volunteer, other.point).post("/cards/scan/", {"text": str(card.qr_text)})
    assert b"expected-referrals" in page.content
    typed = web(other.volunteer, other.point).post("/cards/scan/", {"text": pregnant.short_code})
    assert b"expected-referrals" in typed.content


def test_web_send_inbox_and_answer(
    own: Society, other: Society, pregnant: Person, web: Callable[..., Client]
) -> None:
    sender = web(own.volunteer, own.point)
    form = sender.get(f"/people/{pregnant.pk}/referrals/new/")
    assert form.status_code == 200
    response = sender.post(
        f"/people/{pregnant.pk}/referrals/new/",
        {
            "destination": f"point:{other.point.pk}",
            "type": "health",
            "service": "water",
            "reason": "check",
            "urgency": "emergency",
            "shared_fields": ["allergies"],
            "idempotency_key": "web-key-0001",
        },
    )
    assert response.status_code == 302
    referral = Referral.objects.get()
    receiver = web(other.coordinator, other.point)
    assert str(referral.pk).encode() in receiver.get("/referrals/").content
    receiver.post(f"/referrals/{referral.pk}/respond/", {"action": "accept"})
    assert b"Accepted" in sender.get(f"/referrals/{referral.pk}/").content


def test_metrics_count_by_status_and_segment(
    own: Society, other: Society, pregnant: Person, api: Callable[..., Client]
) -> None:
    referral = _send(own, pregnant, to=other.point)
    actions.respond(other.actor("coordinator"), referral, "accept")
    _send(own, pregnant, key="key-00009")
    figures = api(own.volunteer, own.point).get("/api/v1/referrals/metrics?days=7").json()
    assert figures["sent"] == 2
    assert figures["by_status"]["accepted"] == 1
    assert figures["by_segment"] == {"HN → GT": 1, "HN → HN": 1}
    assert figures["median_hours_to_accept"] is not None
    assert b"referral-metrics" in web_page(own)


def web_page(society: Society) -> bytes:
    from routecare.conftest import sign_in_client

    return sign_in_client(society.volunteer, society.point).get("/referrals/").content


def test_receivers_are_reminded_of_an_unanswered_referral(
    own: Society, other: Society, pregnant: Person
) -> None:
    from routecare.notifications.models import Notification

    referral = _send(own, pregnant, to=other.point, due=timezone.now().date())
    before = Notification.objects.filter(user=other.coordinator).count()
    assert actions.remind(referral.pk)
    assert Notification.objects.filter(user=other.coordinator).count() == before + 1
    actions.respond(other.actor("coordinator"), referral, "accept")
    assert not actions.remind(referral.pk)


def test_the_worker_schedules_expiry_and_reminder_for_a_due_date(
    own: Society,
    other: Society,
    pregnant: Person,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    with django_capture_on_commit_callbacks(execute=True):
        _send(own, pregnant, to=other.point, due=timezone.now().date() + dt.timedelta(days=3))
    names = sorted(DBTaskResult.objects.values_list("task_path", flat=True))
    assert any(name.endswith("expire_referral") for name in names)
    assert any(name.endswith("remind_referral") for name in names)
