"""WhatsApp Cloud API: the webhook's verification handshake and signed notifications
(``X-Hub-Signature-256``), sending through the Graph API (free text within 24 hours of the
person's last message, approved templates after), and media fetched when staff keep them."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
from django.conf import settings
from django.utils import timezone

from routecare.messaging.channels.base import (
    MAX_MEDIA_BYTES,
    MEDIA,
    Delivery,
    Inbound,
    MediaError,
    NotSentError,
    RejectedError,
    StatusUpdate,
    _coordinates,
    _dicts,
    _json,
    _media_reference,
    _moment,
    _text,
    download,
    identifier,
    platform_json,
    post,
)
from routecare.messaging.models import Channel, Contact, Message, MessageKind

PLATFORM_NAME = "WhatsApp (Meta)"
WINDOW = dt.timedelta(hours=24)


def window_open(contact: Contact, now: dt.datetime | None = None) -> bool:
    last = contact.last_inbound_at
    return last is not None and (now or timezone.now()) - last < WINDOW


def handshake(secrets_: Mapping[str, str], query: Mapping[str, str]) -> str:
    """The webhook verification request (``hub.mode=subscribe``): the challenge to echo back
    when the verify token is ours."""
    token = query.get("hub.verify_token", "")
    if query.get("hub.mode") != "subscribe" or not hmac.compare_digest(
        token.encode(), secrets_["verify_token"].encode()
    ):
        raise RejectedError(403, "wrong verify token")
    challenge = query.get("hub.challenge", "")
    if not challenge or len(challenge) > 200:
        raise RejectedError(400, "no challenge")
    return challenge


def check(secrets_: Mapping[str, str], raw: bytes, signature: str | None) -> None:
    """``X-Hub-Signature-256``: ``sha256=`` and the HMAC-SHA256 of the raw body with the app
    secret, compared in constant time."""
    if not signature:
        raise RejectedError(401, "no signature")
    expected = hmac.new(secrets_["app_secret"].encode(), raw, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(signature.encode(), f"sha256={expected}".encode()):
        raise RejectedError(403, "wrong signature")


def parse(channel: Channel, raw: bytes) -> Delivery:
    """The messages and statuses of a Cloud API notification (``entry[].changes[].value``)
    meant for this channel's number. The sender's profile name is never read."""
    payload = _json(raw)
    if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
        raise RejectedError(400, "not a WhatsApp Business notification")
    delivery = Delivery()
    for value in _whatsapp_values(payload):
        metadata = value.get("metadata")
        number = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
        if channel.platform_id and str(number) != channel.platform_id:
            delivery.ignored += 1
            continue
        for message in _dicts(value.get("messages")):
            inbound = _whatsapp_message(message)
            if inbound is None:
                delivery.ignored += 1
            else:
                delivery.messages.append(inbound)
        for status in _dicts(value.get("statuses")):
            external = identifier(status.get("id"))
            state = status.get("status")
            if external and state in ("sent", "delivered", "read", "failed"):
                delivery.statuses.append(
                    StatusUpdate(external, str(state), _moment(status.get("timestamp")))
                )
            else:
                delivery.ignored += 1
    return delivery


def _whatsapp_values(payload: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for entry in _dicts(payload.get("entry")):
        for change in _dicts(entry.get("changes")):
            value = change.get("value")
            if change.get("field") == "messages" and isinstance(value, dict):
                yield value


def _whatsapp_message(message: dict[str, Any]) -> Inbound | None:
    external, sender = identifier(message.get("id")), identifier(message.get("from"))
    if not external or not sender:
        return None
    kind = message.get("type")
    sent_at = _moment(message.get("timestamp"))
    body: dict[str, Any]
    location = None
    if kind == "text" and isinstance(message.get("text"), dict):
        body, kind = {"text": _text(message["text"].get("body"))}, MessageKind.TEXT
    elif kind == "interactive" and isinstance(message.get("interactive"), dict):
        reply = message["interactive"]
        chosen = reply.get(reply.get("type")) if isinstance(reply.get("type"), str) else None
        if not isinstance(chosen, dict):
            return Inbound(external, sender, MessageKind.UNSUPPORTED, {}, sent_at)
        body = {"id": identifier(chosen.get("id")), "title": _text(chosen.get("title"))}
        kind = MessageKind.CHOICE
    elif kind == "button" and isinstance(message.get("button"), dict):  # a template's button
        button = message["button"]
        body = {"id": identifier(button.get("payload")), "title": _text(button.get("text"))}
        kind = MessageKind.CHOICE
    elif kind == "location" and isinstance(message.get("location"), dict):
        location = _coordinates(
            message["location"].get("latitude"), message["location"].get("longitude")
        )
        if location is None:
            return Inbound(external, sender, MessageKind.UNSUPPORTED, {}, sent_at)
        body, kind = {"location": True}, MessageKind.LOCATION
    else:  # stickers, reactions, images, audio, calls, unknown types: kept as "unsupported"
        body, kind = {"type": identifier(kind)[:20]}, MessageKind.UNSUPPORTED
        body |= _media_reference(message.get(body["type"]) if body["type"] in MEDIA else None)
    return Inbound(external, sender, kind, body, sent_at, location=location)


def send(
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
    response = post(http, url, body, headers={"Authorization": f"Bearer {secrets['access_token']}"})
    answer = platform_json(response, NotSentError)
    if response.status_code != 200:
        error = answer.get("error")
        code = error.get("code") if isinstance(error, dict) else None
        raise NotSentError(f"whatsapp_error_{code or response.status_code}")
    sent = answer.get("messages")
    if not isinstance(sent, list) or not sent or not isinstance(sent[0], dict):
        raise NotSentError("whatsapp_no_message_id")
    external = identifier(sent[0].get("id"))
    if not external:
        raise NotSentError("whatsapp_no_message_id")
    return external


def fetch_media(
    http: httpx.Client, channel: Channel, secrets: Mapping[str, str], media_id: str
) -> tuple[bytes, str]:
    """The Graph API gives the medium's URL (and size); the file is fetched with the token."""
    auth = {"Authorization": f"Bearer {secrets['access_token']}"}
    api = settings.ROUTECARE_WHATSAPP_API.rstrip("/")
    meta = platform_json(http.get(f"{api}/{media_id}", headers=auth), MediaError)
    size = meta.get("file_size")
    if isinstance(size, int) and size > MAX_MEDIA_BYTES:
        raise MediaError("too_large")
    url, mime = meta.get("url"), meta.get("mime_type")
    if not isinstance(url, str) or not _safe_url(url):
        raise MediaError("no_media_url")
    return download(http, url, auth), str(mime or "application/octet-stream")[:100]


def _safe_url(url: str) -> bool:
    """The token goes with the request: HTTPS only (plain HTTP on loopback, for the fakes)."""
    if url.startswith("https://"):
        return True
    return url.startswith(("http://127.0.0.1:", "http://localhost:"))
