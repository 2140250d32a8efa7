from collections.abc import Callable

import pytest
from django.test import Client

from routecare.audit.models import AuditEvent
from routecare.conftest import Society
from routecare.people.models import Person


def test_every_read_and_change_of_a_person_is_audited(
    own: Society, own_person: Person, web: Callable[..., Client]
) -> None:
    AuditEvent.objects.filter(person_id=own_person.pk).count()
    client = web(own.volunteer, own.point)
    client.get(f"/people/{own_person.pk}/")
    reads = AuditEvent.objects.filter(person_id=own_person.pk, action="read")
    assert set(reads.values_list("object_type", flat=True)) == {
        "person",
        "health_summary",
        "encounter",
        "follow_up",
    }
    assert all(event.actor_id == own.volunteer.pk for event in reads)
    changes = AuditEvent.objects.filter(person_id=own_person.pk, action__in=["create", "change"])
    assert set(changes.values_list("object_type", flat=True)) >= {
        "person",
        "encounter",
        "follow_up",
        "health_summary",
    }


def test_audit_events_are_append_only(own_person: Person) -> None:
    event = AuditEvent.objects.filter(person_id=own_person.pk).first()
    assert event is not None
    event.detail = "rewritten"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.update(detail="x")


def test_focal_point_browses_and_filters_own_society_trail(
    own: Society, other: Society, own_person: Person, other_person: Person,
    web: Callable[..., Client],
) -> None:  # fmt: skip
    client = web(own.focal_point)
    page = client.get("/audit/").content.decode()
    assert own.volunteer.username in page
    assert other.volunteer.username not in page
    filtered = client.get(f"/audit/?person={own_person.pk}&action=create").content.decode()
    assert "encounter" in filtered
    assert "consent" not in filtered.split("<tbody>")[1]
    foreign = client.get(f"/audit/?person={other_person.pk}").content.decode()
    assert "Nothing matches." in foreign
    bad = client.get("/audit/?since=yesterday&person=nope")
    assert bad.status_code == 200


def test_volunteers_cannot_browse_the_trail(own: Society, web: Callable[..., Client]) -> None:
    assert web(own.volunteer, own.point).get("/audit/").status_code == 403


def test_trail_filters_by_staff_member_record_and_dates(
    own: Society, own_person: Person, web: Callable[..., Client]
) -> None:
    client = web(own.focal_point)
    today = own_person.created_at.date().isoformat()
    by_user = client.get(f"/audit/?username=hn-vol&object_type=consent&since={today}&until={today}")
    body = by_user.content.decode().split("<tbody>")[1]
    assert "consent" in body
    assert "encounter" not in body
    nobody = client.get("/audit/?username=nobody").content.decode()
    assert "Nothing matches." in nobody
    before = client.get("/audit/?until=2000-01-01").content.decode()
    assert "Nothing matches." in before
