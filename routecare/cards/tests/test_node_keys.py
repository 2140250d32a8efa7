"""Field nodes sign the cards they issue offline with their own key, certified by their
society's signing key; readers verify the chain; revoking the node keeps only the cards that
reached the server (docs/card-format.md, section 6.1)."""

from __future__ import annotations

import json
import re
import uuid
from base64 import b64decode, b64encode
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction

from routecare.cards import actions, format, nodekeys
from routecare.cards.format import CardError, NodeCertificateBody, SigningKeyMaterial
from routecare.cards.keys import DatabaseKeys, certificate_body, certificate_verifies
from routecare.cards.messages import READ_ERRORS
from routecare.cards.models import Card, CardKey, NodeCertificate, NodeKey, SigningKey
from routecare.conftest import Society, register
from routecare.notifications.models import Notification
from routecare.people.models import Person
from routecare.sync import nodes
from routecare.sync.models import Node
from routecare.sync.pull import page

DOC = Path(__file__).resolve().parents[3] / "docs" / "card-format.md"


def _enrol(society: Society, extra: dict[str, Any] | None = None) -> tuple[Node, dict[str, Any]]:
    """Enrol a node as ``routecare node enroll`` does: the node makes its key, the server
    certifies it, the node keeps the certificate (one database plays both sides here)."""
    code = nodes.create_enrolment_code(society.actor("focal_point"), society.point)
    extra = nodekeys.prepare_node_key() if extra is None else extra
    enrolment = nodes.enroll(code, "Lajas Blancas laptop", extra=extra)
    answer = {
        "node_id": str(enrolment.node.pk),
        "national_society_id": str(enrolment.node.national_society_id),
        "extra": enrolment.extra,
    }
    nodekeys.store_node_certificate(answer)
    return enrolment.node, answer


def _trust() -> dict[str, SigningKey]:
    return {key.kid: key for key in SigningKey.objects.all()}


def test_a_node_key_is_certified_by_its_societys_signing_key(own: Society, keys: None) -> None:
    node, answer = _enrol(own)
    certificate = NodeCertificate.objects.get(node_id=node.pk)
    assert answer["extra"]["card_certificate"]["kid"] == certificate.kid
    assert certificate.national_society_id == own.society.pk
    society_key = SigningKey.objects.get(national_society=own.society)
    assert certificate.signer_kid == society_key.kid
    assert certificate_verifies(certificate, _trust())
    node_key = NodeKey.objects.get()
    assert node_key.kid == certificate.kid
    assert node_key.public_key == certificate.public_key
    assert certificate.kid not in {society_key.kid, *CardKey.objects.values_list("kid", flat=True)}


def test_a_forged_certificate_is_refused(own: Society, other: Society, keys: None) -> None:
    node, _answer = _enrol(own)
    certificate = NodeCertificate.objects.get(node_id=node.pk)
    trust = _trust()
    # Signed by a key that is not the society's (the thief's own), under the society's kid.
    impostor = SigningKeyMaterial(bytes.fromhex(certificate.signer_kid), bytes(32))
    body = certificate_body(certificate)
    forged = NodeCertificate(**{**_fields(certificate), "signature": _sign(body, impostor)})
    assert not certificate_verifies(forged, trust)
    # The real signature, the society changed.
    moved = NodeCertificate(**{**_fields(certificate), "national_society_id": other.society.pk})
    assert not certificate_verifies(moved, trust)
    # Another society's key (on the trust list) cannot vouch for this society's node.
    other_key = SigningKey.objects.get(national_society=other.society)
    named_other = NodeCertificate(**{**_fields(certificate), "signer_kid": other_key.kid})
    assert not certificate_verifies(named_other, trust)


def _fields(certificate: NodeCertificate) -> dict[str, Any]:
    names = ("kid", "public_key", "node_id", "national_society_id", "signer_kid", "not_before")
    return {name: getattr(certificate, name) for name in names} | {
        "signature": certificate.signature
    }


def _sign(body: NodeCertificateBody, material: SigningKeyMaterial) -> str:
    return format.sign_node_certificate(body, material).hex()


