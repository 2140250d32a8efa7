"""Editing directory entries (who may, what is refused) and the directory API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from routecare.audit.models import AuditEvent
from routecare.conftest import Society
from routecare.directory import actions
from routecare.orgs.models import Membership, ServicePoint


def test_a_coordinator_marks_their_point_temporarily_closed_and_everyone_sees_it(
    own: Society, web: Callable[..., Client]
) -> None:
    ServicePoint.objects.filter(pk=own.point.pk).update(visibility="public")
    client = web(own.coordinator, own.point)
    response = client.post(f"/directory/{own.point.pk}/status/", {"status": "temporarily-closed"})
    assert response.status_code == 302
    own.point.refresh_from_db()
    assert own.point.status == "temporarily-closed"
    assert own.point.updated_by == own.coordinator
    assert AuditEvent.objects.filter(object_type="service_point", fields=["status"]).exists()
    assert "Temporarily closed" in Client().get(f"/en/services/{own.point.code}/").content.decode()


def test_a_coordinator_assigned_elsewhere_cannot_change_the_point(
    own: Society, web: Callable[..., Client]
) -> None:
    Membership.objects.get(user=own.coordinator).service_points.add(own.second_point)
    response = web(own.coordinator, own.second_point).post(
        f"/directory/{own.point.pk}/status/", {"status": "closed"}
    )
    assert response.status_code == 403
    own.point.refresh_from_db()
    assert own.point.status == "open"


def test_volunteers_cannot_change_points(own: Society, web: Callable[..., Client]) -> None:
    response = web(own.volunteer, own.point).post(
        f"/directory/{own.point.pk}/status/", {"status": "closed"}
    )
    assert response.status_code == 403


def test_verifying_a_point_clears_the_reminder(own: Society, web: Callable[..., Client]) -> None:
    ServicePoint.objects.filter(national_society=own.society).update(
        last_verified=timezone.now().date() - dt.timedelta(days=60)
    )
    client = web(own.focal_point, own.point)
    assert b"stale-points" in client.get("/").content
    for point in ServicePoint.objects.filter(national_society=own.society):
        client.post(f"/directory/{point.pk}/status/", {"verified": "1"})
    assert b"stale-points" not in client.get("/").content


@pytest.mark.parametrize(
    "hours",
    [
        [{"day": 7, "opens": "08:00", "closes": "18:00"}],
        [{"day": 1, "opens": "25:00", "closes": "18:00"}],
        [{"day": 1, "opens": "08:00"}],
        [{"day": 1, "opens": "08:00", "closes": "08:00"}],
        "always",
    ],
)
def test_invalid_hours_are_refused_and_nothing_changes(own: Society, hours: object) -> None:
    with pytest.raises(ValidationError):
        actions.update_service_point(own.actor("focal_point"), own.point, opening_hours=hours)
    own.point.refresh_from_db()
    assert own.point.opening_hours == []


def test_api_lists_and_edits_points(
    own: Society, other: Society, api: Callable[..., Client]
) -> None:
    ServicePoint.objects.filter(pk=own.point.pk).update(visibility="public")
    public = Client().get("/api/v1/public/service-points?country=HN")
    assert public.status_code == 200
    assert [p["code"] for p in public.json()] == [own.point.code]
    assert "capacity" not in public.json()[0]
    staff = api(other.volunteer, other.point).get("/api/v1/directory/service-points")
    codes = {p["code"] for p in staff.json()}
    assert {own.point.code, own.second_point.code, other.point.code} <= codes
    focal = api(own.focal_point, own.point)
    changed = focal.patch(
        f"/api/v1/directory/service-points/{own.point.pk}",
        {
            "status": "temporarily-closed",
            "opening_hours": [{"day": 0, "opens": "08:00", "closes": "12:00"}],
        },
        content_type="application/json",
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["status"] == "temporarily-closed"
    refused = focal.patch(
        f"/api/v1/directory/service-points/{own.point.pk}",
        {"latitude": 123},
        content_type="application/json",
    )
    assert refused.status_code == 422
    foreign = api(other.focal_point, other.point).patch(
        f"/api/v1/directory/service-points/{own.point.pk}",
        {"status": "closed"},
        content_type="application/json",
    )
    assert foreign.status_code == 403
    own.point.refresh_from_db()
    assert own.point.status == "temporarily-closed"


def test_unknown_fields_in_an_edit_are_refused(own: Society, api: Callable[..., Client]) -> None:
    response = api(own.focal_point, own.point).patch(
        f"/api/v1/directory/service-points/{own.point.pk}",
        {"stauts": "closed"},
        content_type="application/json",
    )
    assert response.status_code == 422
    own.point.refresh_from_db()
    assert own.point.status == "open"
