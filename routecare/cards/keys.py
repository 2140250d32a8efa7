"""Card key management (create, rotate, retire) and the key resolver readers use.

A network has one current card key (the newest unretired); a National Society has one current
signing key. Rotating makes a new current key and keeps the old ones working; retiring stops a
key from opening or vouching for any card.
"""

from __future__ import annotations

import os
import uuid
from base64 import b64decode, b64encode
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from routecare.audit.actions import record_system_event
from routecare.cards.format import (
    KID_BYTES,
    CardError,
    CardKeyMaterial,
    NodeCertificateBody,
    SigningKeyMaterial,
    node_certificate_verifies,
)
from routecare.cards.models import (
    Card,
    CardKey,
    NodeCertificate,
    NodeKey,
    RevokedSerial,
    SigningKey,
)
from routecare.core import caching
from routecare.core.prepared import Prepared
from routecare.orgs.models import NationalSociety, Network


class KeyManagementError(ValueError):
    """An operator asked for something the keys do not allow (shown as the command's error)."""


def new_kid() -> str:
    while True:
        kid = os.urandom(KID_BYTES).hex()
        if not (
            CardKey.objects.filter(kid=kid).exists()
            or SigningKey.objects.filter(kid=kid).exists()
            or NodeCertificate.objects.filter(kid=kid).exists()
        ):
            return kid


@transaction.atomic
def create_card_key(network: Network) -> CardKey:
    """A new current card key for the network (the previous one keeps decrypting)."""
    network = Network.objects.select_for_update().get(pk=network.pk)
    if network.card_number is None:
        highest = Network.objects.aggregate(highest=Max("card_number"))["highest"] or 0
        network.card_number = highest + 1
        network.save(update_fields=["card_number"])
    key = CardKey.objects.create(
        network=network, kid=new_kid(), secret=b64encode(os.urandom(32)).decode("ascii")
    )
    record_system_event("create", "card_key", key.kid, detail=f"network {network.slug}")
    return key


@transaction.atomic
def create_signing_key(society: NationalSociety) -> SigningKey:
    """A new current signing key for the society; older ones stay on the trust list."""
    seed = os.urandom(32)
    kid = new_kid()
    public = SigningKeyMaterial(bytes.fromhex(kid), seed).public_bytes()
    key = SigningKey.objects.create(
        national_society=society,
        kid=kid,
        seed=b64encode(seed).decode("ascii"),
        public_key=public.hex(),
    )
    record_system_event(
        "create", "signing_key", key.kid, national_society_id=society.pk, detail=society.name
    )
    return key


@transaction.atomic
def retire_key(kid: str) -> CardKey | SigningKey:
    """Retire a card or signing key: cards under it can no longer be read. Not reversible."""
    key: CardKey | SigningKey | None = (
        CardKey.objects.select_for_update().filter(kid=kid).first()
        or SigningKey.objects.select_for_update().filter(kid=kid).first()
    )
    if key is None:
        raise KeyManagementError(f"no key with id {kid}")
    if key.retired_at is not None:
        raise KeyManagementError(f"key {kid} is already retired")
    if isinstance(key, CardKey):
        others = CardKey.objects.filter(network_id=key.network_id, retired_at__isnull=True)
        if not others.exclude(pk=key.pk).exists():
            raise KeyManagementError("rotate first: this is the network's only card key")
    else:
        others_signing = SigningKey.objects.filter(
            national_society_id=key.national_society_id, retired_at__isnull=True
        )
        if not others_signing.exclude(pk=key.pk).exists():
            raise KeyManagementError("rotate first: this is the society's only signing key")
    key.retired_at = timezone.now()
    key.save(update_fields=["retired_at"])
    society_id = key.national_society_id if isinstance(key, SigningKey) else None
    kind = "card_key" if isinstance(key, CardKey) else "signing_key"
    record_system_event("change", kind, kid, national_society_id=society_id, detail="retired")
    return key


def ensure_keys(network: Network) -> None:
    """Keys for a network and each of its societies, made if missing (demo data, set-up)."""
    if not CardKey.objects.filter(network=network, retired_at__isnull=True).exists():
        create_card_key(network)
    for society in network.societies.all():
        if not SigningKey.objects.filter(
            national_society=society, retired_at__isnull=True
        ).exists():
            create_signing_key(society)


@dataclass(frozen=True)
class IssuingKeys:
    """What a card is issued with: the network's current card key and either the society's
    current signing key (a server) or, on a field node, the node's certified key."""

    network_number: int
    card_key: CardKey
    signing_key: SigningKey | None
    node_certificate: NodeCertificate | None = None
    node_key: NodeKey | None = None

    def materials(self) -> tuple[CardKeyMaterial, SigningKeyMaterial]:
        card = CardKeyMaterial(bytes.fromhex(self.card_key.kid), b64decode(self.card_key.secret))
        if self.node_key is not None:
            return card, SigningKeyMaterial(
                bytes.fromhex(self.node_key.kid), b64decode(self.node_key.seed)
            )
        if self.signing_key is None or not self.signing_key.seed:
            raise KeyManagementError("this machine holds no private signing key")
        return card, SigningKeyMaterial(
            bytes.fromhex(self.signing_key.kid), b64decode(self.signing_key.seed)
        )


