"""The messaging helpdesk's records: a society's channels (a WhatsApp number, a Telegram bot,
the web chat), the people who write to them, and what they send.

Minimal by construction: a contact is a platform address (a WhatsApp number, a Telegram chat id)
kept encrypted and found again by a keyed digest; never a profile name. A message's text is
encrypted; a shared location is not kept (``receiving``); media are not kept."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from routecare.core.crypto import EncryptedJSONField
from routecare.orgs.models import NationalSociety, ServicePoint


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
    # Told to everyone in the privacy notice and at once when danger words are written.
    emergency_number = models.CharField(max_length=20, blank=True)
    # After a person's consent, how long their conversations are kept (the society decides);
    # before it, at most a day (``retention``).
    retention_days = models.PositiveSmallIntegerField(default=90)
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
    # A Telegram user who blocked the bot (403): nothing more is sent.
    stopped_at = models.DateTimeField(null=True, blank=True)
    # Agreed to their conversations being kept for the channel's period (else one day).
    consented_at = models.DateTimeField(null=True, blank=True)
    # Where the bot's conversation with them stands (``engine.Step``) and what it waits for
    # (a service code asked for without a place, a feedback category): no personal data.
    step = models.CharField(max_length=20, blank=True)
    pending = models.JSONField(default=dict, blank=True)
    # Staff linked the contact to a registered person (at their request, by their code): their
    # messages then appear in the person's data-subject report and are erased with them.
    person = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
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
    TEMPLATE = "template", "Template"  # outbound: an approved WhatsApp template


class DeliveryStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    ANSWERED = "answered", "Answered"  # inbound: the worker has dealt with it (once)
    QUEUED = "queued", "Queued"
    # Outbound: staff's answer after WhatsApp's 24-hour window, sent when the person writes.
    HELD = "held", "Held"
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
    conversation = models.ForeignKey(
        "Conversation", null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    # Outbound: the staff member who wrote it (None: the bot).
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    direction = models.CharField(max_length=3, choices=Direction.choices)
    # The platform's id (WhatsApp ``wamid``, Telegram ``update_id``); outbound: once sent.
    external_id = models.CharField(max_length=160, blank=True, default="")
    kind = models.CharField(max_length=12, choices=MessageKind.choices)
    # Text: {"text": …}; a choice: {"id": …, "title": …}; a location {"location": true,
    # "at": [lat, lon]} until the worker has answered it, then only {"location": true}.
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


class ConversationState(models.TextChoices):
    BOT = "bot", "With the bot"
    WAITING = "waiting", "Waiting for staff"
    ASSIGNED = "assigned", "Assigned"
    RESOLVED = "resolved", "Resolved"


class Queue(models.TextChoices):
    ORDINARY = "ordinary", "Helpdesk"
    # Danger words: only the society's protection and safeguarding focal points see it.
    PROTECTION = "protection", "Protection"


OPEN_STATES = (ConversationState.BOT, ConversationState.WAITING, ConversationState.ASSIGNED)


class Conversation(models.Model):
    """A thread with one contact, from their first message until staff resolve it (or it goes
    quiet with the bot). At most one is open per contact; while it waits for staff or is
    assigned, the bot stays silent."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="conversations")
    state = models.CharField(
        max_length=10, choices=ConversationState.choices, default=ConversationState.BOT
    )
    queue = models.CharField(max_length=10, choices=Queue.choices, default=Queue.ORDINARY)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    opened_at = models.DateTimeField(auto_now_add=True)
    handed_off_at = models.DateTimeField(null=True, blank=True)  # asked for staff
    first_reply_at = models.DateTimeField(null=True, blank=True)  # staff's first answer
    resolved_at = models.DateTimeField(null=True, blank=True)
    last_message_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["contact"],
                condition=~Q(state="resolved"),
                name="one_open_conversation_per_contact",
            )
        ]
        indexes = [models.Index(fields=["channel", "state"])]

    def __str__(self) -> str:
        return f"conversation {self.pk} ({self.state})"


class ConversationNote(models.Model):
    """Staff's note on a conversation: never sent to the person."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = EncryptedJSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"note {self.pk}"


class Subscription(models.Model):
    """A contact's wish for updates about a country (closures, changes of hours, public
    alerts). STOP in any language deletes them all before the next send."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="subscriptions")
    country_code = models.CharField(max_length=2)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "country_code"], name="one_subscription_per_country"
            )
        ]

    def __str__(self) -> str:
        return f"subscription {self.pk} ({self.country_code})"


class PointNotice(models.Model):
    """What subscribers were last told of a public point (its status and opening hours): the
    updates job tells them when either changes. No personal data."""

    service_point = models.OneToOneField(
        ServicePoint, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    status = models.CharField(max_length=20)
    hours_digest = models.CharField(max_length=64)
    noted_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"notice of {self.service_point_id}"


class AlertNotice(models.Model):
    """A public alert (``flows.Alert`` with ``public_texts``) the updates job announced to
    subscribers: each is sent once. No personal data."""

    alert = models.OneToOneField(
        "flows.Alert", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    announced_at = models.DateTimeField(auto_now_add=True)
    # How many subscribers it was queued for: a count, for the operators' log.
    subscribers = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"notice of alert {self.alert_id}"


class KeptMedia(models.Model):
    """A photo, voice message or document a staff member chose to keep from a conversation
    (never on arrival): encrypted, at most 16 MB, shown to staff for 7 days and then deleted
    (``retention``); never attached to a person's record."""

    message = models.OneToOneField(Message, on_delete=models.CASCADE, primary_key=True)
    mime_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    # The bytes, AES-256-GCM with the field keys (``media.seal``), bound to the message's id.
    content = models.TextField()
    kept_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    kept_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"media of {self.message_id}"
