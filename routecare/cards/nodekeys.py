"""Field nodes' own card-signing keys (docs/card-format.md, section 6.1).

A node issues cards offline, where its society's private key must not be (a laptop at a
border can be stolen). At enrolment the node makes its own Ed25519 key; the server certifies
its public half with the society's current signing key, for that society and that node only.
Revoking the node revokes the certificate: the cards it issued that reached the server before
stay valid by serial (the cards the server keeps, and those it holds until their person
arrives), any other card signed by its key is refused, and the network's card key
is rotated for new cards (the thief holds the old one).

Connected to the sync app's signals in ``CardsConfig.ready()``; the sync app knows nothing of
cards.
"""

from __future__ import annotations

import binascii
import datetime as dt
import uuid
from base64 import b64decode, b64encode
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from routecare.audit.actions import record_event, record_system_event
from routecare.cards import format
from routecare.cards.keys import certificate_body, create_card_key, new_kid
from routecare.cards.models import Card, NodeCertificate, NodeKey, SigningKey
from routecare.notifications.actions import notify
from routecare.orgs.models import NationalSociety, Role
from routecare.sync.models import HeldChange

# The names under which the key and its certificate travel in the enrolment's "extra".
PUBLIC_KEY_FIELD = "card_public_key"
CERTIFICATE_FIELD = "card_certificate"


# Node side.


def prepare_node_key(**_kwargs: Any) -> dict[str, str]:
    """Before enrolling: a new key pair made here (an earlier, never certified one goes); only
    the public half is sent."""
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    with transaction.atomic():
        NodeKey.objects.filter(certified_at__isnull=True).delete()
        NodeKey.objects.create(public_key=public.hex(), seed=b64encode(seed).decode("ascii"))
    return {PUBLIC_KEY_FIELD: b64encode(public).decode("ascii")}


def store_node_certificate(answer: dict[str, Any], **_kwargs: Any) -> NodeCertificate | None:
    """Once enrolled: keep the certificate the server made for this node's key. A server that
    certifies no key (none asked, or an older one) leaves the node unable to issue cards."""
    extra = answer.get("extra")
    wire = extra.get(CERTIFICATE_FIELD) if isinstance(extra, dict) else None
    if not isinstance(wire, dict):
        return None
    node_key = NodeKey.objects.filter(
        public_key=str(wire.get("public_key")), certified_at__isnull=True
    ).first()
    if (
        node_key is None
        or str(wire.get("node_id")) != str(answer.get("node_id"))
        or str(wire.get("national_society_id")) != str(answer.get("national_society_id"))
    ):
        raise ValueError("the server certified a key that is not this node's")
    certificate, _created = NodeCertificate.objects.update_or_create(
        pk=wire["id"],
        defaults={
            "kid": wire["kid"],
            "public_key": wire["public_key"],
            "node_id": wire["node_id"],
            "national_society_id": wire["national_society_id"],
            "signer_kid": wire["signer_kid"],
            "not_before": dt.datetime.fromisoformat(wire["not_before"]),
            "signature": wire["signature"],
            "issued_at": dt.datetime.fromisoformat(wire["issued_at"]),
        },
    )
    node_key.kid, node_key.certified_at = certificate.kid, timezone.now()
    node_key.save(update_fields=["kid", "certified_at"])
    return certificate


# Server side.


def _public_key(raw: object) -> bytes:
    try:
        public = b64decode(str(raw), validate=True)
        Ed25519PublicKey.from_public_bytes(public)
    except (binascii.Error, ValueError) as error:
        raise ValidationError(
            {"extra": _("The node's card key is not a valid Ed25519 public key.")}
        ) from error
    return public


