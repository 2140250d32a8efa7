"""Referrals queued at field nodes are sent on the server when they arrive; answers given at
a node travel as changes of status, with the rules of an online referral."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from routecare.conftest import Society
from routecare.notifications.models import Notification
from routecare.orgs.models import Membership
from routecare.people.models import Person
from routecare.referrals import actions
from routecare.referrals.actions import Destination
from routecare.referrals.models import Referral, ReferralResponse
from routecare.sync import nodes
from routecare.sync.models import AppliedChange, Node, SyncConflict
from routecare.sync.tests.conftest import EnrolNode
from routecare.sync.tests.test_push import _hlc, _outcomes, _person_change, _push


@pytest.fixture
def node(own: Society) -> tuple[Node, str]:
    code = nodes.create_enrolment_code(own.actor("focal_point"), own.point)
    enrolment = nodes.enroll(code, "Lajas Blancas laptop")
    return enrolment.node, enrolment.credential


def _referral_values(person_id: str, to_point: Any, **extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "person": person_id, "to_point": str(to_point.pk), "to_society": None,
        "partner_name": "", "type": "health", "service": "water", "reason": "antenatal check",
        "urgency": "priority", "due": None, "fields": ["sex", "age_band"],
        "override_reason": "", "service_warning_reason": "",
        "idempotency_key": f"node-{uuid.uuid4().hex[:12]}",
        "answer": {"status": "sent", "note": ""},
    }  # fmt: skip
    values.update(extra)
    return values


def _referral_change(
    node: Node, by: str, values: dict[str, Any], record_id: str | None = None,
    base: dict[str, Any] | None = None, base_version: int = 0,
) -> dict[str, Any]:  # fmt: skip
    return {
        "id": str(uuid.uuid4()), "label": "referrals.referral",
        "record_id": record_id or str(uuid.uuid4()), "op": "update" if base else "create",
        "base_version": base_version, "base": base or {}, "values": values, "by": by,
        "hlc": _hlc(node),
    }  # fmt: skip


def test_a_referral_queued_offline_is_sent_once_on_the_server_and_told_there(
    own: Society,
    node: tuple[Node, str],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    found, credential = node
    person = _person_change(found, own.volunteer.username, nationality="VE")
    referral = _referral_change(
        found, own.volunteer.username, _referral_values(person["record_id"], own.second_point)
    )
    with django_capture_on_commit_callbacks(execute=True):
        outcomes = _outcomes(_push(credential, [referral, person]))  # the referral first: held
    assert [o["outcome"] for o in outcomes] == ["held", "applied"]
    sent = Referral.objects.get(pk=referral["record_id"])
    assert (sent.status, sent.from_point, sent.to_point) == ("sent", own.point, own.second_point)
    assert sent.from_user == own.volunteer
    assert sent.shared == {"sex": "female", "age_band": "18-59"}  # from the server's record
    told = set(Notification.objects.values_list("user__username", flat=True))
    assert {own.coordinator.username, own.focal_point.username} <= told
    for _again in range(2):
        assert _outcomes(_push(credential, [referral]))[0]["outcome"] == "duplicate"
    assert Referral.objects.count() == 1
    assert ReferralResponse.objects.filter(referral=sent).count() == 1


def test_a_queued_referral_is_refused_as_online_would_refuse_it(
    own: Society, other: Society, node: tuple[Node, str]
) -> None:
    found, credential = node
    person = _person_change(found, own.volunteer.username)
    _outcomes(_push(credential, [person]))
    pid = person["record_id"]
    cross_border = _referral_values(pid, other.point)  # no consent to share with other NS
    protection = _referral_values(pid, own.second_point, type="protection")
    bad = _referral_values(pid, own.second_point, urgency="whenever")
    nowhere = {**_referral_values(pid, own.second_point), "to_point": str(uuid.uuid4())}
    outcomes = _outcomes(
        _push(
            credential,
            [
                _referral_change(found, own.volunteer.username, values)
                for values in (cross_border, protection, bad, nowhere)
            ],
        )
    )
    assert [o["outcome"] for o in outcomes] == ["refused"] * 4
    assert "has not agreed to share" in outcomes[0]["message"]
    assert "protection role" in outcomes[1]["message"]
    assert "urgency" in outcomes[2]["message"]
    assert "destination" in outcomes[3]["message"]
    assert Referral.objects.count() == 0
    assert AppliedChange.objects.filter(label="referrals.referral").count() == 0


def test_a_protection_referral_from_a_node_reaches_protection_staff_only(
    own: Society,
    node: tuple[Node, str],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    found, credential = node
    Membership.objects.filter(user__in=[own.volunteer, own.focal_point]).update(protection=True)
    person = _person_change(found, own.volunteer.username)
    referral = _referral_change(
        found, own.volunteer.username,
        _referral_values(person["record_id"], own.second_point, type="protection",
                         service="first-aid"),
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        outcomes = _outcomes(_push(credential, [person, referral]))
    assert [o["outcome"] for o in outcomes] == ["applied", "applied"]
    told = set(Notification.objects.values_list("user__username", flat=True))
    assert own.focal_point.username in told
    assert own.coordinator.username not in told  # no protection role
    titles = set(Notification.objects.values_list("title", flat=True))
    assert all("first" not in title.lower() for title in titles)  # nothing of its content


@pytest.fixture
def to_node_point(own: Society, other: Society, other_person: Person) -> Referral:
    """A referral from another society to the node's point (the person agreed to share)."""
    from routecare.people.actions import give_consent

    give_consent(other.actor(), other_person, "share-network", "es")
    return actions.send_referral(
        other.actor(), other_person, destination=Destination(point=own.point),
        referral_type="health", service="water", reason="needs water", fields=["sex"],
        idempotency_key="other-00001",
    )  # fmt: skip


