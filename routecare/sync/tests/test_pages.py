"""The server's sync pages: a society's field nodes, and its sync conflicts."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from django.utils import timezone
from ninja.errors import HttpError

from routecare.audit.models import AuditEvent
from routecare.conftest import Society, sign_in_client
from routecare.people import actions as people_actions
from routecare.people.models import HealthSummary, Person
from routecare.sync import clock, ingest, nodes
from routecare.sync.capture import current_version
from routecare.sync.models import EnrolmentCode, Node, SyncConflict

REVOKED = "This node can no longer sync: its credential stopped working now."


def _enrolled(society: Society, name: str) -> tuple[Node, str]:
    code = nodes.create_enrolment_code(society.actor("focal_point"), society.point)
    enrolment = nodes.enroll(code, name)
    return enrolment.node, enrolment.credential


@pytest.fixture
def own_node(own: Society) -> tuple[Node, str]:
    return _enrolled(own, "Lajas Blancas laptop")


@pytest.fixture
def other_node(other: Society) -> tuple[Node, str]:
    return _enrolled(other, "Tecun Uman laptop")


def test_focal_point_sees_own_societys_nodes_only(
    own: Society, own_node: tuple[Node, str], other_node: tuple[Node, str]
) -> None:
    response = sign_in_client(own.focal_point).get("/sync/nodes/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Lajas Blancas laptop" in body
    assert own.point.name in body
    assert "Tecun Uman laptop" not in body
    assert "never" not in body  # enrolment counts as a contact


def test_the_nodes_page_shows_backlog_version_and_state(
    own: Society, own_node: tuple[Node, str]
) -> None:
    node, _credential = own_node
    Node.objects.filter(pk=node.pk).update(
        backlog=7, version="2026.12", last_contact_at=None, revoked_at=timezone.now()
    )
    body = sign_in_client(own.focal_point).get("/sync/nodes/").content.decode()
    assert "7 (7 on the node, 0 held here)" in body
    assert "2026.12" in body
    assert "never" in body
    assert "revoked at" in body
    assert f"/sync/nodes/{node.pk}/revoke/" not in body  # no button for a revoked node


def test_other_societys_node_is_a_404_and_stays_active(
    own: Society, other_node: tuple[Node, str]
) -> None:
    node, credential = other_node
    client = sign_in_client(own.focal_point)
    assert client.get(f"/sync/nodes/{node.pk}/revoke/").status_code == 404
    response = client.post(f"/sync/nodes/{node.pk}/revoke/", {"reason": "stolen"})
    assert response.status_code == 404
    assert nodes.node_for_credential(credential) == node


@pytest.mark.parametrize("role", ["volunteer", "coordinator"])
def test_only_focal_points_manage_nodes(
    own: Society, own_node: tuple[Node, str], role: str
) -> None:
    node, credential = own_node
    client = sign_in_client(getattr(own, role), own.point)
    assert client.get("/sync/nodes/").status_code == 403
    assert client.post("/sync/nodes/", {"service_point": own.point.pk}).status_code == 403
    assert client.post(f"/sync/nodes/{node.pk}/revoke/", {"reason": "x"}).status_code == 403
    assert nodes.node_for_credential(credential) == node


def test_creating_a_code_shows_it_once_and_it_enrols_a_node(own: Society) -> None:
    client = sign_in_client(own.focal_point)
    response = client.post("/sync/nodes/", {"service_point": own.point.pk})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    found = re.search(r'data-testid="enrolment-code">([0-9A-Z-]+)<', response.content.decode())
    assert found is not None
    code = found.group(1)
    assert "expires at" in response.content.decode()
    assert code not in client.get("/sync/nodes/").content.decode()  # shown once only
    assert EnrolmentCode.objects.get().created_by == own.focal_point
    enrolment = nodes.enroll(code, "Danli mini-PC")
    assert enrolment.node.service_point == own.point
    assert enrolment.node.national_society == own.society


def test_no_code_for_another_societys_point(own: Society, other: Society) -> None:
    response = sign_in_client(own.focal_point).post(
        "/sync/nodes/", {"service_point": other.point.pk}
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert EnrolmentCode.objects.count() == 0


def test_revoking_via_the_page_cuts_the_node_off(own: Society, own_node: tuple[Node, str]) -> None:
    node, credential = own_node
    client = sign_in_client(own.focal_point)
    assert client.get(f"/sync/nodes/{node.pk}/revoke/").status_code == 200
    unconfirmed = client.post(f"/sync/nodes/{node.pk}/revoke/", {"reason": ""})
    assert unconfirmed.status_code == 200
    assert nodes.node_for_credential(credential) == node  # no reason, no revocation
    response = client.post(
        f"/sync/nodes/{node.pk}/revoke/", {"reason": "laptop stolen"}, follow=True
    )
    assert REVOKED in response.content.decode()
    with pytest.raises(HttpError) as refused:
        nodes.node_for_credential(credential)
    assert refused.value.status_code == 403
    node.refresh_from_db()
    assert node.revoked_by == own.focal_point
    event = AuditEvent.objects.get(action="revoke", object_id=str(node.pk))
    assert event.detail == "laptop stolen"
    again = client.post(f"/sync/nodes/{node.pk}/revoke/", {"reason": "again"}, follow=True)
    assert "already revoked" in again.content.decode()
    assert AuditEvent.objects.filter(action="revoke").count() == 1


# Sync conflicts ---------------------------------------------------------------------------

SERVER_PREGNANCY = {"weeks": 20, "expected_date": None}
NODE_PREGNANCY = {"weeks": 22, "expected_date": None}


def _pregnancy_conflict(society: Society, node: Node, person: Person) -> SyncConflict:
    """A real conflict: the same field changed at the server and, from the same base, on the
    node, then pushed."""
    version = current_version("people.health_summary", person.pk)
    people_actions.update_health_summary(
        society.actor("coordinator"), person, pregnancy=SERVER_PREGNANCY
    )
    change: dict[str, Any] = {
        "id": str(uuid.uuid4()), "label": "people.health_summary", "record_id": str(person.pk),
        "op": "update", "base_version": version, "base": {"pregnancy": None},
        "values": {"pregnancy": NODE_PREGNANCY}, "by": society.volunteer.username,
        "hlc": clock.tick("", str(node.pk)),
    }  # fmt: skip
    (outcome,) = ingest.apply_batch(node, [change])
    assert outcome.outcome == "conflict", outcome
    return SyncConflict.objects.get(change_id=change["id"])


def _list_conflict(society: Society, node: Node, person: Person) -> SyncConflict:
    """Lists declared as sets merge by themselves; a list field that is not one conflicts.
    The server holds its side's value, as a real conflict leaves it."""
    people_actions.update_health_summary(society.actor(), person, allergies=["penicillin", "sulfa"])
    return SyncConflict.objects.create(
        national_society=society.society, label="people.health_summary", record_id=person.pk,
        person_id=person.pk, field="allergies", server_value=["penicillin", "sulfa"],
        node_value=["latex", "sulfa"], server_chosen_by=society.coordinator.username,
        node_chosen_by=society.volunteer.username, node=node, change_id=uuid.uuid4(),
    )  # fmt: skip


