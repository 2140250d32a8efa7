"""Sign-in at a field node: staff arrive from the server without a usable password and sign in
with a password set at the node (argon2, never sent anywhere); roles that need a second
factor are refused there (their TOTP secrets stay on the server); a staff member deactivated
on the server cannot sign in at the node after its next pull."""

from __future__ import annotations

import io
import sys
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, RequestFactory

from routecare.audit.models import AuditEvent
from routecare.conftest import PASSWORD, Society
from routecare.orgs.actions import update_staff_member
from routecare.orgs.models import Membership
from routecare.sync import client as sync_client
from routecare.sync.models import Node
from routecare.sync.pull import page

NODE_PASSWORD = "lajas blancas tent 7"


def _staff_password(username: str, password: str = NODE_PASSWORD) -> str:
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "stdin", io.StringIO(password + "\n"))
        call_command("node-staff-password", username, "--stdin", stdout=out)
    return out.getvalue()


def _sign_in(client: Client, username: str, password: str) -> Any:
    return client.post("/accounts/sign-in/", {"username": username, "password": password})


def _node(society: Society) -> Node:
    return Node.objects.create(
        name="Lajas Blancas laptop", service_point=society.point,
        national_society=society.society, credential_digest="0" * 64,
    )  # fmt: skip


def _staff_rows(node: Node) -> list[dict[str, Any]]:
    references = {group["label"]: group for group in page(node, None, 0)["references"]}
    rows: list[dict[str, Any]] = references["auth.user"]["rows"]
    return rows


def _arrived_from_server(user: User) -> None:
    """As a pull leaves a staff member at a node: the server's hash is withheld."""
    user.set_unusable_password()
    user.save(update_fields=["password"])


@pytest.fixture
def at_node(settings: Any, own: Society) -> Society:
    settings.ROUTECARE_NODE = True
    for user in (own.volunteer, own.coordinator, own.focal_point):
        _arrived_from_server(user)
    return own


def test_the_server_sends_staff_down_without_their_password_hashes(own: Society) -> None:
    rows = _staff_rows(_node(own))
    assert {row["username"] for row in rows} == {"hn-vol", "hn-coord", "hn-focal"}
    assert all("password" not in row for row in rows)


