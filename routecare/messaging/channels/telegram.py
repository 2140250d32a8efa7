"""Telegram Bot API: updates with the webhook's secret token, ``sendMessage`` (a blocked bot
stops the contact), and files fetched with ``getFile`` when staff keep them."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

import httpx
from django.conf import settings
from django.utils import timezone

from routecare.messaging.channels.base import (
    MEDIA,
    Delivery,
    Inbound,
    MediaError,
    NotSentError,
    RejectedError,
    _coordinates,
    _json,
    _media_reference,
    _moment,
    _object,
    _text,
    download,
    identifier,
    platform_json,
    post,
)
from routecare.messaging.models import Channel, Contact, Message, MessageKind

PLATFORM_NAME = "Telegram"


# What a private message may carry besides text and a location: named in what is kept.
TELEGRAM_KINDS = ("sticker", "photo", "voice", "video", "document", "contact", "poll", "dice")


def check(secrets_: Mapping[str, str], header: str | None) -> None:
    """``X-Telegram-Bot-Api-Secret-Token``: the ``secret_token`` given to ``setWebhook``."""
    if not header:
        raise RejectedError(401, "no secret token")
    if not hmac.compare_digest(header.encode(), secrets_["secret_token"].encode()):
        raise RejectedError(403, "wrong secret token")


def parse(raw: bytes) -> Delivery:
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
        if _text(message.get("caption")):  # Telegram puts a caption beside the file
            media["caption"] = _text(message["caption"])
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


def send(
    http: httpx.Client,
    channel: Channel,
    secrets: Mapping[str, str],
    contact: Contact,
    message: Message,
) -> str:
    if "text" not in message.body:
        raise NotSentError("templates_are_whatsapps")
    url = f"{settings.ROUTECARE_TELEGRAM_API.rstrip('/')}/bot{secrets['bot_token']}/sendMessage"
    response = post(http, url, {"chat_id": contact.address, "text": message.body["text"]})
    answer = platform_json(response, NotSentError)
    if response.status_code == 403 or answer.get("error_code") == 403:
        # "Forbidden: bot was blocked by the user": nothing more is sent to them.
        Contact.objects.filter(pk=contact.pk, stopped_at=None).update(stopped_at=timezone.now())
        raise NotSentError("telegram_blocked")
    result = answer.get("result")
    if not answer.get("ok") or not isinstance(result, dict):
        raise NotSentError(f"telegram_error_{answer.get('error_code') or response.status_code}")
    sent_id = identifier(result.get("message_id"))
    if not sent_id:
        raise NotSentError("telegram_no_message_id")
    # Telegram numbers messages per chat: the chat makes the id unique in the channel, and "m"
    # keeps it apart from the "u" of the updates received.
    return f"m{contact.address}:{sent_id}"


def fetch_media(
    http: httpx.Client, channel: Channel, secrets: Mapping[str, str], media_id: str
) -> tuple[bytes, str]:
    """``getFile`` gives the file's path on Telegram's server; the file is fetched from it."""
    api = settings.ROUTECARE_TELEGRAM_API.rstrip("/")
    found = platform_json(
        http.get(f"{api}/bot{secrets['bot_token']}/getFile", params={"file_id": media_id}),
        MediaError,
    )
    result = found.get("result")
    path = result.get("file_path") if isinstance(result, dict) else None
    if not isinstance(path, str) or ".." in path:
        raise MediaError("no_media_url")
    return download(http, f"{api}/file/bot{secrets['bot_token']}/{path}", {}), (
        "application/octet-stream"
    )