def _node_issuing_key(society: NationalSociety) -> tuple[NodeCertificate, NodeKey] | None:
    """On a field node: its certified key, if it has one for this society."""
    if not settings.ROUTECARE_NODE:
        return None
    node_key = NodeKey.objects.exclude(kid="").filter(certified_at__isnull=False).first()
    if node_key is None:
        return None
    certificate = NodeCertificate.objects.filter(kid=node_key.kid).first()
    if certificate is None or certificate.national_society_id != society.pk:
        raise KeyManagementError("this node's card key is not certified for this society")
    return certificate, node_key


def issuing_keys(society: NationalSociety) -> IssuingKeys:
    """The current keys a society issues cards with; an error an operator can act on if none.
    A field node with a certified key signs with it (its society's private key is not here)."""
    card_key = CardKey.objects.filter(
        network_id=society.network_id, retired_at__isnull=True
    ).first()
    number = Network.objects.values_list("card_number", flat=True).get(pk=society.network_id)
    node = _node_issuing_key(society)
    if card_key is not None and number is not None and node is not None:
        return IssuingKeys(number, card_key, None, node_certificate=node[0], node_key=node[1])
    signing_key = SigningKey.objects.filter(
        national_society=society, retired_at__isnull=True
    ).first()
    if card_key is None or signing_key is None:
        raise KeyManagementError("no card keys yet: run `routecare card-keys init`")
    if number is None:  # pragma: no cover - given with the network's first card key
        raise KeyManagementError("the network has no card number: run `routecare card-keys init`")
    return IssuingKeys(number, card_key, signing_key)


# Every card read looks up its network and both its keys: they are kept in the process's cache
# (core.caching) for KEY_SECONDS. Saving a network or key (rotation, retirement) drops them at
# once in the process (apps.py); other processes refuse a retired key within KEY_SECONDS. The
# revocation list is never cached.
#
# A card's header is read before anything is verified, so no cache key is ever made of it: the
# networks with their card keys are kept as one entry, each network's trust list as one entry
# (named by the network's id, known only once its card key decrypted the card). Hostile headers
# then cannot fill the cache or push the real keys out of it. Both are shared objects (readers
# never change them), so a read does not copy every key.
CARD_KEYS = "card-keys"
KEY_SECONDS = 60


@dataclass(frozen=True)
class NetworkKeys:
    network: Network
    card_keys: dict[str, CardKey]  # by kid (hex)


def _networks() -> dict[int, NetworkKeys]:
    """Every network with a card number, with its card keys, by card number."""

    def read() -> dict[int, NetworkKeys]:
        networks = {
            network.card_number: NetworkKeys(network, {})
            for network in Network.objects.filter(card_number__isnull=False)
            if network.card_number is not None
        }
        for key in CardKey.objects.filter(network__card_number__isnull=False).select_related(
            "network"
        ):
            number = key.network.card_number
            if number in networks:
                networks[number].card_keys[key.kid] = key
        return networks

    return caching.remember(CARD_KEYS, ("networks",), KEY_SECONDS, read, shared=True)


def _trust_list(network_id: uuid.UUID) -> dict[str, SigningKey]:
    """The signing keys of a network's societies, retired ones too, by kid (hex)."""

    def read() -> dict[str, SigningKey]:
        keys = (
            SigningKey.objects.filter(national_society__network_id=network_id)
            .select_related("national_society")
            .defer("seed")  # the private half: readers need the public key only
        )
        return {key.kid: key for key in keys}

    return caching.remember(CARD_KEYS, ("trust-list", network_id), KEY_SECONDS, read, shared=True)


def _node_certificates(network_id: uuid.UUID) -> dict[str, NodeCertificate]:
    """The certificates of a network's field nodes, revoked ones too, by node kid (hex)."""

    def read() -> dict[str, NodeCertificate]:
        certificates = NodeCertificate.objects.filter(national_society__network_id=network_id)
        return {certificate.kid: certificate for certificate in certificates}

    return caching.remember(CARD_KEYS, ("nodes", network_id), KEY_SECONDS, read, shared=True)


def certificate_body(certificate: NodeCertificate) -> NodeCertificateBody:
    return NodeCertificateBody(
        node_kid=bytes.fromhex(certificate.kid),
        node_public_key=bytes.fromhex(certificate.public_key),
        society_id=certificate.national_society_id.bytes,
        node_id=certificate.node_id.bytes,
        not_before=int(certificate.not_before.timestamp()),
        signer_kid=bytes.fromhex(certificate.signer_kid),
    )


