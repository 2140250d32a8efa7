"""Cards issued offline at a field node reach the server: kept once, checked (the node's own
unrevoked key, a card key of the network, a person of its society, a QR text that verifies),
audited with their node; held until their person arrives (docs/sync.md)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from routecare.access import build_actor
from routecare.audit.models import AuditEvent
from routecare.cards import actions, nodekeys
from routecare.cards.format import CardError
from routecare.cards.models import Card, NodeCertificate, RevokedSerial
from routecare.cards.sync import serialize_card
from routecare.conftest import Society, make_user, register
from routecare.orgs.models import Role
from routecare.people import actions as people_actions
from routecare.people.models import Person
from routecare.people.sync import serialize_person
from routecare.sync import clock, ingest, nodes, registry
from routecare.sync.models import AppliedChange, HeldChange, Node, RecordVersion
from routecare.sync.pull import page


def _enrol(society: Society) -> Node:
    """A node enrolled with its own certified card key (one database plays both sides)."""
    code = nodes.create_enrolment_code(society.actor("focal_point"), society.point)
    enrolment = nodes.enroll(code, "Lajas Blancas laptop", extra=nodekeys.prepare_node_key())
    nodekeys.store_node_certificate(
        {
            "node_id": str(enrolment.node.pk),
            "national_society_id": str(enrolment.node.national_society_id),
            "extra": enrolment.extra,
        }
    )
    return enrolment.node


@pytest.fixture
def node(own: Society, keys: None) -> Node:
    return _enrol(own)


def _issued_elsewhere(
    settings: Any, society: Society, person: Person, at_node: bool = True
) -> tuple[str, dict[str, Any]]:
    """A card issued at the node (or, ``at_node=False``, with the society's key), as the node
    sends it: the server does not hold it (its row is taken back, as a node's own)."""
    settings.ROUTECARE_NODE = at_node
    card = actions.issue_card(society.actor(), person)
    values = serialize_card(card)
    settings.ROUTECARE_NODE = True  # taken back as a node's row: no erasure recorded
    Card.objects.filter(pk=card.pk).delete()
    settings.ROUTECARE_NODE = False
    return str(card.pk), values


def _registered_at_the_node_only(settings: Any, person: Person) -> dict[str, Any]:
    """The person as the node sends them; the server has not seen them (taken back here)."""
    values = serialize_person(person)
    records = [person.pk, *(uuid.UUID(consent["id"]) for consent in values["consents"])]
    settings.ROUTECARE_NODE = True
    Person.objects.filter(pk=person.pk).delete()
    settings.ROUTECARE_NODE = False
    RecordVersion.objects.filter(record_id__in=records).delete()
    return values


def _change(
    node: Node, record_id: str, values: dict[str, Any], by: str, **wire: Any
) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()), "label": "cards.card", "record_id": record_id, "op": "create",
        "base_version": 0, "base": {}, "values": values, "by": by,
        "hlc": clock.tick("", str(node.pk)), **wire,
    }  # fmt: skip


def _push(node: Node, *changes: dict[str, Any]) -> list[ingest.Outcome]:
    return ingest.apply_batch(Node.objects.get(pk=node.pk), list(changes))


