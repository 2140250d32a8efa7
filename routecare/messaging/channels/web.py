"""The web chat of the public pages: no platform between the person and RouteCare. What is
"sent" is shown on the chat's page; there are no templates, statuses or media."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from routecare.messaging.channels.base import MediaError
from routecare.messaging.models import Channel, Contact, Message

PLATFORM_NAME = ""  # the notice names no third party


def window_open(contact: Contact) -> bool:
    return True


def send(
    http: httpx.Client,
    channel: Channel,
    secrets: Mapping[str, str],
    contact: Contact,
    message: Message,
) -> str:
    return ""  # the page reads it


def fetch_media(
    http: httpx.Client, channel: Channel, secrets: Mapping[str, str], media_id: str
) -> tuple[bytes, str]:
    raise MediaError("not_a_platform_channel")
