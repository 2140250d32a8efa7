"""The messaging channels: one module per platform (``whatsapp``, ``telegram``, ``web``), each of
the same shape — its ``PLATFORM_NAME`` (named in the privacy notice), ``send`` and
``fetch_media`` — beside its own webhook checks (``whatsapp.handshake``/``check``/``parse``,
``telegram.check``/``parse``). The rest of the helpdesk asks ``adapter(kind)`` and knows none
of them by name; what they share is in ``base``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import httpx

from routecare.messaging.channels import telegram, web, whatsapp
from routecare.messaging.channels.base import (
    MAX_ID,
    MAX_MEDIA_BYTES,
    MAX_TEXT,
    MEDIA,
    Delivery,
    Inbound,
    MediaError,
    NotSentError,
    RejectedError,
    StatusUpdate,
    address_digest,
    configured,
    external_key,
    identifier,
    secrets,
)
from routecare.messaging.models import Channel, ChannelKind, Contact, Message


class Adapter(Protocol):
    PLATFORM_NAME: str

    def send(
        self,
        http: httpx.Client,
        channel: Channel,
        secrets: Mapping[str, str],
        contact: Contact,
        message: Message,
    ) -> str: ...

    def fetch_media(
        self, http: httpx.Client, channel: Channel, secrets: Mapping[str, str], media_id: str
    ) -> tuple[bytes, str]: ...


ADAPTERS: dict[str, Adapter] = {
    ChannelKind.WHATSAPP: whatsapp,
    ChannelKind.TELEGRAM: telegram,
    ChannelKind.WEB: web,
}


def adapter(kind: str) -> Adapter:
    return ADAPTERS[kind]


__all__ = [
    "ADAPTERS", "MAX_ID", "MAX_MEDIA_BYTES", "MAX_TEXT", "MEDIA", "Adapter", "Delivery",
    "Inbound", "MediaError", "NotSentError", "RejectedError", "StatusUpdate", "adapter",
    "address_digest", "configured", "external_key", "identifier", "secrets", "telegram", "web",
    "whatsapp",
]  # fmt: skip
