"""The platforms' webhooks: verify, keep, answer at once. The answer to the person is the task
worker's (never in the webhook's request), and a platform is never answered 429: what it
delivers is accepted and kept, and what RouteCare sends back is what gets rate-limited."""

from __future__ import annotations

import logging

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from routecare.access import Rule, staff_view
from routecare.messaging import channels, receiving
from routecare.messaging.models import Channel, ChannelKind

log = logging.getLogger(__name__)


def _channel(slug: str, kind: str) -> Channel:
    channel = Channel.objects.filter(slug=slug, kind=kind).first()
    if channel is None:
        raise Http404
    return channel


def _refused(channel: Channel, error: channels.RejectedError) -> HttpResponse:
    # The reason and the channel, never the body or who sent it.
    log.warning("messaging: %s delivery refused: %s", channel.slug, error.reason)
    return JsonResponse({"detail": error.reason}, status=error.status)


def _secrets(channel: Channel) -> dict[str, str]:
    found, why = channels.configured(channel)
    if found is None:
        raise channels.RejectedError(403, f"channel not started: {why}")
    return dict(found)


def _accepted(channel: Channel, received: receiving.Received) -> HttpResponse:
    return JsonResponse(
        {
            "kept": len(received.kept),
            "duplicates": received.duplicates,
            "statuses": received.statuses,
            "ignored": received.ignored,
        }
    )


@csrf_exempt  # no session: the platform's signature is the credential
@require_http_methods(["GET", "POST"])
@staff_view(Rule.PUBLIC)
def whatsapp_webhook(request: HttpRequest, slug: str) -> HttpResponse:
    """WhatsApp Cloud API: GET is the verification handshake, POST a signed notification."""
    channel = _channel(slug, ChannelKind.WHATSAPP)
    try:
        secrets = _secrets(channel)
        if request.method == "GET":
            challenge = channels.whatsapp.handshake(secrets, request.GET)
            return HttpResponse(challenge, content_type="text/plain")
        raw = request.body
        channels.whatsapp.check(secrets, raw, request.headers.get("X-Hub-Signature-256"))
        delivery = channels.whatsapp.parse(channel, raw)
    except channels.RejectedError as error:
        return _refused(channel, error)
    return _accepted(channel, receiving.receive(channel, delivery))


@csrf_exempt  # no session: the secret token set with setWebhook is the credential
@require_http_methods(["POST"])
@staff_view(Rule.PUBLIC)
def telegram_webhook(request: HttpRequest, slug: str) -> HttpResponse:
    """Telegram Bot API: one Update a request, with the webhook's secret token."""
    channel = _channel(slug, ChannelKind.TELEGRAM)
    try:
        secrets = _secrets(channel)
        channels.telegram.check(secrets, request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        delivery = channels.telegram.parse(request.body)
    except channels.RejectedError as error:
        return _refused(channel, error)
    return _accepted(channel, receiving.receive(channel, delivery))