def test_a_card_signed_by_an_enrolled_node_reads_at_another_society(
    own: Society, other: Society, carrier: Person, settings: Any
) -> None:
    _node, answer = _enrol(own)
    settings.ROUTECARE_NODE = True
    card = actions.issue_card(own.actor(), carrier)
    settings.ROUTECARE_NODE = False
    certificate = NodeCertificate.objects.get()
    assert card.node_certificate == certificate
    assert card.signing_key is None
    keys = DatabaseKeys(other.actor().network_id)
    unsealed = format.unseal(str(card.qr_text), keys)
    assert (
        unsealed.signing_kid.hex() == certificate.kid == answer["extra"]["card_certificate"]["kid"]
    )
    reading = actions.read_card(other.actor(), str(card.qr_text))
    assert reading.issuer == own.society
    assert reading.summary.serial == card.serial
    with pytest.raises(IntegrityError), transaction.atomic():  # a card always has a signer
        Card.objects.filter(pk=card.pk).update(node_certificate=None)


def test_a_card_under_a_forged_certificate_is_refused(
    own: Society, other: Society, carrier: Person, settings: Any
) -> None:
    _enrol(own)
    settings.ROUTECARE_NODE = True
    card = actions.issue_card(own.actor(), carrier)
    # The certificate claims the node belongs to another society of the network.
    NodeCertificate.objects.update(national_society=other.society)
    with pytest.raises(CardError) as refused:
        actions.read_card(other.actor(), str(card.qr_text))
    assert refused.value.code == "untrusted_signer"


def test_after_revocation_only_cards_that_reached_the_server_read(
    own: Society, other: Society, carrier: Person, settings: Any
) -> None:
    node, _answer = _enrol(own)
    later_person = register(own, consents=["care", "share-network"])
    settings.ROUTECARE_NODE = True
    before = actions.issue_card(own.actor(), carrier)
    card_keys = set(CardKey.objects.values_list("kid", flat=True))
    nodes.revoke_node(own.actor("focal_point"), node, "stolen")
    certificate = NodeCertificate.objects.get()
    assert certificate.revoked_at is not None
    assert certificate.allowed_serials == [before.serial]
    # The thief's laptop still holds the key and signs a card, dated as it likes.
    after = actions.issue_card(own.actor(), later_person)
    assert after.node_certificate == certificate
    settings.ROUTECARE_NODE = False
    with pytest.raises(CardError) as refused:
        actions.read_card(other.actor(), str(after.qr_text))
    assert refused.value.code == "node_revoked"
    assert "revoked" in str(READ_ERRORS["node_revoked"])
    assert actions.read_card(other.actor(), str(before.qr_text)).summary.serial == before.serial
    # New cards use a new network card key; the old one still opens the cards made with it.
    new_keys = set(CardKey.objects.filter(retired_at=None).values_list("kid", flat=True))
    assert card_keys < new_keys
    assert Notification.objects.filter(user=own.focal_point, urgent=True).exists()
    assert not Notification.objects.filter(user=other.focal_point).exists()


def test_revoking_twice_changes_nothing_more(own: Society, keys: None) -> None:
    node, _answer = _enrol(own)
    nodes.revoke_node(own.actor("focal_point"), node)
    count = CardKey.objects.count()
    nodes.revoke_node(own.actor("focal_point"), node)
    assert CardKey.objects.count() == count


def test_a_node_of_one_society_gets_a_certificate_for_that_society_only(
    own: Society, other: Society, keys: None
) -> None:
    extra = nodekeys.prepare_node_key()
    _node, answer = _enrol(own, {**extra, "national_society_id": str(other.society.pk)})
    wire = answer["extra"]["card_certificate"]
    assert wire["national_society_id"] == str(own.society.pk)
    certificate = NodeCertificate.objects.get(kid=wire["kid"])
    # Even signed by the node's own society's key, a certificate naming another society fails.
    own_key = SigningKey.objects.get(national_society=own.society)
    claimed = NodeCertificateBody(
        node_kid=bytes.fromhex(certificate.kid),
        node_public_key=bytes.fromhex(certificate.public_key),
        society_id=other.society.pk.bytes,
        node_id=certificate.node_id.bytes,
        not_before=int(certificate.not_before.timestamp()),
        signer_kid=bytes.fromhex(own_key.kid),
    )
    material = SigningKeyMaterial(bytes.fromhex(own_key.kid), _seed(own_key))
    crafted = NodeCertificate(
        **{
            **_fields(certificate),
            "national_society_id": other.society.pk,
            "signature": _sign(claimed, material),
        }
    )
    assert not certificate_verifies(crafted, _trust())


