"""Sending to a person: the platform's own API (WhatsApp Cloud API ``/<phone number id>/messages``,
Telegram ``sendMessage``), from the task worker only, never in a webhook's request.

An outbound ``Message`` is written first (queued), then sent; what the platform answers moves it
to sent (with the platform's id, which delivery statuses name later) or failed. A contact who
stopped (STOP, or blocked the bot: Telegram's 403) is sent nothing. WhatsApp allows free text
only within 24 hours of the person's last message; after that only an approved template may be
sent (``WINDOW``)."""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Mapping
from typing import Any

import httpx
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from routecare.messaging import channels
from routecare.messaging.models import (
    Channel,
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

WINDOW = dt.timedelta(hours=24)
TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class NotSentError(Exception):
    """Why a message was not sent: a short code kept on the message, never the text."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


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
    last = contact.last_inbound_at
    return last is not None and (now or timezone.now()) - last < WINDOW


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
        if channel.kind == ChannelKind.WEB:
            # The web chat's page shows what is sent: nothing goes through a platform.
            external = ""
        else:
            external = _platform(client, channel, secrets, contact, message)
    except NotSentError as error:
        message.status = DeliveryStatus.FAILED
        message.body = {**message.body, "error": error.code}
        message.save(update_fields=["status", "body"])
        return message
    message.status, message.external_id, message.sent_at = (
        DeliveryStatus.SENT,
        external,
        timezone.now(),
    )
    message.save(update_fields=["status", "external_id", "sent_at"])
    return message


def _platform(
    client: httpx.Client | None,
    channel: Channel,
    secrets: Mapping[str, str],
    contact: Contact,
    message: Message,
) -> str:
    http = client or _shared_client()
    if channel.kind == ChannelKind.WHATSAPP:
        return _whatsapp(http, channel, secrets, contact, message)
    return _telegram(http, secrets, contact, message)


@functools.cache
def _shared_client() -> httpx.Client:
    """One client a process, its connections kept alive: a worker sends many messages to the
    same two APIs, and a new TLS connection each time cost more than the answer."""
    return httpx.Client(timeout=TIMEOUT)


def _post(http: httpx.Client, url: str, body: dict[str, Any], **kwargs: Any) -> httpx.Response:
    try:
        return http.post(url, json=body, **kwargs)
    except httpx.HTTPError as exc:
        raise NotSentError("platform_unreachable") from exc


def _answer(response: httpx.Response) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError as exc:
        raise NotSentError(f"platform_answered_{response.status_code}") from exc
    if not isinstance(answer, dict):
        raise NotSentError(f"platform_answered_{response.status_code}")
    return answer


def _whatsapp(
    http: httpx.Client,
    channel: Channel,
    secrets: Mapping[str, str],
    contact: Contact,
    message: Message,
) -> str:
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": contact.address,
    }
    if "template" in message.body:
        template: dict[str, Any] = {
            "name": message.body["template"],
            "language": {"code": message.body["language"]},
        }
        if message.body.get("parameters"):
            template["components"] = [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": text} for text in message.body["parameters"]
                    ],
                }
            ]
        body |= {"type": "template", "template": template}
    elif not window_open(contact):
        raise NotSentError("window_closed")
    else:
        body |= {"type": "text", "text": {"preview_url": False, "body": message.body["text"]}}
    url = f"{settings.ROUTECARE_WHATSAPP_API.rstrip('/')}/{channel.platform_id}/messages"
    response = _post(
        http, url, body, headers={"Authorization": f"Bearer {secrets['access_token']}"}
    )
    answer = _answer(response)
    if response.status_code != 200:
        error = answer.get("error")
        code = error.get("code") if isinstance(error, dict) else None
        raise NotSentError(f"whatsapp_error_{code or response.status_code}")
    sent = answer.get("messages")
    if not isinstance(sent, list) or not sent or not isinstance(sent[0], dict):
        raise NotSentError("whatsapp_no_message_id")
    external = channels.identifier(sent[0].get("id"))
    if not external:
        raise NotSentError("whatsapp_no_message_id")
    return external


def _telegram(
    http: httpx.Client, secrets: Mapping[str, str], contact: Contact, message: Message
) -> str:
    if "text" not in message.body:
        raise NotSentError("templates_are_whatsapps")
    url = f"{settings.ROUTECARE_TELEGRAM_API.rstrip('/')}/bot{secrets['bot_token']}/sendMessage"
    response = _post(http, url, {"chat_id": contact.address, "text": message.body["text"]})
    answer = _answer(response)
    if response.status_code == 403 or answer.get("error_code") == 403:
        # "Forbidden: bot was blocked by the user": nothing more is sent to them.
        Contact.objects.filter(pk=contact.pk, stopped_at=None).update(stopped_at=timezone.now())
        raise NotSentError("telegram_blocked")
    result = answer.get("result")
    if not answer.get("ok") or not isinstance(result, dict):
        raise NotSentError(f"telegram_error_{answer.get('error_code') or response.status_code}")
    sent_id = channels.identifier(result.get("message_id"))
    if not sent_id:
        raise NotSentError("telegram_no_message_id")
    # Telegram numbers messages per chat: the chat makes the id unique in the channel, and "m"
    # keeps it apart from the "u" of the updates received.
    return f"m{contact.address}:{sent_id}"
