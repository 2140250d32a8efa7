"""What every channel adapter shares: the secrets of a channel (and whether it starts), the
keyed digest a contact is found by, what a delivery holds once parsed, and small readers of
untrusted JSON. Each platform is a module of this package (``whatsapp``, ``telegram``, ``web``)
of the same shape; the rest of the helpdesk reaches them through ``adapter(kind)``.

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

import httpx
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from routecare.messaging.models import Channel, ChannelKind

# What each kind needs from its secrets (each adapter's ``REQUIRED_SECRETS``).
REQUIRED_SECRETS: dict[str, tuple[str, ...]] = {
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


def external_key(channel: Channel, platform_id: str) -> str:
    """What is kept of a platform's id for a message: its keyed digest. The id itself can
    give the person away (a WhatsApp ``wamid`` holds the sender's number in base64; a sent
    Telegram message is named by its chat), and equality is all that is needed of it (a
    redelivery, a delivery status)."""
    if not platform_id:
        return ""
    key = settings.ROUTECARE_LOOKUP_KEY.encode()
    message = f"{channel.pk}|message|{platform_id}".encode()
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


# A file a staff member keeps: at most this much (WhatsApp's own limit for documents is 100 MB).
MAX_MEDIA_BYTES = 16 * 1024 * 1024


class NotSentError(Exception):
    """Why a message was not sent: a short code kept on the message, never the text."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class MediaError(Exception):
    """Why a medium could not be kept: a short code."""


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dicts(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, list):
        yield from (item for item in value if isinstance(item, dict))


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
    caption = _text(item.get("caption"))
    if caption:  # read for danger words and STOP; kept encrypted with the message
        found["caption"] = caption
    return found


def _coordinates(latitude: Any, longitude: Any) -> tuple[float, float] | None:
    try:
        lat, lon = float(latitude), float(longitude)
    except (TypeError, ValueError):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lat, lon


def post(http: httpx.Client, url: str, body: dict[str, Any], **kwargs: Any) -> httpx.Response:
    try:
        return http.post(url, json=body, **kwargs)
    except httpx.HTTPError as exc:
        raise NotSentError("platform_unreachable") from exc


def platform_json(
    response: httpx.Response, error: type[NotSentError] | type[MediaError]
) -> dict[str, Any]:
    """A platform's JSON answer; anything else raises ``error`` with the HTTP status."""
    try:
        answer = response.json()
    except ValueError as exc:
        raise error(f"platform_answered_{response.status_code}") from exc
    if not isinstance(answer, dict):
        raise error(f"platform_answered_{response.status_code}")
    if error is MediaError and response.status_code != 200:
        raise error(f"platform_answered_{response.status_code}")
    return answer


def download(http: httpx.Client, url: str, headers: Mapping[str, str]) -> bytes:
    """A file, refused beyond ``MAX_MEDIA_BYTES`` while it streams in."""
    chunks, size = [], 0
    with http.stream("GET", url, headers=dict(headers)) as response:
        if response.status_code != 200:
            raise MediaError(f"platform_answered_{response.status_code}")
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > MAX_MEDIA_BYTES:
                raise MediaError("too_large")
            chunks.append(chunk)
    return b"".join(chunks)