def test_a_card_issued_at_a_node_is_kept_audited_with_its_node_and_supersedes_older_ones(
    own: Society, other: Society, node: Node, carrier: Person, settings: Any
) -> None:
    earlier = actions.issue_card(own.actor(), carrier)  # online, before the node's
    record_id, values = _issued_elsewhere(settings, own, carrier)
    # The node ended the earlier card on its side; the server learns it from the node's card.
    Card.objects.filter(pk=earlier.pk).update(ended_at=None)
    RevokedSerial.objects.filter(serial=earlier.serial).delete()
    change = _change(node, record_id, values, own.volunteer.username)
    [outcome] = _push(node, change)
    assert (outcome.outcome, outcome.status) == ("applied", 200), outcome.message
    card = Card.objects.get(pk=record_id)
    certificate = NodeCertificate.objects.get(node_id=node.pk)
    assert (card.serial, card.node_certificate, card.signing_key) == (
        values["serial"],
        certificate,
        None,
    )
    assert (card.issued_by, card.issued_at_point, card.ended_at) == (own.volunteer, own.point, None)
    assert str(card.qr_text) == values["qr_text"]
    issued = AuditEvent.objects.get(action="share", object_id=card.serial, via="sync")
    assert issued.detail.startswith(f"issued at field node {node.pk}")
    assert issued.person_id == carrier.pk
    synced = AuditEvent.objects.get(action="sync", object_id=record_id)
    assert synced.detail == f"node {node.pk}: applied"
    assert not AuditEvent.objects.filter(detail__contains=values["qr_text"][:40]).exists()
    superseded = Card.objects.get(pk=earlier.pk)
    assert superseded.ended_at is not None
    assert RevokedSerial.objects.get(serial=earlier.serial).reason == "superseded"
    assert actions.read_card(other.actor(), values["qr_text"]).summary.serial == card.serial


def test_a_card_sent_again_is_a_duplicate_and_other_content_under_its_id_a_409(
    own: Society, node: Node, carrier: Person, settings: Any
) -> None:
    record_id, values = _issued_elsewhere(settings, own, carrier)
    change = _change(node, record_id, values, own.volunteer.username)
    assert _push(node, change)[0].outcome == "applied"
    again = _push(node, change)[0]
    assert (again.outcome, again.status) == ("duplicate", 200)
    forged = {**change, "values": {**values, "ended": ["lost"]}}
    mismatch = _push(node, forged)[0]
    assert (mismatch.outcome, mismatch.status) == ("mismatch", 409)
    assert Card.objects.count() == 1
    assert Card.objects.get().ended_at is None
    # The same card under another record id: its serial is taken, nothing kept twice.
    twice = _push(node, _change(node, str(uuid.uuid4()), values, own.volunteer.username))[0]
    assert (twice.outcome, twice.status) == ("refused", 422)
    assert "serial exists already" in twice.message
    assert Card.objects.count() == 1


def test_a_card_before_its_person_is_held_then_kept_when_the_person_arrives(
    own: Society, node: Node, keys: None, settings: Any
) -> None:
    person = register(own, consents=["care", "share-network"])
    record_id, values = _issued_elsewhere(settings, own, person)
    person_values = _registered_at_the_node_only(settings, person)
    card_change = _change(node, record_id, values, own.volunteer.username)
    held = _push(node, card_change)[0]
    assert (held.outcome, held.status) == ("held", 202)
    assert Card.objects.count() == 0
    assert HeldChange.objects.filter(pk=card_change["id"]).exists()
    person_change = {
        **_change(node, str(person.pk), person_values, own.volunteer.username),
        "label": "people.person",
    }
    arrived = _push(node, person_change)[0]
    assert arrived.outcome == "applied", arrived.message
    assert not HeldChange.objects.exists()
    card = Card.objects.get(pk=record_id)
    assert (card.person_id, card.serial) == (person.pk, values["serial"])
    assert _push(node, card_change)[0].outcome == "duplicate"


def test_a_held_card_reached_the_server_so_it_stays_valid_after_its_node_is_revoked(
    own: Society, other: Society, node: Node, keys: None, settings: Any
) -> None:
    person = register(own, consents=["care", "share-network"])
    record_id, values = _issued_elsewhere(settings, own, person)
    person_values = _registered_at_the_node_only(settings, person)
    assert _push(node, _change(node, record_id, values, own.volunteer.username))[0].outcome == (
        "held"
    )
    nodes.revoke_node(own.actor("focal_point"), node)
    certificate = NodeCertificate.objects.get(node_id=node.pk)
    assert certificate.allowed_serials == [values["serial"]]
    # Its person arrives afterwards (a batch that was under way when the node was revoked).
    person_change = {
        **_change(node, str(person.pk), person_values, own.volunteer.username),
        "label": "people.person",
    }
    assert _push(node, person_change)[0].outcome == "applied"
    assert Card.objects.get(pk=record_id).serial == values["serial"]
    assert actions.read_card(other.actor(), values["qr_text"]).summary.serial == values["serial"]


