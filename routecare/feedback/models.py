"""Feedback along the route, and the FAQ staff and volunteers answer from.

Feedback is about a service point or a National Society anywhere on the network (a country
behind the person included) or RouteCare in general. It reaches the society it is about,
never the one whose page or staff took it (that one keeps a receipt). Sensitive items (abuse,
exploitation, discrimination by staff) reach the safeguarding focal points only. Texts and the
way to answer the person are encrypted at rest; no IP address or account is stored.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from routecare.core.crypto import EncryptedJSONField
from routecare.orgs.models import NationalSociety, Network, ServicePoint


class Category(models.TextChoices):
    COMPLAINT = "complaint", _("Complaint")
    PRAISE = "praise", _("Praise")
    QUESTION = "question", _("Question")
    SUGGESTION = "suggestion", _("Suggestion")
    SENSITIVE = "sensitive", _("Sensitive: abuse, exploitation, discrimination by staff")


class Channel(models.TextChoices):
    WEB = "web", _("Public page")
    STAFF = "staff", _("Recorded by staff")
    MESSAGING = "messaging", _("Messaging")


class Status(models.TextChoices):
    NEW = "new", _("New")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    IN_PROGRESS = "in-progress", _("In progress")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


class ContactMethod(models.TextChoices):
    WHATSAPP = "whatsapp", _("WhatsApp")
    TELEGRAM = "telegram", _("Telegram")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("Email")


class Feedback(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Given to the person as their receipt: to look the answer up, without an account.
    reference = models.CharField(max_length=12, unique=True)
    network = models.ForeignKey(Network, on_delete=models.PROTECT, related_name="+")
    # What it is about: a point (and its society), a society, or neither (RouteCare).
    about_society = models.ForeignKey(
        NationalSociety, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    about_point = models.ForeignKey(
        ServicePoint, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    category = models.CharField(max_length=12, choices=Category.choices)
    text = EncryptedJSONField()
    language = models.CharField(max_length=8)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    # Only when the person agreed to be answered: {"method": ..., "value": ...}.
    contact = EncryptedJSONField(null=True, blank=True)
    # The society whose public page or staff took it: it keeps a receipt, not the content.
    received_by = models.ForeignKey(
        NationalSociety, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A hash of the form's one-time token: sending the same form twice stores it once.
    submission_key = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    faq_entry = models.ForeignKey(
        "FaqEntry", null=True, blank=True, on_delete=models.SET_NULL, related_name="questions"
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["about_society", "category", "created_at"]),
            models.Index(fields=["network", "category", "created_at"]),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def sensitive(self) -> bool:
        return self.category == Category.SENSITIVE

    @property
    def answerable(self) -> bool:
        return bool(self.contact)


class FeedbackNote(models.Model):
    """An internal note of the staff handling an item: never shown to the person."""

    feedback = models.ForeignKey(Feedback, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = EncryptedJSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"note on {self.feedback_id}"


class FeedbackResponse(models.Model):
    """An answer to the person: shown with their receipt, and sent the way they chose."""

    feedback = models.ForeignKey(Feedback, on_delete=models.CASCADE, related_name="responses")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = EncryptedJSONField()
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"response to {self.feedback_id}"


class FaqStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    APPROVED = "approved", _("Approved")
    RETIRED = "retired", _("Retired")


class FaqEntry(models.Model):
    """A standard answer of a network's staff and volunteers, in their languages; public
    entries also appear on the pages for people on the move."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    network = models.ForeignKey(Network, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=FaqStatus.choices, default=FaqStatus.DRAFT)
    public = models.BooleanField(default=False)
    # Service codes, country codes, "legal-information", "safety".
    tags = models.JSONField(default=list, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return f"FAQ {self.pk} v{self.version}"


class FaqText(models.Model):
    """The entry in one language. ``search_text`` is the question and answer folded (lower
    case, no accents) for full-text search on both databases."""

    entry = models.ForeignKey(FaqEntry, on_delete=models.CASCADE, related_name="texts")
    language = models.CharField(max_length=8)
    question = models.CharField(max_length=300)
    answer = models.TextField(max_length=4000)
    search_text = models.TextField(editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["entry", "language"], name="one_faq_text_per_language")
        ]

    def __str__(self) -> str:
        return f"{self.entry_id} [{self.language}]"


class FaqVersion(models.Model):
    """The entry's history: what it said at each change, who made the change and who
    approved or retired it (``number`` is the content version, kept by approval)."""

    entry = models.ForeignKey(FaqEntry, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=FaqStatus.choices)
    public = models.BooleanField()
    tags = models.JSONField(default=list)
    texts = models.JSONField()  # {language: {"question": ..., "answer": ...}}
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)
    change = models.CharField(max_length=20)  # created, edited, approved, retired

    class Meta:
        ordering = ["-changed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.entry_id} v{self.number}"
