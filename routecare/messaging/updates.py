"""Updates to subscribers (a country's closures, reopenings and changes of opening hours):
the periodic job ``messaging.updates`` compares each public point of a subscribed country with
what subscribers were last told (``PointNotice``) and sends each subscriber the change in their
language. A point seen for the first time is noted, not announced.

A subscriber who wrote STOP has no subscription left, and an update already queued for them
is not sent (``sending`` checks the subscription at the moment of sending): STOP counts from the
very next send. On WhatsApp, outside the 24-hour window, the update goes as the approved
template named by ``ROUTECARE_WHATSAPP_UPDATE_TEMPLATE`` with the text as its one variable.

Alerts marked public (``flows.Alert.public_texts``) go out with the same job, once each
(``AlertNotice``), while they last: to the subscribers of the countries an alert concerns (its
target points' societies' and the sending society's), in the network it was sent in. Each gets
the wording in their language when staff wrote it, else in the first written language of
``ALERT_LANGUAGES`` with a line saying it is only available in that language; only the public
wording goes out, never the staff message."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zoneinfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from routecare.core import person_texts
from routecare.core.languages import language_name_in
from routecare.directory.hours import opening_line, opening_state
from routecare.directory.selectors import public_points
from routecare.flows.models import Alert
from routecare.messaging import sending
from routecare.messaging.models import (
    AlertNotice,
    ChannelKind,
    Contact,
    Message,
    PointNotice,
    Subscription,
)
from routecare.orgs.models import NationalSociety, ServicePoint

# The language a public alert is sent in to a subscriber whose language it was not written in:
# the first of these it was written in (the route's most read languages first).
ALERT_LANGUAGES = ("es", "en", "fr", "ar", "fa", "ps", "ur", "ht")


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


def _zone(society: NationalSociety | None) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(society.time_zone if society is not None else "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _alert_text(alert: Alert, language: str, society: NationalSociety | None) -> str:
    """The alert's public wording for a subscriber reading ``language``, its end in the local
    time of the country they subscribed to (``society``)."""
    texts: dict[str, str] = alert.public_texts
    written_in = language if texts.get(language) else None
    if written_in is None:
        written_in = next((code for code in ALERT_LANGUAGES if texts.get(code)), None)
        written_in = written_in or next(iter(texts))
    until = alert.expires_at.astimezone(_zone(society)).strftime("%Y-%m-%d %H:%M")
    kind = person_texts.text(f"alert_kind_{alert.kind.replace('-', '_')}", language)
    text = person_texts.text("bot_alert", language, kind=kind, until=until, text=texts[written_in])
    if written_in != language:
        name = language_name_in(written_in, language)
        text += "\n" + person_texts.text("bot_alert_only_in", language, language_name=name)
    return text


def _announce(alert: Alert) -> list[Message]:
    """The alert queued once for each subscriber (not stopped) of a country it concerns."""
    countries = {alert.from_society.country_code}
    countries.update(alert.targets.values_list("national_society__country_code", flat=True))
    network_id = alert.from_society.network_id
    societies = {
        society.country_code: society
        for society in NationalSociety.objects.filter(
            network_id=network_id, country_code__in=countries
        )
    }
    subscriptions = (
        Subscription.objects.filter(
            country_code__in=countries, contact__stopped_at=None,
            contact__channel__national_society__network_id=network_id,
        )
        .select_related("contact__channel")
        .order_by("country_code")
    )  # fmt: skip
    first: dict[object, Subscription] = {}
    for subscription in subscriptions:  # one message however many of the countries they follow
        first.setdefault(subscription.contact_id, subscription)
    queued = []
    for subscription in first.values():
        contact, country = subscription.contact, subscription.country_code
        language = contact.language if contact.language in person_texts.PERSON_LANGUAGES else "en"
        queued.append(
            _queue(contact, country, _alert_text(alert, language, societies.get(country)))
        )
    AlertNotice.objects.create(alert=alert, subscribers=len(queued))
    return queued


def _public_alerts(now: dt.datetime) -> list[Alert]:
    """Alerts marked public, not expired and not announced yet."""
    alerts = (
        Alert.objects.filter(expires_at__gt=now)
        .exclude(pk__in=AlertNotice.objects.values("alert_id"))
        .select_related("from_society")
        .order_by("created_at")
    )
    return [alert for alert in alerts if alert.is_public]


def send_updates() -> str:
    """Tell each country's subscribers what changed and the new public alerts; a summary with
    counts only."""
    queued: list[Message] = []
    countries = sorted(set(Subscription.objects.values_list("country_code", flat=True)))
    with transaction.atomic():
        alerts = _public_alerts(timezone.now())
        for alert in alerts:
            queued.extend(_announce(alert))
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
    return (
        f"{len(queued)} updates queued for {len(countries)} subscribed countries, "
        f"{len(alerts)} public alerts announced"
    )


def _queue(contact: Contact, country: str, text: str) -> Message:
    if contact.channel.kind == ChannelKind.WHATSAPP and not sending.window_open(contact):
        # A template's variable may hold no line break (the Cloud API refuses the message).
        return sending.queue_template(
            contact, settings.ROUTECARE_WHATSAPP_UPDATE_TEMPLATE, contact.language or "en",
            parameters=[" ".join(text.split())], update=country,
        )  # fmt: skip
    return sending.queue_text(contact, text, update=country)