def certificate_verifies(certificate: NodeCertificate, trust: dict[str, SigningKey]) -> bool:
    """Whether a signing key of the certificate's own society, on the trust list, signed it."""
    society_key = trust.get(certificate.signer_kid)
    if society_key is None or society_key.national_society_id != certificate.national_society_id:
        return False
    try:
        return node_certificate_verifies(
            certificate_body(certificate),
            bytes.fromhex(certificate.signature),
            bytes.fromhex(society_key.public_key),
        )
    except ValueError:  # not hex
        return False


class DatabaseKeys:
    """Resolves a card's keys from the database. Bound to a reader's network, it refuses cards
    of every other network; unbound (the command line), it accepts any network it holds."""

    def __init__(self, network_id: uuid.UUID | None = None) -> None:
        self.network_id = network_id
        self.card_key_used: CardKey | None = None
        # The society key a card was signed by, or that certified the node key that signed it.
        self.signing_key_used: SigningKey | None = None
        self.node_certificate_used: NodeCertificate | None = None

    def _network(self, number: int) -> NetworkKeys:
        found = _networks().get(number)
        if found is None:
            raise CardError("unknown_network")
        if self.network_id is not None and found.network.pk != self.network_id:
            raise CardError("wrong_network")
        return found

    def card_key(self, network: int, kid: bytes) -> bytes:
        key = self._network(network).card_keys.get(kid.hex())
        if key is None:
            raise CardError("unknown_key")
        if key.retired_at is not None:
            raise CardError("retired_key")
        self.card_key_used = key
        return b64decode(key.secret)

    def verify_key(self, network: int, kid: bytes) -> bytes:
        network_id = self._network(network).network.pk
        trust = _trust_list(network_id)
        key = trust.get(kid.hex())
        if key is None:
            return self._node_key(network_id, kid.hex(), trust)
        if key.retired_at is not None:
            raise CardError("retired_key")
        self.signing_key_used = key
        return bytes.fromhex(key.public_key)

    def _node_key(self, network_id: uuid.UUID, kid: str, trust: dict[str, SigningKey]) -> bytes:
        """A field node's key: trusted only through a certificate that its society's key,
        itself on the trust list and not retired, signed (section 6.1)."""
        certificate = _node_certificates(network_id).get(kid)
        if certificate is None:
            raise CardError("untrusted_signer")
        if not certificate_verifies(certificate, trust):
            raise CardError("untrusted_signer", "node certificate does not verify")
        society_key = trust[certificate.signer_kid]
        if society_key.retired_at is not None:
            raise CardError("retired_key")
        self.signing_key_used = society_key
        self.node_certificate_used = certificate
        return bytes.fromhex(certificate.public_key)

    def check_node_serial(self, serial: str) -> None:
        """A card signed by a revoked node's key is valid only if its serial reached the
        server before the revocation: never by its date, which the key's thief writes."""
        certificate = self.node_certificate_used
        if certificate is None or certificate.revoked_at is None:
            return
        if serial not in set(certificate.allowed_serials or ()):
            raise CardError("node_revoked", certificate.kid)


# Asked on every card read, compiled once (core.prepared); never cached, so a revocation
# counts from the moment it is written.
_REVOCATION: Prepared[tuple[str]] = Prepared(
    lambda network, serial: (
        RevokedSerial.objects.filter(network_id=network, serial=serial)
        .order_by("pk")
        .values_list("reason")[:1]
    ),
    network=uuid.UUID,
    serial=str,
)


def check_not_revoked(network_id: uuid.UUID | None, serial: str) -> None:
    """Raise ``CardError`` if the network's revocation list names the serial."""
    if network_id is None:
        raise CardError("wrong_network")
    revocation = _REVOCATION.first(network=network_id, serial=serial)
    if revocation is not None:
        (reason,) = revocation
        codes = {
            RevokedSerial.Reason.SUPERSEDED: "superseded",
            RevokedSerial.Reason.WITHDRAWN: "withdrawn",
        }
        code = codes.get(RevokedSerial.Reason(reason), "revoked")
        raise CardError(code, reason)


@transaction.atomic
def revoke_serial(serial: str, reason: str) -> RevokedSerial:
    """Revoke a card issued on this server by its serial (the operator's way, without a person
    page). Staff revoke from the person's card page, which also ends the card there."""
    card = Card.objects.select_related("national_society").filter(serial=serial.lower()).first()
    if card is None:
        raise KeyManagementError(f"no card with serial {serial!r} was issued here")
    if reason not in (RevokedSerial.Reason.LOST, RevokedSerial.Reason.STOLEN):
        raise KeyManagementError("the reason is lost or stolen")
    if card.ended_at is None:
        card.ended_at = timezone.now()
        card.save(update_fields=["ended_at"])
    revocation, _created = RevokedSerial.objects.get_or_create(
        network_id=card.national_society.network_id,
        serial=card.serial,
        defaults={"reason": reason, "national_society_id": card.national_society_id},
    )
    record_system_event(
        "change", "card", card.serial, national_society_id=card.national_society_id,
        detail=f"revoked: {reason}",
    )  # fmt: skip
    return revocation