def _answer(node: Node, by: str, referral: Referral, status: str, note: str = "") -> dict[str, Any]:
    from routecare.referrals.sync import serialize_referral

    base = serialize_referral(referral)
    return _referral_change(
        node, by, {**base, "answer": {"status": status, "note": note}}, str(referral.pk), base, 1
    )


def test_an_answer_given_at_the_node_applies_once(
    own: Society, node: tuple[Node, str], to_node_point: Referral
) -> None:
    found, credential = node
    accepted = _answer(found, own.coordinator.username, to_node_point, "accepted")
    assert _outcomes(_push(credential, [accepted]))[0]["outcome"] == "applied"
    assert _outcomes(_push(credential, [accepted]))[0]["outcome"] == "duplicate"
    to_node_point.refresh_from_db()
    assert to_node_point.status == "accepted"
    responses = ReferralResponse.objects.filter(referral=to_node_point, status="accepted")
    assert [r.by for r in responses] == [own.coordinator]


def test_the_same_referral_answered_differently_in_two_places_is_a_conflict(
    own: Society, node: tuple[Node, str], to_node_point: Referral
) -> None:
    found, credential = node
    accepted = _answer(found, own.coordinator.username, to_node_point, "accepted")
    actions.respond(own.actor("focal_point"), to_node_point, "decline", "no capacity")
    outcome = _outcomes(_push(credential, [accepted]))[0]
    assert outcome["outcome"] == "conflict"
    to_node_point.refresh_from_db()
    assert to_node_point.status == "declined"  # nothing silently overwritten
    conflict = SyncConflict.objects.get(record_id=to_node_point.pk, field="answer")
    assert conflict.server_value == {"status": "declined", "note": "no capacity"}
    assert conflict.node_value == {"status": "accepted", "note": ""}
    assert conflict.node_chosen_by == own.coordinator.username


def test_a_decline_with_its_reason_against_an_acceptance_here_is_a_conflict_not_a_refusal(
    own: Society, node: tuple[Node, str], to_node_point: Referral
) -> None:
    found, credential = node
    declined = _answer(found, own.coordinator.username, to_node_point, "declined", "no bed")
    actions.respond(own.actor("focal_point"), to_node_point, "accept")
    outcome = _outcomes(_push(credential, [declined]))[0]
    assert outcome["outcome"] == "conflict", outcome
    to_node_point.refresh_from_db()
    assert to_node_point.status == "accepted"
    conflicts = SyncConflict.objects.filter(record_id=to_node_point.pk)
    assert [(c.field, c.server_value, c.node_value) for c in conflicts] == [
        ("answer", {"status": "accepted", "note": ""}, {"status": "declined", "note": "no bed"})
    ]


@pytest.mark.parametrize(("choice", "status"), [("node", "declined"), ("server", "accepted")])
def test_a_coordinator_resolves_an_answer_conflict_online_either_way(
    own: Society, node: tuple[Node, str], to_node_point: Referral, choice: str, status: str
) -> None:
    from routecare.sync.actions import resolve_conflict

    found, credential = node
    declined = _answer(found, own.coordinator.username, to_node_point, "declined", "no bed")
    actions.respond(own.actor("focal_point"), to_node_point, "accept")
    _outcomes(_push(credential, [declined]))
    conflict = SyncConflict.objects.get(record_id=to_node_point.pk)
    online = own.actor("focal_point", point=own.second_point)  # at headquarters, say
    resolution = resolve_conflict(online, conflict, choice)
    assert resolution.written
    to_node_point.refresh_from_db()
    assert to_node_point.status == status
    if status == "declined":
        latest = ReferralResponse.objects.filter(referral=to_node_point).order_by("at").last()
        assert latest is not None
        assert (latest.status, str(latest.note)) == ("declined", "no bed")


