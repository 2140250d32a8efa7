"""Overdue follow-ups on the coordinator's home page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.test import Client
from django.utils import timezone

from routecare.audit.models import AuditEvent
from routecare.conftest import Society, register
from routecare.people import actions
from routecare.people.models import FollowUp


def test_overdue_follow_ups_show_on_the_coordinator_dashboard(
    own: Society, other: Society, web: Callable[..., Client]
) -> None:
    person = register(own)
    follow_up = actions.add_follow_up(
        own.actor(), person, actions.FollowUpInput("insulin refill", timezone.now().date())
    )
    FollowUp.objects.filter(pk=follow_up.pk).update(
        due=timezone.now().date() - dt.timedelta(days=2)
    )
    page = web(own.coordinator, own.point).get("/").content.decode()
    assert "insulin refill" in page
    assert AuditEvent.objects.filter(detail="overdue list", person_id=person.pk).exists()
    assert "insulin refill" not in web(own.volunteer, own.point).get("/").content.decode()
    assert "insulin refill" not in web(other.coordinator, other.point).get("/").content.decode()
    actions.complete_follow_up(own.actor(), follow_up)
    assert "insulin refill" not in web(own.coordinator, own.point).get("/").content.decode()
