"""Card keys, the cards issued and the network's revocation list.

Secret key material is encrypted at rest like every sensitive field (``rotate-keys`` re-encrypts
it too). Public signing keys are the network's trust list and are not secret.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from routecare.core.crypto import EncryptedJSONField
from routecare.orgs.models import NationalSociety, Network, ServicePoint
from routecare.people.models import Person


class CardKey(models.Model):
    """A network's AES-256 card key. The newest unretired one encrypts new cards; older ones
    keep decrypting the cards issued under them until they are retired."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    network = models.ForeignKey(Network, on_delete=models.PROTECT, related_name="card_keys")
    kid = models.CharField(max_length=8, unique=True)  # 4 bytes, hex
    secret = EncryptedJSONField()  # base64 of 32 bytes
    created_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"card key {self.kid} of {self.network_id}"


class SigningKey(models.Model):
    """A National Society's Ed25519 key. Its public half is on the network's trust list until
    it is retired; the newest unretired one signs new cards."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    national_society = models.ForeignKey(
        NationalSociety, on_delete=models.PROTECT, related_name="signing_keys"
    )
    kid = models.CharField(max_length=8, unique=True)  # 4 bytes, hex
    # base64 of the 32-byte private key; empty on a field node's copy (public half only)
    seed = EncryptedJSONField(null=True)
    public_key = models.CharField(max_length=64)  # hex of 32 bytes
    created_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"signing key {self.kid} of {self.national_society_id}"


class NodeCertificate(models.Model):
    """A field node's card-signing key, certified by its society's signing key at enrolment
    (docs/card-format.md, section 6.1). On the network's trust list with its revocation: once
    revoked, only the serials listed in ``allowed_serials`` (cards that reached the server
    before) stay valid; a card's date cannot decide, a thief can write any date."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kid = models.CharField(max_length=8, unique=True)  # 4 bytes, hex
    public_key = models.CharField(max_length=64)  # hex of 32 bytes
    node_id = models.UUIDField(unique=True)  # the sync app's node; no foreign key to it
    # No database constraint: a node stores its own certificate at enrolment, before its
    # first sync brings the society's row.
    national_society = models.ForeignKey(
        NationalSociety, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    signer_kid = models.CharField(max_length=8)  # the society's signing key that certified it
    not_before = models.DateTimeField()  # whole seconds: it is signed as Unix seconds
    signature = models.CharField(max_length=128)  # hex of 64 bytes
    issued_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    allowed_serials = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-issued_at"]

    def __str__(self) -> str:
        return f"node key {self.kid} of node {self.node_id}"


class NodeKey(models.Model):
    """On a field node only: its own card-signing key. The private half never leaves the node
    and is encrypted at rest like the society's keys; ``kid`` is set once certified."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kid = models.CharField(max_length=8, blank=True, default="")
    public_key = models.CharField(max_length=64, unique=True)  # hex of 32 bytes
    seed = EncryptedJSONField()  # base64 of the 32-byte private key
    created_at = models.DateTimeField(default=timezone.now)
    certified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"this node's key {self.kid or '(not certified)'}"


class Card(models.Model):
    """A card issued to a person: kept so it can be printed again, superseded or revoked."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    serial = models.CharField(max_length=16, unique=True)  # 8 random bytes, hex
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="cards")
    national_society = models.ForeignKey(
        NationalSociety, on_delete=models.PROTECT, related_name="cards"
    )
    issued_at_point = models.ForeignKey(ServicePoint, on_delete=models.PROTECT, related_name="+")
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    issued_at = models.DateTimeField(default=timezone.now)
    card_key = models.ForeignKey(CardKey, on_delete=models.PROTECT, related_name="cards")
    # The society's key that signed it, or (a card issued on a field node) the node's key.
    signing_key = models.ForeignKey(
        SigningKey, null=True, blank=True, on_delete=models.PROTECT, related_name="cards"
    )
    node_certificate = models.ForeignKey(
        "NodeCertificate", null=True, blank=True, on_delete=models.PROTECT, related_name="cards"
    )
    # The QR text itself: ciphertext already, encrypted again at rest with the field keys.
    qr_text = EncryptedJSONField()
    qr_version = models.PositiveSmallIntegerField()
    dropped = models.JSONField(default=dict, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-issued_at"]
        constraints = [
            # Signed by the society's key or by a field node's, never by neither.
            models.CheckConstraint(
                condition=models.Q(signing_key__isnull=False)
                | models.Q(node_certificate__isnull=False),
                name="card_has_a_signer",
            )
        ]

    def __str__(self) -> str:
        return f"card {self.serial}"


class RevokedSerial(models.Model):
    """The network's revocation list: serials no reader may accept any more."""

    class Reason(models.TextChoices):
        SUPERSEDED = "superseded", _("Replaced by a newer card")
        LOST = "lost", _("Lost")
        STOLEN = "stolen", _("Stolen")
        WITHDRAWN = "withdrawn", _("Consent withdrawn")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    network = models.ForeignKey(Network, on_delete=models.PROTECT, related_name="revocations")
    serial = models.CharField(max_length=16)
    reason = models.CharField(max_length=12, choices=Reason.choices)
    revoked_at = models.DateTimeField(default=timezone.now)
    national_society = models.ForeignKey(
        NationalSociety, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["network", "serial"], name="one_revocation_per_serial")
        ]

    def __str__(self) -> str:
        return f"revoked {self.serial} ({self.reason})"


class CarriedCard(models.Model):
    """A card from another society of the network that a local record was started from or
    read for: links the two without a shared record, and lets this society cancel it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="carried_cards")
    issuer = models.ForeignKey(NationalSociety, on_delete=models.PROTECT, related_name="+")
    short_code = models.CharField(max_length=11)
    serial = models.CharField(max_length=16)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "serial"], name="one_link_per_card")
        ]
        indexes = [models.Index(fields=["issuer", "short_code"])]

    def __str__(self) -> str:
        return f"card {self.serial} carried by {self.person_id}"