def certify(society: NationalSociety, node_id: uuid.UUID, public: bytes) -> NodeCertificate:
    """The society's current signing key vouches for the node's key, for this society and this
    node only. The society comes from the node's enrolment code, never from what it sends."""
    signing_key = (
        SigningKey.objects.filter(national_society=society, retired_at__isnull=True)
        .exclude(seed=None)
        .first()
    )
    if signing_key is None:
        raise ValidationError(
            _(
                "Card keys are not set up yet: a system administrator runs "
                "`routecare card-keys init`."
            )
        )
    if NodeCertificate.objects.filter(public_key=public.hex()).exists():
        raise ValidationError({"extra": _("This card key is already certified: make a new one.")})
    certificate = NodeCertificate(
        kid=new_kid(),
        public_key=public.hex(),
        node_id=node_id,
        national_society=society,
        signer_kid=signing_key.kid,
        not_before=timezone.now().replace(microsecond=0),
    )
    material = format.SigningKeyMaterial(
        bytes.fromhex(signing_key.kid), b64decode(signing_key.seed)
    )
    signature = format.sign_node_certificate(certificate_body(certificate), material)
    certificate.signature = signature.hex()
    certificate.save(force_insert=True)
    record_system_event(
        "create", "node_certificate", certificate.kid, national_society_id=society.pk,
        detail=f"node {node_id}, certified by {signing_key.kid}",
    )  # fmt: skip
    return certificate


def as_wire(certificate: NodeCertificate) -> dict[str, str]:
    return {
        "id": str(certificate.pk),
        "kid": certificate.kid,
        "public_key": certificate.public_key,
        "node_id": str(certificate.node_id),
        "national_society_id": str(certificate.national_society_id),
        "signer_kid": certificate.signer_kid,
        "not_before": certificate.not_before.isoformat(),
        "signature": certificate.signature,
        "issued_at": certificate.issued_at.isoformat(),
    }


def certify_node_key(node: Any, extra: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
    """``node_enrolling``: certify the key the node sent, if it sent one."""
    raw = extra.get(PUBLIC_KEY_FIELD)
    if raw is None:
        return {}
    public = _public_key(raw)
    society = NationalSociety.objects.get(pk=node.national_society_id)
    if not SigningKey.objects.filter(national_society=society, retired_at__isnull=True).exists():
        # Cards are not set up in this society yet: the node enrols, and issues no cards
        # until it is enrolled again once they are (the node says so when asked to issue).
        return {}
    return {CERTIFICATE_FIELD: as_wire(certify(society, node.pk, public))}


def _held_serials(node_id: uuid.UUID) -> set[str]:
    """Cards of the node that reached the server before their person did: held, not refused,
    they reached it, and are kept once their person arrives (``actions.receive_node_card``)."""
    serials: set[str] = set()
    held = HeldChange.objects.filter(node_id=node_id).exclude(waiting_for__startswith="refused:")
    for change in held.values_list("change", flat=True):
        values = change.get("values") if isinstance(change, dict) else None
        if isinstance(values, dict) and change.get("label") == "cards.card":
            serial = values.get("serial")
            if isinstance(serial, str) and len(serial) == 16:
                serials.add(serial)
    return serials


def revoke_node_key(node: Any, actor: Any, **_kwargs: Any) -> NodeCertificate | None:
    """``node_revoked``: the certificate is revoked, keeping the serials of the cards this
    node issued that reached the server; the network's card key is rotated for new cards; the
    society's focal points are told."""
    certificate = NodeCertificate.objects.select_for_update().filter(node_id=node.pk).first()
    if certificate is None or certificate.revoked_at is not None:
        return certificate
    certificate.allowed_serials = sorted(
        set(Card.objects.filter(node_certificate=certificate).values_list("serial", flat=True))
        | _held_serials(node.pk)
    )
    certificate.revoked_at = timezone.now()
    certificate.save(update_fields=["allowed_serials", "revoked_at"])
    society = NationalSociety.objects.select_related("network").get(
        pk=certificate.national_society_id
    )
    card_key = create_card_key(society.network)
    detail = (
        f"node {node.pk} revoked; {len(certificate.allowed_serials)} cards stay valid; "
        f"new card key {card_key.kid}"
    )
    if actor is not None:
        record_event(actor, "revoke", "node_certificate", certificate.kid, detail=detail)
    else:
        record_system_event(
            "revoke", "node_certificate", certificate.kid, national_society_id=society.pk,
            detail=detail,
        )  # fmt: skip
    focal_points = User.objects.filter(
        is_active=True,
        membership__national_society_id=society.pk,
        membership__role=Role.FOCAL_POINT,
    )
    notify(
        focal_points,
        _(
            "Field node %(name)s was revoked: cards signed by its key after that are refused, "
            "and new cards use a new network card key."
        )
        % {"name": str(node.name)[:40]},
        reverse("sync:nodes"),
        urgent=True,
    )
    return certificate
