from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.test import Client

from routecare.audit.models import AuditEvent
from routecare.conftest import Society
from routecare.orgs.models import Membership, ServicePoint


def _point_form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Danlí HSP",
        "code": "hn-danli",
        "kind": "fixed-hsp",
        "status": "open",
        "visibility": "public",
        "latitude": "14.0333",
        "longitude": "-86.5833",
        "services": ["first-aid", "water"],
        "languages": ["es"],
        "opens_0": "08:00",
        "closes_0": "17:00",
    }
    data.update(overrides)
    return data


def test_focal_point_adds_a_service_point(own: Society, web: Callable[..., Client]) -> None:
    response = web(own.focal_point).post("/orgs/service-points/new/", _point_form())
    assert response.status_code == 302
    point = ServicePoint.objects.get(code="hn-danli")
    assert point.national_society == own.society
    assert point.opening_hours == [{"day": 0, "opens": "08:00", "closes": "17:00"}]
    assert point.updated_by == own.focal_point
    assert AuditEvent.objects.filter(object_type="service_point", action="create").exists()


def test_closing_a_point_records_who_and_when(own: Society, web: Callable[..., Client]) -> None:
    client = web(own.focal_point)
    data = _point_form(code=own.point.code, name=own.point.name, status="temporarily-closed")
    client.post(f"/orgs/service-points/{own.point.pk}/", data)
    own.point.refresh_from_db()
    assert own.point.status == "temporarily-closed"
    event = AuditEvent.objects.get(object_type="service_point", action="change")
    assert "status" in event.fields
    assert event.actor == own.focal_point


def test_bad_service_point_input_changes_nothing(own: Society, web: Callable[..., Client]) -> None:
    client = web(own.focal_point)
    for overrides, message in (
        ({"latitude": "123"}, b"less than or equal to 90"),
        ({"services": ["teleport"]}, b"Select a valid choice"),
        ({"opens_0": "18:00", "closes_0": "08:00"}, b"Closing comes after opening."),
        ({"opens_1": "08:00"}, b"Give both the opening and the closing time."),
        ({"code": own.second_point.code}, b"already exists"),
    ):
        response = client.post("/orgs/service-points/new/", _point_form(**overrides))
        assert response.status_code == 200
        assert message in response.content
    assert ServicePoint.objects.filter(national_society=own.society).count() == 2


def test_focal_point_cannot_edit_another_societys_point(
    own: Society, other: Society, web: Callable[..., Client]
) -> None:
    response = web(own.focal_point).post(
        f"/orgs/service-points/{other.point.pk}/", _point_form(name="Hijacked")
    )
    other.point.refresh_from_db()
    assert response.status_code == 404
    assert other.point.name != "Hijacked"


def test_focal_point_adds_and_deactivates_staff(own: Society, web: Callable[..., Client]) -> None:
    client = web(own.focal_point)
    created = client.post(
        "/orgs/staff/new/",
        {
            "username": "new-volunteer",
            "password": "a long enough passphrase",
            "role": "volunteer",
            "service_points": [own.point.pk],
        },
    )
    assert created.status_code == 302
    membership = Membership.objects.get(user__username="new-volunteer")
    assert membership.national_society == own.society
    assert list(membership.service_points.all()) == [own.point]
    client.post(f"/orgs/staff/{membership.pk}/", {"role": "coordinator", "service_points": []})
    membership.refresh_from_db()
    membership.user.refresh_from_db()
    assert membership.role == "coordinator"
    assert membership.user.is_active is False
    # Designated safeguarding focal point: sensitive feedback reaches them from now on.
    client.post(
        f"/orgs/staff/{membership.pk}/",
        {"role": "coordinator", "active": "on", "designations": ["safeguarding"]},
    )
    membership.refresh_from_db()
    assert (membership.safeguarding, membership.protection) == (True, False)


def test_staff_form_rejects_weak_passwords_and_taken_names(
    own: Society, web: Callable[..., Client]
) -> None:
    client = web(own.focal_point)
    weak = client.post(
        "/orgs/staff/new/", {"username": "x1", "password": "123", "role": "volunteer"}
    )
    assert b"too short" in weak.content
    taken = client.post(
        "/orgs/staff/new/",
        {"username": "hn-vol", "password": "a long enough passphrase", "role": "volunteer"},
    )
    assert b"That user name is taken." in taken.content
    sneaky = client.post(
        "/orgs/staff/new/",
        {"username": "boss", "password": "a long enough passphrase", "role": "sysadmin"},
    )
    assert b"Select a valid choice" in sneaky.content
    assert not get_user_model().objects.filter(username__in=["x1", "boss"]).exists()


def test_staff_list_shows_only_own_society(
    own: Society, other: Society, web: Callable[..., Client]
) -> None:
    page = web(own.focal_point).get("/orgs/staff/").content.decode()
    assert "hn-vol" in page
    assert "gt-vol" not in page


def test_admin_changes_to_roles_are_audited(own: Society, sysadmin: Any) -> None:
    from routecare.conftest import sign_in_client

    membership = Membership.objects.get(user=own.volunteer)
    client = sign_in_client(sysadmin)
    response = client.post(
        f"/admin/orgs/membership/{membership.pk}/change/",
        {
            "user": own.volunteer.pk,
            "role": "focal_point",
            "national_society": own.society.pk,
            "network": own.society.network_id,
            "service_points": [],
        },
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(object_type="membership", via="admin")
    assert event.actor == sysadmin
    assert "role" in event.fields