def _seed(key: SigningKey) -> bytes:
    return b64decode(key.seed)


def test_a_bad_node_key_refuses_the_enrolment_and_stores_nothing(own: Society, keys: None) -> None:
    code = nodes.create_enrolment_code(own.actor("focal_point"), own.point)
    for bad in ("not a key", b64encode(bytes(31)).decode()):
        with pytest.raises(ValidationError) as refused:
            nodes.enroll(code, "laptop", extra={"card_public_key": bad})
        assert "Ed25519" in " ".join(refused.value.messages)
    assert not Node.objects.exists()
    assert not NodeCertificate.objects.exists()


def test_a_node_pulls_the_trust_list_with_certificates_revocations_and_no_private_keys(
    own: Society, carrier: Person, settings: Any
) -> None:
    node, _answer = _enrol(own)
    settings.ROUTECARE_NODE = True
    card = actions.issue_card(own.actor(), carrier)
    settings.ROUTECARE_NODE = False
    nodes.revoke_node(own.actor("focal_point"), node)
    references = {group["label"]: group["rows"] for group in page(node, None, 0)["references"]}
    [certificate] = references["cards.nodecertificate"]
    assert certificate["revoked_at"] is not None
    assert certificate["allowed_serials"] == [card.serial]
    assert {row["kid"] for row in references["cards.signingkey"]} == set(
        SigningKey.objects.values_list("kid", flat=True)
    )
    assert all("seed" not in row for row in references["cards.signingkey"])
    assert len(references["cards.cardkey"]) == 2  # the first and the one made at revocation
    assert isinstance(Card.objects.get().node_certificate_id, uuid.UUID)


def _vector() -> dict[str, Any]:
    found = re.search(r"```json test-vector-node-certificate\n(.*?)\n```", DOC.read_text(), re.S)
    assert found is not None
    parsed: dict[str, Any] = json.loads(found.group(1))
    return parsed


def test_the_documented_node_certificate_vector_holds() -> None:
    vector = _vector()
    keys = json.loads(re.findall(r"```json test-vector-keys\n(.*?)\n```", DOC.read_text(), re.S)[0])
    body = NodeCertificateBody(
        node_kid=bytes.fromhex(vector["node_kid"]),
        node_public_key=bytes.fromhex(vector["node_public"]),
        society_id=uuid.UUID(vector["society_id"]).bytes,
        node_id=uuid.UUID(vector["node_id"]).bytes,
        not_before=vector["not_before"],
        signer_kid=bytes.fromhex(keys["signing_key"]["kid"]),
    )
    assert body.to_bytes().hex() == vector["body"]
    society = SigningKeyMaterial(
        bytes.fromhex(keys["signing_key"]["kid"]), bytes.fromhex(keys["signing_key"]["seed"])
    )
    assert format.sign_node_certificate(body, society).hex() == vector["signature"]
    public = bytes.fromhex(keys["signing_key"]["public"])
    assert format.node_certificate_verifies(body, bytes.fromhex(vector["signature"]), public)
    node_material = SigningKeyMaterial(
        bytes.fromhex(vector["node_kid"]), bytes.fromhex(vector["node_seed"])
    )
    assert node_material.public_bytes().hex() == vector["node_public"]


def test_a_node_without_a_certified_key_says_so_when_asked_for_a_card(
    own: Society, carrier: Person, settings: Any
) -> None:
    SigningKey.objects.update(seed=None)  # a node's copy of the trust list: public halves only
    settings.ROUTECARE_NODE = True
    with pytest.raises(ValidationError) as refused:
        actions.issue_card(own.actor(), carrier)
    assert "no certified card key" in " ".join(refused.value.messages)
    assert not Card.objects.exists()


def test_the_key_listing_shows_node_keys_and_their_revocation(own: Society, keys: None) -> None:
    node, _answer = _enrol(own)
    nodes.revoke_node(own.actor("focal_point"), node)
    out = StringIO()
    call_command("card-keys", "list", stdout=out)
    certificate = NodeCertificate.objects.get()
    line = next(line for line in out.getvalue().splitlines() if certificate.kid in line)
    assert "node key" in line
    assert "revoked" in line
    assert "0 cards kept" in line