def test_a_card_that_reached_the_server_stays_valid_after_revocation_a_later_one_is_refused(
    own: Society, other: Society, node: Node, carrier: Person, own_person: Person, settings: Any
) -> None:
    record_id, values = _issued_elsewhere(settings, own, carrier)
    assert _push(node, _change(node, record_id, values, own.volunteer.username))[0].outcome == (
        "applied"
    )
    later_id, later = _issued_elsewhere(settings, own, own_person)  # before the revocation
    nodes.revoke_node(own.actor("focal_point"), node)
    certificate = NodeCertificate.objects.get(node_id=node.pk)
    assert certificate.allowed_serials == [values["serial"]]
    refused = _push(node, _change(node, later_id, later, own.volunteer.username))[0]
    assert (refused.outcome, refused.status) == ("refused", 422)
    assert "revoked" in refused.message
    assert not Card.objects.filter(serial=later["serial"]).exists()
    assert actions.read_card(other.actor(), values["qr_text"]).summary.serial == values["serial"]


def test_a_card_signed_by_another_nodes_key_or_a_societys_key_is_refused(
    own: Society, node: Node, carrier: Person, settings: Any
) -> None:
    second = _enrol(own)  # the newest certified key on this machine signs from now on
    record_id, values = _issued_elsewhere(settings, own, carrier)
    assert NodeCertificate.objects.get(kid=values["node_certificate"]).node_id == second.pk
    refused = _push(node, _change(node, record_id, values, own.volunteer.username))[0]
    assert (refused.outcome, refused.status) == ("refused", 422)
    assert "another field node" in refused.message
    own_kid = NodeCertificate.objects.get(node_id=node.pk).kid
    society_id, society_signed = _issued_elsewhere(settings, own, carrier, at_node=False)
    assert society_signed["node_certificate"] is None
    forged = {**society_signed, "node_certificate": own_kid}  # a node claiming it as its own
    refused = _push(node, _change(node, society_id, forged, own.volunteer.username))[0]
    assert (refused.outcome, refused.status) == ("refused", 422)
    assert "never a society's" in refused.message
    assert not Card.objects.exists()
    assert not AppliedChange.objects.exists()


def test_a_card_for_a_person_of_another_society_is_refused(
    own: Society, node: Node, carrier: Person, other_person: Person, settings: Any
) -> None:
    record_id, values = _issued_elsewhere(settings, own, carrier)
    moved = {**values, "person": str(other_person.pk)}
    refused = _push(node, _change(node, record_id, moved, own.volunteer.username))[0]
    assert (refused.outcome, refused.status) == ("refused", 422)
    assert "No such person in this National Society" in refused.message
    assert not Card.objects.exists()


def test_a_tampered_qr_text_is_refused_and_never_echoed(
    own: Society, node: Node, carrier: Person, settings: Any
) -> None:
    record_id, values = _issued_elsewhere(settings, own, carrier)
    text = values["qr_text"]
    middle = len(text) // 2
    tampered = text[:middle] + ("A" if text[middle] != "A" else "B") + text[middle + 1 :]
    refused = _push(
        node, _change(node, record_id, {**values, "qr_text": tampered}, own.volunteer.username)
    )[0]
    assert (refused.outcome, refused.status) == ("refused", 422)
    assert "does not verify" in refused.message
    assert tampered not in refused.message
    # A valid card of the node, sent with another serial than it carries: refused too.
    other_serial = {**values, "serial": "0" * 16}
    refused = _push(node, _change(node, record_id, other_serial, own.volunteer.username))[0]
    assert "does not match" in refused.message
    assert not Card.objects.exists()


