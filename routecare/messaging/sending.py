"""Sending to a person: the platform's own API (WhatsApp Cloud API ``/<phone number id>/messages``,
Telegram ``sendMessage``), from the task worker only, never in a webhook's request.

An outbound ``Message`` is written first (queued), then sent; what the platform answers moves it
to sent (with the platform's id, which delivery statuses name later) or failed. A contact who
stopped (STOP, or blocked the bot: Telegram's 403) is sent nothing. WhatsApp allows free text
only within 24 hours of the person's last message; after that only an approved template may be
sent (``channels.whatsapp.WINDOW``)."""

from __future__ import annotations

import datetime as dt
import functools
import logging
from typing import Any

import httpx
from django.db import transaction
from django.utils import timezone

from routecare.messaging import channels
from routecare.messaging.channels import NotSentError, whatsapp
from routecare.messaging.models import (
    ChannelKind,
    Contact,
    Conversation,
    DeliveryStatus,
    Direction,
    Message,
    MessageKind,
    Subscription,
)

log = logging.getLogger(__name__)

TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def queue_text(
    contact: Contact, text: str, conversation: Conversation | None = None, update: str = ""
) -> Message:
    """An answer to a person, written before it is sent (``send``); ``update``: the country
    of the subscription it is an update for (not sent if the subscription is gone)."""
    body: dict[str, Any] = {"text": text[: channels.MAX_TEXT]}
    if update:
        body["update"] = update
    return Message.objects.create(
        channel_id=contact.channel_id,
        contact=contact,
        conversation=conversation,
        direction=Direction.OUTBOUND,
        kind=MessageKind.TEXT,
        body=body,
        status=DeliveryStatus.QUEUED,
    )


def queue_template(
    contact: Contact,
    name: str,
    language: str,
    conversation: Conversation | None = None,
    *,
    parameters: list[str] | None = None,
    update: str = "",
) -> Message:
    """An approved WhatsApp template (outside the 24-hour window): its name, language and
    the texts of its body's variables."""
    body: dict[str, Any] = {"template": name, "language": language}
    if parameters:
        body["parameters"] = [text[:1024] for text in parameters]
    if update:
        body["update"] = update
    return Message.objects.create(
        channel_id=contact.channel_id,
        contact=contact,
        conversation=conversation,
        direction=Direction.OUTBOUND,
        kind=MessageKind.TEMPLATE,
        body=body,
        status=DeliveryStatus.QUEUED,
    )


def send_later(messages: list[Message]) -> None:
    """Each queued message sent by the task worker once the transaction that wrote it has
    committed (a rolled-back answer is never sent)."""
    from routecare.messaging.tasks import send_message

    def enqueue(message_id: str) -> None:
        send_message.enqueue(message_id)

    for message in messages:
        transaction.on_commit(functools.partial(enqueue, str(message.pk)))


def window_open(contact: Contact, now: dt.datetime | None = None) -> bool:
    """Whether free text may be sent: always, except on WhatsApp after 24 hours."""
    if contact.channel.kind == ChannelKind.WHATSAPP:
        return whatsapp.window_open(contact, now)
    return True


def send(message: Message, client: httpx.Client | None = None) -> Message:
    """Send a queued message; it is returned sent or failed (``body["error"]`` says why)."""
    if message.status != DeliveryStatus.QUEUED or message.direction != Direction.OUTBOUND:
        return message
    contact, channel = message.contact, message.channel
    try:
        if contact.stopped_at is not None:
            raise NotSentError("contact_stopped")
        update = message.body.get("update")
        if (
            update
            and not Subscription.objects.filter(contact=contact, country_code=update).exists()
        ):
            raise NotSentError("unsubscribed")  # STOP came after the update was queued
        secrets, why = channels.configured(channel)
        if secrets is None:
            log.warning("messaging: %s cannot send: %s", channel.slug, why)
            raise NotSentError("channel_not_started")
        external = channels.adapter(channel.kind).send(
            client or _shared_client(), channel, secrets, contact, message
        )
    except NotSentError as error:
        message.status = DeliveryStatus.FAILED
        message.body = {**message.body, "error": error.code}
        message.save(update_fields=["status", "body"])
        return message
    message.status, message.external_id, message.sent_at = (
        DeliveryStatus.SENT,
        channels.external_key(channel, external),
        timezone.now(),
    )
    message.save(update_fields=["status", "external_id", "sent_at"])
    return message


@functools.cache
def _shared_client() -> httpx.Client:
    """One client a process, its connections kept alive: a worker sends many messages to the
    same two APIs, and a new TLS connection each time cost more than the answer."""
    return httpx.Client(timeout=TIMEOUT)
