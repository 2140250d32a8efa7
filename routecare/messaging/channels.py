"""What each platform sends and how it is checked: one small adapter per channel kind. The rest
of the helpdesk knows none of them by name; it receives ``Inbound`` items.

Secrets are read from ``ROUTECARE_MESSAGING_SECRETS`` (or ``ROUTECARE_MESSAGING_SECRETS_FILE``),
a JSON object keyed by channel slug::

    {"pa-whatsapp": {"app_secret": "…", "access_token": "…", "verify_token": "…"},
     "pa-telegram": {"bot_token": "…", "secret_token": "…"}}

A channel whose secrets are missing or incomplete does not start: its webhook answers 403 to
everything (fail closed), and ``configured`` says why."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from routecare.messaging.models import Channel, ChannelKind, MessageKind

# What each kind needs from its secrets.
REQUIRED_SECRETS = {
    ChannelKind.WHATSAPP: ("app_secret", "access_token", "verify_token"),
    ChannelKind.TELEGRAM: ("bot_token", "secret_token"),
    ChannelKind.WEB: (),
}
# Longer texts are cut: WhatsApp's own limit for a text message is 4,096 characters.
MAX_TEXT = 4096
MAX_ID = 160


class RejectedError(Exception):
    """A delivery refused: ``status`` is the HTTP answer (401 unsigned, 403 wrongly signed or
    channel not configured, 400 malformed)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Inbound:
    """One thing a person sent, as the helpdesk keeps it."""

    external_id: str
    address: str  # the platform's id of the person: a WhatsApp number, a Telegram chat id
    kind: str
    body: dict[str, Any]
    sent_at: dt.datetime | None
    language: str = ""  # what the platform says of the person's language, if anything
    # A shared location is used to answer and then dropped (``receiving``).
    location: tuple[float, float] | None = None


@dataclass(frozen=True)
class StatusUpdate:
    """What the platform says of a message RouteCare sent."""

    external_id: str
    status: str
    at: dt.datetime | None


@dataclass
class Delivery:
    """One webhook call's content."""

    messages: list[Inbound] = field(default_factory=list)
    statuses: list[StatusUpdate] = field(default_factory=list)
    # Telegram: people who blocked the bot (``my_chat_member`` "kicked").
    blocked: list[str] = field(default_factory=list)
    ignored: int = 0  # groups, channels, edits, unknown updates: acknowledged, not kept


def secrets() -> Mapping[str, Mapping[str, str]]:
    loaded = settings.ROUTECARE_MESSAGING_SECRETS
    if not isinstance(loaded, Mapping):
        raise ImproperlyConfigured("ROUTECARE_MESSAGING_SECRETS must be a JSON object")
    return loaded


def configured(channel: Channel) -> tuple[Mapping[str, str] | None, str]:
    """The channel's secrets, or None and why it does not start."""
    if not channel.active:
        return None, "the channel is switched off"
    if not settings.ROUTECARE_LOOKUP_KEY:
        return None, "ROUTECARE_LOOKUP_KEY is not set"
    found = secrets().get(channel.slug)
    needed = REQUIRED_SECRETS[ChannelKind(channel.kind)]
    if needed and not isinstance(found, Mapping):
        return None, f"no secrets for {channel.slug!r} in ROUTECARE_MESSAGING_SECRETS"
    found = found or {}
    missing = [name for name in needed if not isinstance(found.get(name), str) or not found[name]]
    if missing:
        return None, f"{channel.slug!r} lacks {', '.join(missing)}"
    return found, ""


def address_digest(channel: Channel, address: str) -> str:
    """The keyed digest a contact is found by: HMAC-SHA256 of the channel and the address with
    ``ROUTECARE_LOOKUP_KEY``. Without the key, a list of digests gives no number away."""
    key = settings.ROUTECARE_LOOKUP_KEY.encode()
    message = f"{channel.pk}|{address}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise RejectedError(400, "the body is not JSON") from exc