def test_a_card_ended_at_the_node_ends_on_the_server_once_with_the_nodes_reason(
    own: Society, node: Node, carrier: Person, settings: Any
) -> None:
    record_id, values = _issued_elsewhere(settings, own, carrier)
    _push(node, _change(node, record_id, values, own.volunteer.username))
    # As a node sends it: every value, and the values it last saw as its base.
    lost = {
        **_change(node, record_id, {**values, "ended": ["lost"]}, own.volunteer.username),
        "op": "update", "base_version": 1, "base": values,
    }  # fmt: skip
    ended = _push(node, lost)[0]
    assert ended.outcome == "applied", ended.message
    card = Card.objects.get(pk=record_id)
    assert card.ended_at is not None
    assert RevokedSerial.objects.get(serial=card.serial).reason == "lost"
    # Ended there for another reason too: no conflict, the first end stands.
    stolen = {
        **_change(node, record_id, {**values, "ended": ["stolen"]}, own.volunteer.username),
        "op": "update", "base_version": 1, "base": values,
    }  # fmt: skip
    assert _push(node, stolen)[0].outcome in ("applied", "merged")
    assert RevokedSerial.objects.get(serial=card.serial).reason == "lost"
    changed = {
        **_change(node, record_id, {**values, "qr_text": "forged"}, own.volunteer.username),
        "op": "update", "base_version": 2, "base": values,
    }  # fmt: skip
    refused = _push(node, changed)[0]
    assert (refused.outcome, refused.status) == ("refused", 422)
    assert str(Card.objects.get(pk=record_id).qr_text) == values["qr_text"]


def test_a_card_issued_elsewhere_goes_down_and_its_end_at_the_node_comes_back_as_who_ended_it(
    own: Society, node: Node, carrier: Person, settings: Any
) -> None:
    elsewhere = make_user("hn-vol-2", Role.VOLUNTEER, national_society=own.society)
    elsewhere.membership.service_points.add(own.second_point)  # may not work at the node's
    there = build_actor(elsewhere, own.second_point.pk)
    assert there is not None
    issued = actions.issue_card(there, carrier)
    records = page(node, None, 0)["records"]
    [down] = [r for r in records if r["label"] == "cards.card"]
    assert (down["row"]["id"], down["values"]["ended"]) == (str(issued.pk), [])
    base = down["values"]
    # At the node, the node's volunteer issues a new card: the one from elsewhere ends there.
    record_id, values = _issued_elsewhere(settings, own, carrier)
    ended_there = serialize_card(Card.objects.get(pk=issued.pk))
    assert ended_there["ended"] == ["superseded"]
    ended_there["issued_by"] = ""  # the node does not hold staff of other points
    by = registry.known("cards.card").author(Card.objects.get(pk=issued.pk))
    assert by == own.volunteer.username  # who ended it, not who issued it elsewhere
    Card.objects.filter(pk=issued.pk).update(ended_at=None)  # the server has not seen that
    RevokedSerial.objects.filter(serial=issued.serial).delete()
    end = {
        **_change(node, str(issued.pk), ended_there, by),
        "op": "update", "base_version": down["version"], "base": base,
    }  # fmt: skip
    card = _change(node, record_id, values, own.volunteer.username)
    outcomes = _push(node, end, card)
    assert [o.outcome for o in outcomes] == ["applied", "applied"], outcomes
    assert Card.objects.get(pk=issued.pk).ended_at is not None
    assert RevokedSerial.objects.get(serial=issued.serial).reason == "superseded"
    assert Card.objects.get(pk=record_id).ended_at is None


def test_a_card_arriving_after_its_consent_was_withdrawn_here_is_kept_ended(
    own: Society, other: Society, node: Node, carrier: Person, settings: Any
) -> None:
    record_id, values = _issued_elsewhere(settings, own, carrier)
    people_actions.withdraw_consent(own.actor(), carrier, "share-network")
    outcome = _push(node, _change(node, record_id, values, own.volunteer.username))[0]
    assert outcome.outcome == "applied", outcome.message
    assert Card.objects.get(pk=record_id).ended_at is not None
    assert RevokedSerial.objects.get(serial=values["serial"]).reason == "withdrawn"
    with pytest.raises(CardError) as refused:
        actions.read_card(other.actor(), values["qr_text"])
    assert refused.value.code == "withdrawn"
