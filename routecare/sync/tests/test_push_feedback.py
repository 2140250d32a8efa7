"""Feedback recorded by staff at a field node reaches the server once, keeps the reference
the person was given, and is routed as online: sensitive items to safeguarding only."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from routecare.conftest import Society, make_user
from routecare.feedback.actions import handlers
from routecare.feedback.models import Feedback
from routecare.notifications.models import Notification
from routecare.orgs.models import Membership, Network, Role
from routecare.sync import nodes
from routecare.sync.models import AppliedChange, Node
from routecare.sync.tests.test_push import _hlc, _outcomes, _push


@pytest.fixture
def node(own: Society) -> tuple[Node, str]:
    code = nodes.create_enrolment_code(own.actor("focal_point"), own.point)
    enrolment = nodes.enroll(code, "Lajas Blancas laptop")
    return enrolment.node, enrolment.credential


def _feedback_values(own: Society, **extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "about_society": str(own.society.pk), "about_point": str(own.point.pk),
        "category": "complaint", "text": "We waited four hours in the sun.", "language": "es",
        "channel": "staff", "contact": None, "received_by": str(own.society.pk),
        "reference": "FB-7K3M-9Q4T",
        "submission_key": hashlib.sha256(uuid.uuid4().bytes).hexdigest(),
        "created_at": (timezone.now() - dt.timedelta(hours=3)).isoformat(),
    }  # fmt: skip
    values.update(extra)
    return values


def _feedback_change(node: Node, by: str, values: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()), "label": "feedback.feedback", "record_id": str(uuid.uuid4()),
        "op": "create", "base_version": 0, "base": {}, "values": values, "by": by,
        "hlc": _hlc(node),
    }  # fmt: skip


def test_feedback_recorded_offline_arrives_once_with_its_reference(
    own: Society,
    node: tuple[Node, str],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    found, credential = node
    values = _feedback_values(own, contact={"method": "whatsapp", "value": "+504 9999 1234"})
    change = _feedback_change(found, own.volunteer.username, values)
    with django_capture_on_commit_callbacks(execute=True):
        assert _outcomes(_push(credential, [change]))[0]["outcome"] == "applied"
    for _again in range(2):
        assert _outcomes(_push(credential, [change]))[0]["outcome"] == "duplicate"
    item = Feedback.objects.get()
    assert (str(item.pk), item.reference) == (change["record_id"], "FB-7K3M-9Q4T")
    assert item.created_at == dt.datetime.fromisoformat(values["created_at"])
    assert (item.recorded_by, item.received_by, item.channel) == (
        own.volunteer, own.society, "staff",
    )  # fmt: skip
    assert item.contact == {"method": "whatsapp", "value": "+504 9999 1234"}
    told = set(Notification.objects.values_list("user__username", flat=True))
    assert told == {own.focal_point.username}


def test_sensitive_feedback_from_a_node_goes_to_safeguarding_focal_points_only(
    own: Society,
    network: Network,
    node: tuple[Node, str],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    found, credential = node
    guard = make_user("hn-guard", Role.COORDINATOR, national_society=own.society, safeguarding=True)
    cluster_guard = make_user("ifrc-guard", Role.REGIONAL, network=network, safeguarding=True)
    make_user("ifrc-other", Role.REGIONAL, network=network)
    values = _feedback_values(own, category="sensitive", text="A man asked for sex for a ride.")
    with django_capture_on_commit_callbacks(execute=True):
        change = _feedback_change(found, own.volunteer.username, values)
        assert _outcomes(_push(credential, [change]))[0]["outcome"] == "applied"
    item = Feedback.objects.get()
    told = set(Notification.objects.values_list("user__username", flat=True))
    assert told == {guard.username, cluster_guard.username}
    assert told == {user.username for user in handlers(item)}  # exactly as online
    assert own.focal_point.username not in told  # a focal point, but not for safeguarding
    assert Membership.objects.filter(user__username__in=told, safeguarding=False).count() == 0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"category": "rumour"}, "kind of feedback"),
        ({"text": ""}, "Write something"),
        ({"text": {"html": "<b>"}}, "Write something"),
        ({"language": "xx"}, "language"),
        ({"channel": "web"}, "recorded by staff"),
        ({"reference": "FB-0000"}, "reference"),
        ({"submission_key": "abc"}, "form"),
        ({"created_at": "last week"}, "date"),
        ({"about_point": str(uuid.uuid4())}, "about"),
        ({"contact": {"method": "email", "value": "not an address"}}, "email"),
    ],
)
def test_bad_feedback_is_refused_with_a_clear_message_and_nothing_stored(
    own: Society, node: tuple[Node, str], overrides: dict[str, Any], message: str
) -> None:
    found, credential = node
    change = _feedback_change(found, own.volunteer.username, _feedback_values(own, **overrides))
    outcome = _outcomes(_push(credential, [change]))[0]
    assert (outcome["outcome"], outcome["status"]) == ("refused", 422)
    assert message in outcome["message"]
    assert Feedback.objects.count() == 0
    assert AppliedChange.objects.count() == 0


def test_a_node_cannot_record_feedback_for_another_society_or_outside_its_network(
    own: Society, other: Society, outsider: Society, node: tuple[Node, str]
) -> None:
    found, credential = node
    as_other = _feedback_change(found, other.volunteer.username, _feedback_values(own))
    received_elsewhere = _feedback_change(
        found, own.volunteer.username, _feedback_values(own, received_by=str(other.society.pk))
    )
    outside = _feedback_change(
        found, own.volunteer.username,
        _feedback_values(own, about_point=str(outsider.point.pk), about_society=None),
    )  # fmt: skip
    outcomes = _outcomes(_push(credential, [as_other, received_elsewhere, outside]))
    assert [o["outcome"] for o in outcomes] == ["refused"] * 3
    assert Feedback.objects.count() == 0


def test_a_reference_taken_by_other_feedback_is_refused_not_overwritten(
    own: Society, node: tuple[Node, str]
) -> None:
    found, credential = node
    first = _feedback_change(found, own.volunteer.username, _feedback_values(own))
    second = _feedback_change(found, own.volunteer.username, _feedback_values(own, text="Other"))
    outcomes = _outcomes(_push(credential, [first, second]))
    assert [o["outcome"] for o in outcomes] == ["applied", "refused"]
    assert "reference" in outcomes[1]["message"]
    assert [str(item.text) for item in Feedback.objects.all()] == [
        "We waited four hours in the sun."
    ]
