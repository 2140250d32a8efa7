"""The messaging helpdesk's records: a society's channels (a WhatsApp number, a Telegram bot,
the web chat), the people who write to them, and what they send.

Minimal by construction: a contact is a platform address (a WhatsApp number, a Telegram chat id)
kept encrypted and found again by a keyed digest; never a profile name. A message's text is
encrypted; a shared location is not kept (``receiving``); media are not kept."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from routecare.core.crypto import EncryptedJSONField
from routecare.orgs.models import NationalSociety


class ChannelKind(models.TextChoices):
    WHATSAPP = "whatsapp", "WhatsApp"
    TELEGRAM = "telegram", "Telegram"
    WEB = "web", "Web chat"


class Channel(models.Model):
    """One way a society is reached. Its secrets (app secret, tokens) are not here: they are
    read from ``ROUTECARE_MESSAGING_SECRETS`` (or ``_FILE``) by the channel's slug, and a
    channel without them does not start (``channels.configured``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    national_society = models.ForeignKey(
        NationalSociety, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=ChannelKind.choices)
    # In the webhook's address and the name of the channel's secrets: not itself a secret.
    slug = models.SlugField(max_length=50, unique=True)
    # WhatsApp: the phone number id deliveries name (``metadata.phone_number_id``).
    platform_id = models.CharField(max_length=64, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.slug} ({self.kind})"


class Contact(models.Model):
    """Someone who wrote to a channel: their platform address, encrypted, and its keyed digest
    (``ROUTECARE_LOOKUP_KEY``) to find them again, since a ciphertext cannot be searched and a
    deterministic one would give equal numbers away."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="contacts")
    address_digest = models.CharField(max_length=64)
    address = EncryptedJSONField()
    language = models.CharField(max_length=8, blank=True)
    # A Telegram user who blocked the bot (403) or anyone who sent STOP: nothing more is sent.
    stopped_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_inbound_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "address_digest"], name="one_contact_per_address"
            )
        ]

    def __str__(self) -> str:
        return f"contact {self.pk}"


class Direction(models.TextChoices):
    INBOUND = "in", "Inbound"
    OUTBOUND = "out", "Outbound"


class MessageKind(models.TextChoices):
    TEXT = "text", "Text"
    LOCATION = "location", "Location"
    CHOICE = "choice", "Choice"  # an interactive reply: a button or a list item
    UNSUPPORTED = "unsupported", "Unsupported"  # stickers, reactions, calls, media…


class DeliveryStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    READ = "read", "Read"
    FAILED = "failed", "Failed"


class Message(models.Model):
    """One message in or out. An inbound message is unique by its channel and the platform's
    id for it: a delivery retried or doubled finds the row already there and is ignored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    # The platform's id (WhatsApp ``wamid``, Telegram ``update_id``); outbound: once sent.
    external_id = models.CharField(max_length=160, blank=True, default="")
    kind = models.CharField(max_length=12, choices=MessageKind.choices)
    # Text: {"text": …}; a choice: {"id": …, "title": …}; a location is answered, then
    # dropped: only {"location": true} stays.
    body = EncryptedJSONField()
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices)
    # When the platform says the person sent it (inbound) or it was sent (outbound).
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=~Q(external_id=""),
                name="one_message_per_platform_id",
            )
        ]
        indexes = [models.Index(fields=["contact", "created_at"])]

    def __str__(self) -> str:
        return f"{self.direction} {self.kind} {self.pk}"
