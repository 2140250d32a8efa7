"""Updates to subscribers (a country's closures, reopenings and changes of opening hours):
the periodic job ``messaging.updates`` compares each public point of a subscribed country with
what subscribers were last told (``PointNotice``) and sends each subscriber the change in their
language. A point seen for the first time is noted, not announced.

A subscriber who wrote STOP has no subscription left, and an update already queued for them
is not sent (``sending`` checks the subscription at the moment of sending): STOP counts from the
very next send. On WhatsApp, outside the 24-hour window, the update goes as the approved
template named by ``ROUTECARE_WHATSAPP_UPDATE_TEMPLATE`` with the text as its one variable."""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from routecare.core import person_texts
from routecare.directory.hours import opening_line, opening_state
from routecare.directory.selectors import public_points
from routecare.messaging import sending
from routecare.messaging.models import (
    ChannelKind,
    Contact,
    Message,
    PointNotice,
    Subscription,
)
from routecare.orgs.models import ServicePoint


def _digest(point: ServicePoint) -> str:
    return hashlib.sha256(json.dumps(point.opening_hours, sort_keys=True).encode()).hexdigest()


def _text(point: ServicePoint, language: str) -> str:
    texts = person_texts.texts_for(language)
    if point.status == ServicePoint.Status.OPEN:
        status = opening_line(opening_state(point, timezone.now()), texts) or texts["status_open"]
    else:
        status = texts[f"status_{point.status.replace('-', '_')}"]
    return person_texts.text(
        "bot_update_status", language, point=point.public_text("name", language),
        place=point.public_text("address", language) or point.national_society.country_code,
        status=status,
    )  # fmt: skip


def _changed(country: str) -> list[ServicePoint]:
    changed = []
    own = public_points(country).filter(national_society__country_code=country)
    notices = {n.service_point_id: n for n in PointNotice.objects.filter(service_point__in=own)}
    for point in own.select_related("national_society"):
        digest, notice = _digest(point), notices.get(point.pk)
        if notice is None:
            PointNotice.objects.create(
                service_point=point, status=point.status, hours_digest=digest
            )
        elif notice.status != point.status or notice.hours_digest != digest:
            notice.status, notice.hours_digest = point.status, digest
            notice.save(update_fields=["status", "hours_digest", "noted_at"])
            changed.append(point)
    return changed


def send_updates() -> str:
    """Tell each country's subscribers what changed; a summary with counts only."""
    queued: list[Message] = []
    countries = sorted(set(Subscription.objects.values_list("country_code", flat=True)))
    with transaction.atomic():
        for country in countries:
            changed = _changed(country)
            if not changed:
                continue
            subscriptions = Subscription.objects.filter(
                country_code=country, contact__stopped_at=None
            ).select_related("contact__channel")
            for subscription in subscriptions:
                contact = subscription.contact
                language = contact.language or "en"
                for point in changed:
                    queued.append(_queue(contact, country, _text(point, language)))
        sending.send_later(queued)
    return f"{len(queued)} updates queued for {len(countries)} subscribed countries"


def _queue(contact: Contact, country: str, text: str) -> Message:
    if contact.channel.kind == ChannelKind.WHATSAPP and not sending.window_open(contact):
        return sending.queue_template(
            contact, settings.ROUTECARE_WHATSAPP_UPDATE_TEMPLATE, contact.language or "en",
            parameters=[text], update=country,
        )  # fmt: skip
    return sending.queue_text(contact, text, update=country)
