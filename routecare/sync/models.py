"""Field nodes and what travels between them and their server.

Server side: ``Node`` (an enrolled laptop at a service point), ``EnrolmentCode``,
``AppliedChange`` (one row per change ever applied: its primary key is the change id, so the
database, not a check-then-insert, makes a change apply once), ``HeldChange`` (arrived before
the record it needs), ``SyncConflict`` (the same field changed differently in two places),
``RecordVersion`` (each synced record's version, bumped on every save), ``NodeAuthority`` (a
society's private certificate authority for its nodes' HTTPS) and ``NodeTLSCertificate`` (what
it signed for each node).

Node side: ``NodeState`` (this node's enrolment), ``OutboxChange`` (written in the same
transaction as the change it describes; deleted only when the server acknowledged it) and
``BaseRecord`` (the values a record had at the version this node last saw, for three-way
merges).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from routecare.core.crypto import EncryptedJSONField


class Node(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=80)
    service_point = models.ForeignKey(
        "orgs.ServicePoint", on_delete=models.PROTECT, related_name="nodes"
    )
    national_society = models.ForeignKey(
        "orgs.NationalSociety", on_delete=models.PROTECT, related_name="nodes"
    )
    # SHA-256 of the node's secret: the secret itself exists only on the node.
    credential_digest = models.CharField(max_length=64, unique=True)
    enrolled_at = models.DateTimeField(default=timezone.now)
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_contact_at = models.DateTimeField(null=True, blank=True)
    version = models.CharField(max_length=40, blank=True, default="")  # RouteCare on the node
    backlog = models.PositiveIntegerField(default=0)  # changes the node said were waiting
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class EnrolmentCode(models.Model):
    """A one-time code a focal point gives to the person setting up a node: bound to one
    service point, valid 24 hours. Only its digest is kept."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    digest = models.CharField(max_length=64, unique=True)
    service_point = models.ForeignKey(
        "orgs.ServicePoint", on_delete=models.CASCADE, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    node = models.ForeignKey(Node, null=True, blank=True, on_delete=models.SET_NULL)

    def __str__(self) -> str:
        return f"enrolment code for {self.service_point_id}"


class AppliedChange(models.Model):
    """A change from a node that the server applied. The primary key is the change's own id:
    a second insert of the same change fails in the database, whatever the timing."""

    class Outcome(models.TextChoices):
        APPLIED = "applied", _("applied")
        MERGED = "merged", _("merged with changes made elsewhere")
        CONFLICT = "conflict", _("applied, with conflicts for a coordinator")

    id = models.UUIDField(primary_key=True, editable=False)
    node = models.ForeignKey(Node, on_delete=models.PROTECT, related_name="applied_changes")
    label = models.CharField(max_length=40)
    record_id = models.UUIDField()
    digest = models.CharField(max_length=64)  # of the change's content, to tell a replay
    hlc = models.CharField(max_length=60)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    version = models.PositiveIntegerField(default=0)  # of the record after this change
    applied_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["node", "applied_at"])]

    def __str__(self) -> str:
        return f"{self.label} {self.record_id} ({self.outcome})"


class HeldChange(models.Model):
    """A change that arrived before a record it needs (an encounter before its person): kept,
    visible as backlog, and applied when that record arrives."""

    id = models.UUIDField(primary_key=True, editable=False)  # the change id
    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="held_changes")
    waiting_for = models.CharField(max_length=80, db_index=True)  # "label:record id"
    change = EncryptedJSONField()  # it may carry health data
    digest = models.CharField(max_length=64)
    received_at = models.DateTimeField(default=timezone.now)
    problem = models.CharField(max_length=300, blank=True, default="")  # refused on release

    def __str__(self) -> str:
        return f"held change waiting for {self.waiting_for}"