def test_a_node_answers_only_what_it_may_answer_online_and_at_its_point(
    own: Society,
    other: Society,
    node: tuple[Node, str],
    to_node_point: Referral,
    own_person: Person,
) -> None:
    found, credential = node
    Membership.objects.filter(user=own.focal_point).update(protection=True)
    own.focal_point.refresh_from_db()
    restricted = actions.send_referral(
        own.actor("focal_point"), own_person, destination=Destination(point=own.point),
        referral_type="protection", service="first-aid", reason="safe space",
        idempotency_key="prot-000001",
    )  # fmt: skip
    elsewhere = actions.send_referral(
        own.actor("volunteer"), own_person, destination=Destination(point=own.second_point),
        referral_type="health", service="water", reason="water", idempotency_key="else-000001",
    )  # fmt: skip
    changes = [
        _answer(found, own.coordinator.username, restricted, "accepted"),  # no protection role
        _answer(found, own.coordinator.username, elsewhere, "accepted"),  # not to its point
        _answer(found, own.coordinator.username, to_node_point, "expired"),
        _answer(found, own.coordinator.username, to_node_point, "declined"),  # no reason
        _answer(found, other.coordinator.username, to_node_point, "accepted"),
    ]
    changes.append({**_answer(found, own.coordinator.username, to_node_point, "accepted")})
    changes[-1]["values"]["reason"] = "rewritten"
    outcomes = _outcomes(_push(credential, changes))
    assert [o["outcome"] for o in outcomes] == ["refused"] * 6
    assert "own point" in outcomes[1]["message"]
    assert "reason" in outcomes[5]["message"]
    assert set(Referral.objects.values_list("status", flat=True)) == {"sent"}


NODE_ANSWERS = """
from django.contrib.auth.models import User
from routecare.access import build_actor
from routecare.orgs.models import ServicePoint
from routecare.people.models import Person
from routecare.referrals import actions, selectors
from routecare.referrals.models import Referral
actor = build_actor(User.objects.get(username="{coordinator}"), "{point}", via="web")
held = Referral.objects.get()  # pulled: open, to this point, for a person seen here
actions.respond(actor, selectors.get_referral(actor, held.pk), "accept")
sent = actions.send_referral(
    actor, Person.objects.get(), destination=actions.Destination(
        point=ServicePoint.objects.get(pk="{onward}")),
    referral_type="health", service="water", reason="onward: water", fields=["sex"],
    idempotency_key="offline-0001",
)
print(sent.pk)
"""


@pytest.mark.django_db(transaction=True)
def test_a_real_node_answers_a_referral_it_pulled_and_queues_one_sent_on_the_server(
    enrolled_node: EnrolNode,
    own: Society,
    own_person: Person,
    live_server: Any,
) -> None:
    from routecare.cards.keys import ensure_keys

    ensure_keys(own.society.network)
    incoming = actions.send_referral(
        own.actor(point=own.second_point), own_person,
        destination=Destination(point=own.point), referral_type="health", service="first-aid",
        reason="dressing", idempotency_key="online-0001",
    )  # fmt: skip
    node = enrolled_node(own, live_server.url)
    work = node.python(
        NODE_ANSWERS.format(
            coordinator=own.coordinator.username, point=own.point.pk, onward=own.second_point.pk
        )
    )
    out, err = work.communicate(timeout=120)
    assert work.returncode == 0, err
    queued = out.split()[-1]
    assert not Referral.objects.filter(pk=queued).exists()  # offline: not there yet
    node.run("node", "sync")
    node.run("node", "sync")  # again: nothing twice
    incoming.refresh_from_db()
    assert incoming.status == "accepted"
    answers = ReferralResponse.objects.filter(referral=incoming, status="accepted")
    assert [answer.by for answer in answers] == [own.coordinator]
    sent = Referral.objects.get(pk=queued)
    assert (sent.status, sent.to_point, sent.from_user) == (
        "sent", own.second_point, own.coordinator,
    )  # fmt: skip
    assert Referral.objects.count() == 2
    assert "changes waiting: 0" in node.run("node", "status").stdout
