"""Alerts marked public reach the helpdesk's subscribers with the updates job: once, to the
subscribers (not stopped) of the countries an alert concerns, in their language or else in the
first language written with a line saying so; never the staff message, never once expired,
never to other countries or another network. After WhatsApp's window, as the update template."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from routecare.conftest import Society
from routecare.core import person_texts
from routecare.core.languages import language_name_in
from routecare.flows import actions
from routecare.flows.models import Alert
from routecare.messaging import updates
from routecare.messaging.channels import address_digest
from routecare.messaging.loopback import FakePlatforms
from routecare.messaging.models import (
    AlertNotice,
    Channel,
    ChannelKind,
    Contact,
    DeliveryStatus,
    Message,
    Subscription,
)
from routecare.messaging.tests.test_webhooks import PHONE_NUMBER_ID
from routecare.orgs.models import NationalSociety

pytestmark = pytest.mark.django_db

STAFF_MESSAGE = "Esquipulas closed: threats by a local gang against staff"
PUBLIC_ES = "El punto de Esquipulas está cerrado hasta el lunes. Vaya a Chiquimula."
PUBLIC_FR = "Le point d'Esquipulas est fermé jusqu'à lundi. Allez à Chiquimula."

Run = Callable[[], list[tuple[str, str]]]


@pytest.fixture
def channels(own: Society, other: Society) -> dict[str, Channel]:
    """Honduras's WhatsApp number and Guatemala's Telegram bot."""
    NationalSociety.objects.filter(pk=own.society.pk).update(time_zone="America/Tegucigalpa")
    return {
        "whatsapp": Channel.objects.create(
            national_society=own.society, kind=ChannelKind.WHATSAPP, slug="hn-whatsapp",
            platform_id=PHONE_NUMBER_ID,
        ),
        "telegram": Channel.objects.create(
            national_society=other.society, kind=ChannelKind.TELEGRAM, slug="mk-telegram"
        ),
    }  # fmt: skip


def subscriber(
    channel: Channel, address: str, language: str, *countries: str, **values: Any
) -> Contact:
    contact = Contact.objects.create(
        channel=channel, address=address, address_digest=address_digest(channel, address),
        language=language, last_inbound_at=timezone.now() - dt.timedelta(hours=1), **values,
    )  # fmt: skip
    for country in countries:
        Subscription.objects.create(contact=contact, country_code=country)
    return contact


@pytest.fixture
def run(platforms: FakePlatforms, django_capture_on_commit_callbacks: Any) -> Run:
    """Run the updates job with the worker, and return (address, text) of what was sent."""

    def job() -> list[tuple[str, str]]:
        before = len(platforms.sent)
        with django_capture_on_commit_callbacks(execute=True):
            updates.send_updates()
        sent = []
        for _path, body in platforms.sent[before:]:
            if "chat_id" in body:  # Telegram
                sent.append((str(body["chat_id"]), body["text"]))
            elif "template" in body:
                (parameter,) = body["template"]["components"][0]["parameters"]
                sent.append((body["to"], parameter["text"]))
            else:
                sent.append((body["to"], body["text"]["body"]))
        return sent

    return job


def public_alert(society: Society, **values: Any) -> Alert:
    defaults: dict[str, Any] = {
        "kind": "closure", "severity": "warning", "message": STAFF_MESSAGE, "scope": "network",
        "public_texts": {"fr": PUBLIC_FR, "es": PUBLIC_ES},
    }  # fmt: skip
    defaults.update(values)
    return actions.send_alert(society.actor("coordinator"), **defaults)


def expected(alert: Alert, language: str, zone: str, written_in: str | None = None) -> str:
    until = alert.expires_at.astimezone(zoneinfo.ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
    written_in = written_in or language
    text = person_texts.text(
        "bot_alert", language, kind=person_texts.text("alert_kind_closure", language),
        until=until, text=alert.public_texts[written_in],
    )  # fmt: skip
    if written_in != language:
        name = language_name_in(written_in, language)
        text += "\n" + person_texts.text("bot_alert_only_in", language, language_name=name)
    return text


def test_a_public_alert_reaches_the_subscribers_of_its_countries_once_in_their_language(
    own: Society, other: Society, channels: dict[str, Channel], run: Run
) -> None:
    whatsapp, telegram = channels["whatsapp"], channels["telegram"]
    subscriber(whatsapp, "50411111111", "es", "HN")
    subscriber(whatsapp, "50422222222", "fa", "HN")  # not written in Farsi: Spanish, said so
    subscriber(telegram, "7001", "fr", "GT")
    subscriber(telegram, "7002", "en", "GT", "HN")  # both countries: one message
    subscriber(whatsapp, "50433333333", "es", "HN", stopped_at=timezone.now())
    subscriber(telegram, "7003", "es", "SV")  # a country the alert does not concern
    # From Honduras to the network's points: Honduras's and Guatemala's subscribers.
    alert = public_alert(own)

    sent = dict(run())

    assert sent == {
        "50411111111": expected(alert, "es", "America/Tegucigalpa"),
        "50422222222": expected(alert, "fa", "America/Tegucigalpa", written_in="es"),
        "7001": expected(alert, "fr", "UTC"),
        "7002": expected(alert, "en", "UTC", written_in="es"),
    }
    assert person_texts.text("alert_kind_closure", "fa") in sent["50422222222"]
    assert "اسپانیایی" in sent["50422222222"]  # "Spanish", in Farsi
    assert all("gang" not in text for text in sent.values())  # never the staff message
    notice = AlertNotice.objects.get()
    assert notice.alert == alert
    assert notice.subscribers == 4
    # Sent once: the next runs send nothing more.
    assert run() == []
    assert run() == []


def test_a_public_alert_reaches_only_the_countries_it_concerns(
    own: Society, other: Society, channels: dict[str, Channel], run: Run
) -> None:
    subscriber(channels["telegram"], "7001", "fr", "GT")
    subscriber(channels["whatsapp"], "50411111111", "es", "HN")
    # From Guatemala to Guatemala's own points: Honduras's subscribers are not concerned.
    alert = public_alert(other, scope="societies", societies=[other.society])
    assert run() == [("7001", expected(alert, "fr", "UTC"))]


def test_an_alert_of_another_network_does_not_reach_this_networks_subscribers(
    own: Society, outsider: Society, channels: dict[str, Channel], run: Run
) -> None:
    subscriber(channels["whatsapp"], "50411111111", "es", "RS")
    public_alert(outsider, scope="societies", societies=[outsider.society])
    assert run() == []


def test_an_expired_public_alert_is_never_sent(
    own: Society, other: Society, channels: dict[str, Channel], run: Run
) -> None:
    subscriber(channels["whatsapp"], "50411111111", "es", "HN")
    alert = public_alert(own, hours=1)
    Alert.objects.filter(pk=alert.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert run() == []
    assert not AlertNotice.objects.exists()


def test_an_alert_not_marked_public_is_not_sent(
    own: Society, other: Society, channels: dict[str, Channel], run: Run
) -> None:
    subscriber(channels["whatsapp"], "50411111111", "es", "HN")
    public_alert(own, public_texts={})
    assert run() == []
    assert not AlertNotice.objects.exists()


def test_after_the_window_a_public_alert_goes_as_the_update_template_on_one_line(
    own: Society, other: Society, channels: dict[str, Channel], platforms: FakePlatforms,
    run: Run,
) -> None:  # fmt: skip
    subscriber(channels["whatsapp"], "50411111111", "es", "HN")
    Contact.objects.update(last_inbound_at=timezone.now() - dt.timedelta(hours=30))
    public_alert(own, public_texts={"es": "Cerrado hasta el lunes.\n\nVaya a El Paraíso."})
    ((address, text),) = run()
    assert address == "50411111111"
    assert platforms.sent[-1][1]["template"]["name"] == "routecare_update"
    # The Cloud API refuses a template variable with a line break.
    assert "\n" not in text
    assert "Cerrado hasta el lunes. Vaya a El Paraíso." in text


def test_stop_after_the_alert_was_queued_stops_it(
    own: Society, other: Society, channels: dict[str, Channel], platforms: FakePlatforms,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    subscriber(channels["whatsapp"], "50411111111", "es", "HN")
    public_alert(own)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        updates.send_updates()
    Subscription.objects.all().delete()  # what STOP does
    for send in queued:
        send()
    assert platforms.sent == []
    assert Message.objects.get().status == DeliveryStatus.FAILED