class SyncConflict(models.Model):
    """The same field of one record changed differently in two places since the version both
    started from. The server keeps its value until a coordinator picks or combines."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    national_society = models.ForeignKey(
        "orgs.NationalSociety", on_delete=models.CASCADE, related_name="+"
    )
    label = models.CharField(max_length=40)
    record_id = models.UUIDField()
    person_id = models.UUIDField(null=True, blank=True)
    field = models.CharField(max_length=40)
    server_value = EncryptedJSONField(null=True)
    node_value = EncryptedJSONField(null=True)
    server_chosen_by = models.CharField(max_length=150, blank=True)  # who set the server value
    node_chosen_by = models.CharField(max_length=150, blank=True)  # who set it on the node
    node = models.ForeignKey(Node, null=True, on_delete=models.SET_NULL, related_name="+")
    change_id = models.UUIDField()
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["change_id", "field"], name="one_conflict_per_field")
        ]

    def __str__(self) -> str:
        return f"conflict on {self.label}.{self.field}"


class RecordVersion(models.Model):
    """The version of each synced record: 1 when created, +1 on every save on the server."""

    label = models.CharField(max_length=40)
    record_id = models.UUIDField()
    version = models.PositiveIntegerField(default=1)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["label", "record_id"], name="one_version_per_record")
        ]

    def __str__(self) -> str:
        return f"{self.label} {self.record_id} v{self.version}"


class NodeState(models.Model):
    """This machine's enrolment as a node (one row, on nodes only)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    node_id = models.UUIDField()
    server_url = models.URLField()
    credential = EncryptedJSONField()  # the node's secret, encrypted with the field keys
    service_point_id = models.UUIDField()
    national_society_id = models.UUIDField()
    enrolled_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True, default="")
    last_hlc = models.CharField(max_length=60, blank=True, default="")
    # The server's time at the start of the last complete pull: the next pull asks for what
    # changed since.
    pulled_until = models.DateTimeField(null=True, blank=True)
    # Conflicts the server holds open for this node's changes, as of the last pull: a
    # coordinator resolves them there (Sync conflicts); the node shows how many wait.
    open_conflicts = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"node {self.node_id}"


class OutboxChange(models.Model):
    """A change made on this node, waiting for the server's acknowledgement.

    Written in the same transaction as the change itself, so a power cut loses both or
    neither. Its content is frozen when first sent: a retry after a cut connection sends the
    same content under the same id (a later edit of the record is a new change)."""

    class State(models.TextChoices):
        WAITING = "waiting", _("waiting")
        REFUSED = "refused", _("refused by the server")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    label = models.CharField(max_length=40)
    record_id = models.UUIDField()
    created_at = models.DateTimeField(default=timezone.now)
    hlc = models.CharField(max_length=60)
    frozen = EncryptedJSONField(null=True, blank=True)  # the change as sent, once sent
    state = models.CharField(max_length=10, choices=State.choices, default=State.WAITING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        ordering = ["hlc"]
        indexes = [models.Index(fields=["label", "record_id"])]

    def __str__(self) -> str:
        return f"{self.label} {self.record_id} ({self.state})"


class BaseRecord(models.Model):
    """On a node: a record's values at the server version this node last saw."""

    label = models.CharField(max_length=40)
    record_id = models.UUIDField()
    version = models.PositiveIntegerField(default=0)
    values = EncryptedJSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["label", "record_id"], name="one_base_per_record")
        ]

    def __str__(self) -> str:
        return f"{self.label} {self.record_id} at v{self.version}"


class ErasedRecord(models.Model):
    """On the server: a synced record deleted here (erasure on request, retention purge).
    Nodes delete their copy first thing at their next pull, and a change for it from a node
    is dropped, never applied again."""

    label = models.CharField(max_length=40)
    record_id = models.UUIDField()
    erased_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["label", "record_id"], name="one_erasure_per_record")
        ]

    def __str__(self) -> str:
        return f"{self.label} {self.record_id} erased"


class NodeAuthority(models.Model):
    """A National Society's private certificate authority for its field nodes' HTTPS
    (routecare.sync.tls): its root certificate, which staff phones install once, and its
    private key, encrypted at rest with the field keys."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    national_society = models.OneToOneField(
        "orgs.NationalSociety", on_delete=models.PROTECT, related_name="+"
    )
    certificate = models.TextField()  # PEM, public
    private_key = EncryptedJSONField()  # PEM (PKCS#8) of its ECDSA P-256 key
    fingerprint = models.CharField(max_length=95)  # SHA-256 of the certificate, AB:CD:…
    created_at = models.DateTimeField(default=timezone.now)
    not_after = models.DateTimeField()

    def __str__(self) -> str:
        return f"field nodes CA of {self.national_society_id}"


class NodeTLSCertificate(models.Model):
    """An HTTPS certificate the society's authority signed for a node at its enrolment. Revoked
    with the node (phones check no revocation list offline: docs/threat-model.md)."""

    serial = models.CharField(max_length=40, primary_key=True)  # hexadecimal
    node = models.ForeignKey(Node, on_delete=models.PROTECT, related_name="tls_certificates")
    authority = models.ForeignKey(NodeAuthority, on_delete=models.PROTECT, related_name="+")
    names = models.JSONField(default=list)  # host names and IP addresses, as asked
    certificate = models.TextField()  # PEM
    issued_at = models.DateTimeField(default=timezone.now)
    not_after = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["issued_at"]

    def __str__(self) -> str:
        return f"TLS certificate {self.serial} of node {self.node_id}"