def _moment(value: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromtimestamp(int(value), tz=dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _text(value: Any) -> str:
    return value[:MAX_TEXT] if isinstance(value, str) else ""


def identifier(value: Any) -> str:
    text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
    return text[:MAX_ID]


# -- WhatsApp Cloud API --------------------------------------------------------------------


def whatsapp_handshake(secrets_: Mapping[str, str], query: Mapping[str, str]) -> str:
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


def whatsapp_check(secrets_: Mapping[str, str], raw: bytes, signature: str | None) -> None:
    """``X-Hub-Signature-256``: ``sha256=`` and the HMAC-SHA256 of the raw body with the app
    secret, compared in constant time."""
    if not signature:
        raise RejectedError(401, "no signature")
    expected = hmac.new(secrets_["app_secret"].encode(), raw, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(signature.encode(), f"sha256={expected}".encode()):
        raise RejectedError(403, "wrong signature")


def whatsapp_parse(channel: Channel, raw: bytes) -> Delivery:
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


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dicts(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, list):
        yield from (item for item in value if isinstance(item, dict))


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


# Media a staff member may keep (never stickers): the platform's id for the file, which
# RouteCare fetches only when a staff member asks (``media``), never on arrival.
MEDIA = ("image", "audio", "voice", "video", "document", "photo")


def _media_reference(item: Any) -> dict[str, str]:
    if isinstance(item, list):  # Telegram's photo: its sizes, the largest last
        item = item[-1] if item and isinstance(item[-1], dict) else None
    if not isinstance(item, dict):
        return {}
    media = identifier(item.get("id") or item.get("file_id"))
    mime = item.get("mime_type")
    found = {"media": media} if media else {}
    if found and isinstance(mime, str) and len(mime) <= 100:
        found["mime"] = mime
    return found


def _coordinates(latitude: Any, longitude: Any) -> tuple[float, float] | None:
    try:
        lat, lon = float(latitude), float(longitude)
    except (TypeError, ValueError):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lat, lon


# -- Telegram Bot API ----------------------------------------------------------------------

# What a private message may carry besides text and a location: named in what is kept.
TELEGRAM_KINDS = ("sticker", "photo", "voice", "video", "document", "contact", "poll", "dice")


def telegram_check(secrets_: Mapping[str, str], header: str | None) -> None:
    """``X-Telegram-Bot-Api-Secret-Token``: the ``secret_token`` given to ``setWebhook``."""
    if not header:
        raise RejectedError(401, "no secret token")
    if not hmac.compare_digest(header.encode(), secrets_["secret_token"].encode()):
        raise RejectedError(403, "wrong secret token")


def telegram_parse(raw: bytes) -> Delivery:
    """One ``Update``: a private chat's message (text or location), or the person blocking the
    bot. Groups and channels are never served (1:1 only)."""
    update = _json(raw)
    if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
        raise RejectedError(400, "not a Telegram update")
    delivery = Delivery()
    member = update.get("my_chat_member")
    if isinstance(member, dict):
        chat, new = _object(member.get("chat")), _object(member.get("new_chat_member"))
        if chat.get("type") == "private" and new.get("status") == "kicked":
            delivery.blocked.append(identifier(chat.get("id")))
        else:
            delivery.ignored += 1
        return delivery
    message = update.get("message")
    if not isinstance(message, dict):
        delivery.ignored += 1  # edits, channel posts, callback queries…
        return delivery
    chat = _object(message.get("chat"))
    if chat.get("type") != "private" or not identifier(chat.get("id")):
        delivery.ignored += 1
        return delivery
    sender = _object(message.get("from"))
    language = identifier(sender.get("language_code"))[:8]
    external = f"u{update['update_id']}"
    sent_at = _moment(message.get("date"))
    address = identifier(chat.get("id"))
    if isinstance(message.get("text"), str):
        text = {"text": _text(message["text"])}
        delivery.messages.append(
            Inbound(external, address, MessageKind.TEXT, text, sent_at, language)
        )
    elif isinstance(message.get("location"), dict):
        place = message["location"]
        location = _coordinates(place.get("latitude"), place.get("longitude"))
        kind = MessageKind.LOCATION if location else MessageKind.UNSUPPORTED
        body = {"location": True} if location else {}
        delivery.messages.append(
            Inbound(external, address, kind, body, sent_at, language, location)
        )
    else:
        kind_name = next((key for key in TELEGRAM_KINDS if key in message), "other")
        media = _media_reference(message.get(kind_name) if kind_name in MEDIA else None)
        delivery.messages.append(
            Inbound(
                external,
                address,
                MessageKind.UNSUPPORTED,
                {"type": kind_name, **media},
                sent_at,
                language,
            )
        )
    return delivery