def test_a_volunteer_signs_in_at_the_node_with_the_password_set_there(at_node: Society) -> None:
    assert _sign_in(Client(), "hn-vol", PASSWORD).status_code == 200  # the server's: not here
    said = _staff_password("hn-vol")
    assert "hn-vol can now sign in at this node" in said
    client = Client()
    response = _sign_in(client, "hn-vol", NODE_PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(at_node.volunteer.pk)
    assert AuditEvent.objects.filter(
        object_type="user", object_id=str(at_node.volunteer.pk), via="command"
    ).exists()


def test_the_sign_in_page_at_a_node_says_which_password_to_use(at_node: Society) -> None:
    page_text = Client().get("/accounts/sign-in/").content.decode()
    assert "the password set for you at this node" in page_text


def test_the_node_password_is_hashed_with_argon2(at_node: Society, settings: Any) -> None:
    from routecare import settings as project_settings

    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    _staff_password("hn-coord")
    at_node.coordinator.refresh_from_db()
    assert at_node.coordinator.password.startswith("argon2$")
    assert NODE_PASSWORD not in at_node.coordinator.password


def test_a_pulled_update_of_the_user_keeps_the_node_password(at_node: Society) -> None:
    _staff_password("hn-vol")
    [row] = [row for row in _staff_rows(_node(at_node)) if row["username"] == "hn-vol"]
    row["email"] = "new-address@example.org"
    sync_client._install_references(
        [{"label": "auth.user", "rows": [row]}], sync_client.PullReport()
    )
    volunteer = User.objects.get(username="hn-vol")
    assert volunteer.email == "new-address@example.org"  # the pull did update the row
    assert volunteer.check_password(NODE_PASSWORD)
    request = RequestFactory().post("/accounts/sign-in/")
    assert authenticate(request, username="hn-vol", password=NODE_PASSWORD) == volunteer


def test_a_focal_point_is_refused_at_the_node_with_a_clear_message(at_node: Society) -> None:
    with pytest.raises(CommandError, match="sign in on the server"):
        _staff_password("hn-focal")
    assert not User.objects.get(username="hn-focal").has_usable_password()
    # Even with a password that works here (a volunteer made focal point since it was set).
    _staff_password("hn-vol")
    Membership.objects.filter(user=at_node.volunteer).update(role="focal_point")
    client = Client()
    response = _sign_in(client, "hn-vol", NODE_PASSWORD)
    assert response.status_code == 200
    assert "roles that need a second factor sign in on the server" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_refusal_is_translated(at_node: Society) -> None:
    _staff_password("hn-vol")
    Membership.objects.filter(user=at_node.volunteer).update(role="focal_point")
    response = Client().post(
        "/accounts/sign-in/",
        {"username": "hn-vol", "password": NODE_PASSWORD},
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert "nodo" in response.content.decode()


def test_no_second_factor_is_enrolled_at_a_node(at_node: Society) -> None:
    """Someone signed in whose role became one that needs a second factor is signed out
    rather than offered a new authenticator enrolled at the node."""
    _staff_password("hn-vol")
    client = Client()
    _sign_in(client, "hn-vol", NODE_PASSWORD)
    Membership.objects.filter(user=at_node.volunteer).update(role="focal_point")
    response = client.get("/accounts/two-factor/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/sign-in/")
    assert "_auth_user_id" not in client.session


def test_a_staff_member_deactivated_on_the_server_is_deactivated_at_the_next_pull(
    at_node: Society,
) -> None:
    _staff_password("hn-vol")
    membership = Membership.objects.get(user=at_node.volunteer)
    update_staff_member(
        at_node.actor("focal_point"), membership, role="volunteer", active=False,
        service_points=[],
    )  # fmt: skip
    [row] = [row for row in _staff_rows(_node(at_node)) if row["username"] == "hn-vol"]
    assert row["is_active"] is False
    # The node's copy was still active (one database plays both sides here).
    User.objects.filter(username="hn-vol").update(is_active=True)
    sync_client._install_references(
        [{"label": "auth.user", "rows": [row]}], sync_client.PullReport()
    )
    assert not User.objects.get(username="hn-vol").is_active
    assert _sign_in(Client(), "hn-vol", NODE_PASSWORD).status_code == 200


@pytest.mark.parametrize(
    ("username", "message"),
    [("nobody", "No active staff member"), ("hn-vol", "too short")],
)
def test_bad_input_gets_a_clear_message_and_changes_nothing(
    at_node: Society, username: str, message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        _staff_password(username, "short")
    assert not User.objects.get(username="hn-vol").has_usable_password()


def test_the_command_refuses_on_the_server(own: Society, settings: Any) -> None:
    settings.ROUTECARE_NODE = False
    with pytest.raises(CommandError, match="not a field node"):
        _staff_password("hn-vol")
    assert User.objects.get(username="hn-vol").check_password(PASSWORD)


def _pull_references(node: Node) -> None:
    """Page 0's whole reference data installed, as a node does (one database plays both
    sides here: what the server no longer sends goes from the same rows)."""
    sync_client._install_references(page(node, None, 0)["references"], sync_client.PullReport())


def test_staff_moved_to_another_point_can_no_longer_sign_in_at_the_node(
    at_node: Society,
) -> None:
    node = _node(at_node)
    _staff_password("hn-vol")
    _pull_references(node)
    assert _sign_in(Client(), "hn-vol", NODE_PASSWORD).status_code == 302
    # Moved on the server to the society's other point: no longer sent to this node.
    update_staff_member(
        at_node.actor("focal_point"), Membership.objects.get(user=at_node.volunteer),
        role="volunteer", active=True, service_points=[at_node.second_point],
    )  # fmt: skip
    assert "hn-vol" not in {row["username"] for row in _staff_rows(node)}
    _pull_references(node)
    volunteer = User.objects.get(username="hn-vol")
    assert not volunteer.is_active
    assert not Membership.objects.filter(user=volunteer).exists()
    client = Client()
    assert _sign_in(client, "hn-vol", NODE_PASSWORD).status_code == 200
    assert "_auth_user_id" not in client.session
    # The staff still sent are untouched.
    assert User.objects.get(username="hn-coord").is_active


def test_the_points_staff_are_assigned_to_travel_with_them(at_node: Society) -> None:
    from routecare.access import workable_service_points

    node = _node(at_node)
    membership = Membership.objects.get(user=at_node.coordinator)
    update_staff_member(
        at_node.actor("focal_point"), membership, role="coordinator", active=True,
        service_points=[at_node.point],
    )  # fmt: skip
    pulled = page(node, None, 0)["references"]
    references = {group["label"]: group for group in pulled}
    assignments = references["orgs.membership_service_points"]["rows"]
    assert [(row["membership_id"], row["servicepoint_id"]) for row in assignments] == [
        (membership.pk, str(at_node.point.pk))
    ]
    # At a node that does not hold the assignment yet (one database plays both sides here),
    # the pull brings it: the coordinator works at this point only, as on the server.
    Membership.service_points.through.objects.all().delete()
    assert set(workable_service_points(at_node.coordinator)) == {
        at_node.point,
        at_node.second_point,
    }
    sync_client._install_references(pulled, sync_client.PullReport())
    assert list(workable_service_points(at_node.coordinator)) == [at_node.point]