def _pregnancy(person: Person) -> Any:
    return HealthSummary.objects.get(person=person).pregnancy


def test_conflicts_page_shows_both_values_and_who_chose_them(
    own: Society, own_node: tuple[Node, str], own_person: Person
) -> None:
    conflict = _pregnancy_conflict(own, own_node[0], own_person)
    reads_before = AuditEvent.objects.filter(action="read", person_id=own_person.pk).count()
    response = sign_in_client(own.coordinator, own.point).get("/sync/conflicts/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "people.health_summary · pregnancy" in body
    assert own_person.short_code in body
    assert "weeks: 20" in body
    assert "weeks: 22" in body
    assert own.coordinator.username in body
    assert own.volunteer.username in body
    assert f"/sync/conflicts/{conflict.pk}/combine/" not in body  # not lists
    reads = AuditEvent.objects.filter(action="read", person_id=own_person.pk).count()
    assert reads == reads_before + 1  # the short code was read through the people selector


def test_lists_are_shown_one_item_a_line_and_can_be_combined(
    own: Society, own_node: tuple[Node, str], own_person: Person
) -> None:
    conflict = _list_conflict(own, own_node[0], own_person)
    body = sign_in_client(own.focal_point, own.point).get("/sync/conflicts/").content.decode()
    assert "penicillin<br>sulfa" in body
    assert f"/sync/conflicts/{conflict.pk}/combine/" in body


def test_other_societys_conflicts_are_not_listed(
    own: Society, other: Society, other_node: tuple[Node, str], other_person: Person
) -> None:
    _pregnancy_conflict(other, other_node[0], other_person)
    body = sign_in_client(own.focal_point, own.point).get("/sync/conflicts/").content.decode()
    assert "No open conflict." in body
    assert other_person.short_code not in body


def test_volunteers_do_not_see_conflicts(own: Society) -> None:
    assert sign_in_client(own.volunteer, own.point).get("/sync/conflicts/").status_code == 403


@pytest.mark.parametrize(
    ("choice", "expected"), [("server", SERVER_PREGNANCY), ("node", NODE_PREGNANCY)]
)
def test_resolving_writes_the_chosen_value(
    own: Society, own_node: tuple[Node, str], own_person: Person, choice: str, expected: Any
) -> None:
    conflict = _pregnancy_conflict(own, own_node[0], own_person)
    client = sign_in_client(own.coordinator, own.point)
    response = client.post(f"/sync/conflicts/{conflict.pk}/{choice}/", follow=True)
    assert "Conflict resolved" in response.content.decode()
    assert _pregnancy(own_person) == expected
    conflict.refresh_from_db()
    assert conflict.resolved_at is not None
    assert conflict.resolved_by == own.coordinator
    assert AuditEvent.objects.filter(
        action="change", object_type="sync_conflict", object_id=str(conflict.pk)
    ).exists()
    assert 'data-testid="resolved-conflict"' in response.content.decode()
    assert 'data-testid="conflict"' not in response.content.decode()


def test_combining_two_lists_writes_their_union(
    own: Society, own_node: tuple[Node, str], own_person: Person
) -> None:
    conflict = _list_conflict(own, own_node[0], own_person)
    client = sign_in_client(own.focal_point, own.point)
    assert client.post(f"/sync/conflicts/{conflict.pk}/combine/").status_code == 302
    summary = HealthSummary.objects.get(person=own_person)
    assert summary.allergies == ["penicillin", "sulfa", "latex"]
    conflict.refresh_from_db()
    assert conflict.resolved_by == own.focal_point


def test_values_that_are_not_lists_cannot_be_combined(
    own: Society, own_node: tuple[Node, str], own_person: Person
) -> None:
    conflict = _pregnancy_conflict(own, own_node[0], own_person)
    response = sign_in_client(own.coordinator, own.point).post(
        f"/sync/conflicts/{conflict.pk}/combine/"
    )
    assert response.status_code == 400
    assert "Only two lists can be combined" in response.content.decode()
    assert _pregnancy(own_person) == SERVER_PREGNANCY
    conflict.refresh_from_db()
    assert conflict.resolved_at is None


def test_bad_resolutions_change_nothing(
    own: Society,
    other: Society,
    own_node: tuple[Node, str],
    other_node: tuple[Node, str],
    own_person: Person,
    other_person: Person,
) -> None:
    conflict = _pregnancy_conflict(own, own_node[0], own_person)
    theirs = _pregnancy_conflict(other, other_node[0], other_person)
    client = sign_in_client(own.coordinator, own.point)
    unknown = client.post(f"/sync/conflicts/{conflict.pk}/newest/")
    assert unknown.status_code == 400
    assert "Unknown choice" in unknown.content.decode()
    assert client.post(f"/sync/conflicts/{theirs.pk}/node/").status_code == 404
    assert client.post("/sync/conflicts/not-a-uuid/node/").status_code == 404
    assert client.post(f"/sync/conflicts/{uuid.uuid4()}/node/").status_code == 404
    assert client.get(f"/sync/conflicts/{conflict.pk}/node/").status_code == 405
    assert _pregnancy(own_person) == SERVER_PREGNANCY
    assert _pregnancy(other_person) == SERVER_PREGNANCY
    assert SyncConflict.objects.filter(resolved_at__isnull=False).count() == 0


def test_an_already_resolved_conflict_is_not_resolved_again(
    own: Society, own_node: tuple[Node, str], own_person: Person
) -> None:
    conflict = _pregnancy_conflict(own, own_node[0], own_person)
    client = sign_in_client(own.coordinator, own.point)
    client.post(f"/sync/conflicts/{conflict.pk}/node/")
    second = sign_in_client(own.focal_point, own.point)
    response = second.post(f"/sync/conflicts/{conflict.pk}/server/", follow=True)
    assert "already resolved" in response.content.decode()
    assert _pregnancy(own_person) == NODE_PREGNANCY
    conflict.refresh_from_db()
    assert conflict.resolved_by == own.coordinator


def test_resolving_needs_todays_service_point(
    own: Society, own_node: tuple[Node, str], own_person: Person
) -> None:
    conflict = _pregnancy_conflict(own, own_node[0], own_person)
    response = sign_in_client(own.focal_point).post(f"/sync/conflicts/{conflict.pk}/node/")
    assert response.status_code == 400
    assert "Choose the service point" in response.content.decode()
    assert _pregnancy(own_person) == SERVER_PREGNANCY


def test_a_value_changed_online_after_the_conflict_is_never_undone(
    own: Society, own_node: tuple[Node, str], own_person: Person
) -> None:
    conflict = _pregnancy_conflict(own, own_node[0], own_person)
    newer = {"weeks": 24, "expected_date": None}
    people_actions.update_health_summary(own.actor(), own_person, pregnancy=newer)
    client = sign_in_client(own.coordinator, own.point)
    # Taking the node's value over a newer one is refused, and the conflict shows the newer.
    refused = client.post(f"/sync/conflicts/{conflict.pk}/node/")
    assert refused.status_code == 400
    assert "changed here since the conflict was found" in refused.content.decode()
    assert "weeks: 24" in refused.content.decode()
    assert _pregnancy(own_person) == newer
    conflict.refresh_from_db()
    assert (conflict.resolved_at, conflict.server_value) == (None, newer)
    # Keeping the server's value keeps what it holds now, not the value seen at the conflict.
    client.post(f"/sync/conflicts/{conflict.pk}/server/")
    assert _pregnancy(own_person) == newer
    conflict.refresh_from_db()
    assert conflict.resolved_by == own.coordinator


def test_a_node_learns_at_each_pull_how_many_of_its_conflicts_are_open(
    own: Society, own_node: tuple[Node, str], own_person: Person
) -> None:
    import httpx
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from routecare.sync import actions, client, pull
    from routecare.sync.models import NodeState

    node, credential = own_node
    conflict = _pregnancy_conflict(own, node, own_person)
    assert pull.page(node, None, 0)["open_conflicts"] == 1
    # The node's side (one database plays both here), pulling from the real server in-process.
    state = NodeState.objects.create(
        node_id=node.pk, server_url="http://testserver", credential=credential,
        service_point_id=own.point.pk, national_society_id=own.society.pk,
    )  # fmt: skip
    # As Django's test client does: a request must not close the test's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        with httpx.Client(transport=httpx.WSGITransport(app=WSGIHandler())) as server:
            client.pull(state, client=server)
            state.refresh_from_db()
            assert state.open_conflicts == 1
            actions.resolve_conflict(own.actor("coordinator"), conflict, "server")
            client.pull(state, client=server)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    state.refresh_from_db()
    assert state.open_conflicts == 0
