"""The web chat on the public pages (``/<lang>/chat/?country=XX``): for people without
WhatsApp or Telegram, and for trying the helpdesk in a real browser. No account and no
JavaScript: a form that posts, and a page that refreshes itself while the bot's answer is on
its way. The browser keeps one random token in an HttpOnly cookie to find its conversation
again; the messages stay on the server (encrypted), never in the browser's storage."""

from __future__ import annotations

import re
import secrets
import uuid

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache

from routecare.access import Rule, staff_view
from routecare.core import person_texts, ratelimit
from routecare.directory.views import public_base
from routecare.messaging import channels, receiving
from routecare.messaging.models import (
    Channel,
    ChannelKind,
    Contact,
    DeliveryStatus,
    Direction,
    Message,
    MessageKind,
)

COOKIE = "routecare_chat"
COOKIE_SECONDS = 7 * 24 * 3600
MAX_CHARACTERS = 1000
MESSAGES_PER_MINUTE = 20
SHOWN = 50
TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
FORM_TOKEN = re.compile(r"[A-Za-z0-9_-]{8,40}")
COUNTRY = re.compile(r"[A-Z]{2}")


def _channel(country: str) -> Channel | None:
    return (
        Channel.objects.filter(
            kind=ChannelKind.WEB, active=True, national_society__country_code=country
        )
        .select_related("national_society")
        .first()
    )


def _token(request: HttpRequest) -> str:
    """The browser's chat token, if it is one of ours (43 URL-safe characters)."""
    token = request.COOKIES.get(COOKIE, "")
    return token if TOKEN.fullmatch(token) else ""


def _contact(request: HttpRequest, channel: Channel) -> Contact | None:
    token = _token(request)
    if not token:
        return None
    digest = channels.address_digest(channel, token)
    return Contact.objects.filter(channel=channel, address_digest=digest).first()


def _thread(contact: Contact | None) -> list[Message]:
    if contact is None:
        return []
    rows = Message.objects.filter(contact=contact).exclude(
        status__in=(DeliveryStatus.HELD, DeliveryStatus.QUEUED, DeliveryStatus.FAILED),
        direction=Direction.OUTBOUND,
    )
    return list(reversed(rows.order_by("-created_at")[:SHOWN]))


def _page(
    request: HttpRequest, lang: str, channel: Channel | None, error: str = "", status: int = 200
) -> HttpResponse:
    context = public_base(request, lang)
    contact = _contact(request, channel) if channel else None
    thread = _thread(contact)
    pending = any(
        m.direction == Direction.INBOUND and m.status == DeliveryStatus.RECEIVED for m in thread
    )
    context.update(
        channel=channel,
        country=channel.national_society.country_code if channel else "",
        thread=thread,
        pending=pending,
        error=error,
        form_token=secrets.token_urlsafe(18),
    )
    response = render(request, "messaging/chat.html", context, status=status)
    return response


@staff_view(Rule.PUBLIC)
@never_cache
def chat(request: HttpRequest, lang: str) -> HttpResponse:
    if lang not in person_texts.PERSON_LANGUAGES:
        return redirect(reverse("messaging:chat", args=["en"]) + _query(request))
    channel = _channel(_country(request))
    if channel is None or channels.configured(channel)[0] is None:
        return _page(request, lang, None, status=404)
    if request.method != "POST":
        return _page(request, lang, channel)
    texts = person_texts.texts_for(lang)
    if request.POST.get("end"):
        response = redirect(reverse("messaging:chat", args=[lang]) + _query(request))
        response.delete_cookie(COOKIE, samesite="Lax")
        return response
    text = request.POST.get("text", "").strip()
    if not text:
        return _page(request, lang, channel, texts["chat_empty"], status=400)
    if len(text) > MAX_CHARACTERS:
        return _page(request, lang, channel, texts["chat_too_long"], status=400)
    if not ratelimit.allow("chat", request, limit=MESSAGES_PER_MINUTE, seconds=60):
        return _page(request, lang, channel, texts["chat_busy"], status=429)
    token = _token(request) or secrets.token_urlsafe(32)
    form_token = request.POST.get("form_token", "")
    if not FORM_TOKEN.fullmatch(form_token):
        form_token = uuid.uuid4().hex
    inbound = channels.Inbound(
        external_id=f"w{form_token}", address=token, kind=MessageKind.TEXT,
        body={"text": text}, sent_at=None, language=lang,
    )  # fmt: skip
    contact = receiving.contact_for(channel, token, lang)
    if contact.language != lang:  # the page's language is the one chosen
        Contact.objects.filter(pk=contact.pk).update(language=lang)
    receiving.receive(channel, channels.Delivery(messages=[inbound]))
    response = redirect(reverse("messaging:chat", args=[lang]) + _query(request))
    response.set_cookie(
        COOKIE, token, max_age=COOKIE_SECONDS, httponly=True, samesite="Lax",
        secure=request.is_secure() or settings.SESSION_COOKIE_SECURE,
    )  # fmt: skip
    return response


def _country(request: HttpRequest) -> str:
    country = request.GET.get("country", "").strip().upper()
    return country if COUNTRY.fullmatch(country) else ""


def _query(request: HttpRequest) -> str:
    country = _country(request)
    return f"?{urlencode({'country': country})}" if country else ""
