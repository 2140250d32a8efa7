"""Notifications and emails about referrals: the right people, and no personal data."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client

from routecare.conftest import Society, register
from routecare.notifications.models import Notification
from routecare.orgs.models import Membership
from routecare.people import actions as people_actions
from routecare.referrals import actions
from routecare.referrals.actions import Destination


def _refer(own: Society, other: Society, **values: Any) -> Any:
    person = register(own, consents=["care", "share-network"])
    people_actions.update_health_summary(own.actor(), person, allergies=["penicillin"])
    defaults: dict[str, Any] = {
        "destination": Destination(point=other.point),
        "referral_type": "health",
        "service": "water",
        "reason": "dehydrated child",
        "urgency": "emergency",
        "fields": ["allergies"],
        "idempotency_key": "notify-0001",
    }
    defaults.update(values)
    role = defaults.pop("role", "volunteer")
    return person, actions.send_referral(own.actor(role), person, **defaults)


def test_a_new_referral_notifies_the_receivers_by_app_and_email(
    own: Society, other: Society, django_capture_on_commit_callbacks: Any
) -> None:
    for user in (other.coordinator, other.focal_point, other.volunteer):
        user.email = f"{user.username}@example.org"
        user.save()
    with django_capture_on_commit_callbacks(execute=True):
        person, referral = _refer(own, other)
    notified = set(Notification.objects.values_list("user__username", flat=True))
    assert notified == {other.coordinator.username, other.focal_point.username}
    assert len(mail.outbox) == 2
    for message in mail.outbox:
        assert f"/referrals/{referral.pk}/" in message.body
        assert person.short_code not in str(message.body) + str(message.subject)
        assert "penicillin" not in message.body
        assert "dehydrated" not in message.body


def test_protection_referrals_notify_protection_staff_with_no_detail(
    own: Society, other: Society, django_capture_on_commit_callbacks: Any
) -> None:
    Membership.objects.filter(user__in=[own.volunteer, other.coordinator]).update(protection=True)
    own.volunteer.refresh_from_db()
    other.coordinator.email = "coord@example.org"
    other.coordinator.save()
    other.focal_point.email = "focal@example.org"
    other.focal_point.save()
    with django_capture_on_commit_callbacks(execute=True):
        _refer(
            own,
            other,
            referral_type="protection",
            service="protection",
            service_warning_reason="the only protection team near",
        )
    notifications = list(Notification.objects.all())
    assert [n.user for n in notifications] == [other.coordinator]
    assert notifications[0].title == "Urgent referral"
    assert len(mail.outbox) == 1
    assert "rotection" not in str(mail.outbox[0].subject) + str(mail.outbox[0].body)


def test_the_sender_is_told_of_every_answer(own: Society, other: Society) -> None:
    _person, referral = _refer(own, other)
    actions.respond(other.actor("coordinator"), referral, "accept")
    told = Notification.objects.filter(user=own.volunteer)
    assert [n.title for n in told] == ["Referral Accepted: Water (Emergency)"]


def test_the_centre_lists_and_opens_notifications(
    own: Society, other: Society, web: Callable[..., Client]
) -> None:
    _person, referral = _refer(own, other)
    client = web(other.coordinator, other.point)
    page = client.get("/notifications/")
    assert b"Urgent referral" in page.content
    assert b"(1)" in client.get("/").content
    notification = Notification.objects.get(user=other.coordinator)
    opened = client.post(f"/notifications/{notification.pk}/")
    assert opened["Location"] == f"/referrals/{referral.pk}/"
    assert b"(1)" not in client.get("/").content
    # Someone else's notification does not exist for this user.
    assert (
        web(own.volunteer, own.point).post(f"/notifications/{notification.pk}/").status_code == 404
    )


# The worker closes database connections between tasks, as it should: a committed test.
@pytest.mark.django_db(transaction=True)
def test_the_worker_sends_queued_emails(
    own: Society, other: Society, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    other.coordinator.email = "coord@example.org"
    other.coordinator.save()
    with django_capture_on_commit_callbacks(execute=True):
        _refer(own, other)
    assert mail.outbox == []  # queued, not sent in the request
    call_command(
        "db_worker", "--batch", "--no-startup-delay", stdout=io.StringIO(), stderr=io.StringIO()
    )
    assert len(mail.outbox) == 1
