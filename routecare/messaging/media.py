"""Media a staff member keeps from a conversation. Nothing is fetched on arrival: a message
says only that a photo, a voice message or a document came, with the platform's id for it.
When a staff member asks to keep it, RouteCare fetches it from the platform (WhatsApp: the
media's URL from the Graph API, then the file; Telegram: ``getFile``, then the file), refuses
more than 16 MB, and stores it encrypted with the field keys, bound to its message. Staff see
it for 7 days (``retention`` deletes it then); it is never attached to a person's record."""

from __future__ import annotations

import datetime as dt

import httpx
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from routecare.access import Actor
from routecare.audit.actions import record_event
from routecare.core.crypto import keyring
from routecare.messaging import channels
from routecare.messaging.actions import may_handle
from routecare.messaging.channels import MediaError
from routecare.messaging.models import Channel, KeptMedia, Message
from routecare.messaging.sending import TIMEOUT

SHOWN_FOR = dt.timedelta(days=7)
# Shown in the page; anything else is downloaded as a file (never rendered by the browser).
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})


def _context(message_id: object) -> str:
    return f"messaging_keptmedia.content:{message_id}"


def seal(message_id: object, content: bytes) -> str:
    return keyring().encrypt(content, _context(message_id))


def unseal(kept: KeptMedia) -> bytes:
    return keyring().decrypt(kept.content, _context(kept.message_id))


def fetch(channel: Channel, media_id: str, http: httpx.Client) -> tuple[bytes, str]:
    """The file and its type, from the channel's platform."""
    secrets, _why = channels.configured(channel)
    if secrets is None:
        raise MediaError("channel_not_started")
    try:
        return channels.adapter(channel.kind).fetch_media(http, channel, secrets, media_id)
    except httpx.HTTPError as exc:
        raise MediaError("platform_unreachable") from exc


def keep(actor: Actor, message: Message, http: httpx.Client | None = None) -> KeptMedia:
    """A staff member keeps a message's medium (audited); its bytes encrypted."""
    if message.conversation is None or not may_handle(actor, message.conversation):
        raise PermissionDenied
    media_id = message.body.get("media") if isinstance(message.body, dict) else None
    if not media_id:
        raise ValidationError({"text": _("This message has no photo, sound or document.")})
    existing = KeptMedia.objects.filter(message=message).defer("content").first()
    if existing is not None:
        return existing
    try:
        with http or httpx.Client(timeout=TIMEOUT) as client:
            content, mime = fetch(message.channel, str(media_id), client)
    except MediaError as error:
        raise ValidationError(
            {"text": _("The file could not be kept (%(why)s).") % {"why": error}}
        ) from error
    if message.body.get("mime"):  # what the platform said with the message
        mime = str(message.body["mime"])[:100]
    try:
        with transaction.atomic():
            kept = KeptMedia.objects.create(
                message=message, mime_type=mime, size=len(content),
                content=seal(message.pk, content), kept_by=actor.user,
            )  # fmt: skip
            record_event(actor, "keep_media", "message", message.pk)
    except IntegrityError:  # kept meanwhile by a colleague's click
        return KeptMedia.objects.defer("content").get(message=message)
    return kept


def shown(actor: Actor, message: Message, now: dt.datetime | None = None) -> KeptMedia | None:
    """The kept medium of a message the actor handles, while it may be shown (7 days)."""
    if message.conversation is None or not may_handle(actor, message.conversation):
        return None
    since = (now or timezone.now()) - SHOWN_FOR
    return KeptMedia.objects.filter(message=message, kept_at__gte=since).first()
