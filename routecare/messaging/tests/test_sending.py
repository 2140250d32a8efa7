"""Sending through the platforms' APIs (loopback fakes): what goes out, the 24-hour window,
blocked bots, failures kept as failures."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings
from django.utils import timezone

from routecare.conftest import Society
from routecare.messaging import sending, tasks
from routecare.messaging.channels import address_digest, external_key
from routecare.messaging.loopback import FakePlatforms
from routecare.messaging.models import Channel, ChannelKind, Contact, DeliveryStatus, Message
from routecare.messaging.tests.test_webhooks import SECRETS

pytestmark = pytest.mark.django_db


def _contact(channel: Channel, address: str, last_inbound: dt.datetime | None) -> Contact:
    return Contact.objects.create(
        channel=channel,
        address=address,
        address_digest=address_digest(channel, address),
        last_inbound_at=last_inbound,
    )


@pytest.fixture
def whatsapp_contact(own: Society) -> Contact:
    channel = Channel.objects.create(
        national_society=own.society,
        kind=ChannelKind.WHATSAPP,
        slug="hn-whatsapp",
        platform_id="106540352242922",
    )
    return _contact(channel, "50499887766", timezone.now() - dt.timedelta(minutes=5))


@pytest.fixture
def telegram_contact(other: Society) -> Contact:
    channel = Channel.objects.create(
        national_society=other.society, kind=ChannelKind.TELEGRAM, slug="mk-telegram"
    )
    return _contact(channel, "6123456789", timezone.now())


def test_a_text_goes_out_through_the_graph_api(
    platforms: FakePlatforms, whatsapp_contact: Contact
) -> None:
    message = sending.queue_text(whatsapp_contact, "Punto de la Cruz Roja en Danlí: abierto")
    assert tasks.send_message.call(str(message.pk)) == DeliveryStatus.SENT
    message.refresh_from_db()
    assert message.external_id == external_key(message.channel, "wamid.OUT0001")
    assert message.sent_at is not None
    path, body = platforms.sent[0]
    assert path == "/v21.0/106540352242922/messages"
    assert body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "50499887766",
        "type": "text",
        "text": {"preview_url": False, "body": "Punto de la Cruz Roja en Danlí: abierto"},
    }
    # Sent once: a second run of the task sends nothing more.
    assert tasks.send_message.call(str(message.pk)) == DeliveryStatus.SENT
    assert len(platforms.sent) == 1


def test_after_24_hours_only_a_template_goes_out(
    platforms: FakePlatforms, whatsapp_contact: Contact
) -> None:
    Contact.objects.filter(pk=whatsapp_contact.pk).update(
        last_inbound_at=timezone.now() - dt.timedelta(hours=25)
    )
    whatsapp_contact.refresh_from_db()
    late = sending.send(sending.queue_text(whatsapp_contact, "Hola"))
    assert late.status == DeliveryStatus.FAILED
    assert late.body["error"] == "window_closed"
    assert platforms.sent == []
    template = sending.send(sending.queue_template(whatsapp_contact, "answer_waiting", "es"))
    assert template.status == DeliveryStatus.SENT
    assert platforms.sent[0][1]["template"] == {
        "name": "answer_waiting",
        "language": {"code": "es"},
    }


def test_telegram_send_and_a_blocked_bot_stops_the_contact(
    platforms: FakePlatforms, telegram_contact: Contact
) -> None:
    sent = sending.send(sending.queue_text(telegram_contact, "سلام"))
    assert sent.status == DeliveryStatus.SENT
    assert sent.external_id == external_key(sent.channel, "m6123456789:101")  # no chat id
    assert platforms.sent[0] == ("/bot123:abc/sendMessage", {"chat_id": "6123456789",
                                                            "text": "سلام"})  # fmt: skip
    platforms.blocked_chats.add("6123456789")
    refused = sending.send(sending.queue_text(telegram_contact, "?"))
    assert refused.body["error"] == "telegram_blocked"
    telegram_contact.refresh_from_db()
    assert telegram_contact.stopped_at is not None
    # Stopped: nothing more is even tried.
    platforms.blocked_chats.clear()
    again = sending.send(sending.queue_text(telegram_contact, "?"))
    assert again.body["error"] == "contact_stopped"
    assert len(platforms.sent) == 1


def test_failures_are_kept_as_failures(platforms: FakePlatforms, whatsapp_contact: Contact) -> None:
    platforms.failing = True
    failed = sending.send(sending.queue_text(whatsapp_contact, "Hola"))
    assert failed.status == DeliveryStatus.FAILED
    assert failed.body["error"] == "platform_answered_502"
    platforms.failing = False
    wrong_token = {**SECRETS, "hn-whatsapp": {**SECRETS["hn-whatsapp"], "access_token": "x"}}
    with override_settings(ROUTECARE_MESSAGING_SECRETS=wrong_token):
        refused = sending.send(sending.queue_text(whatsapp_contact, "Hola"))
    assert refused.body["error"] == "whatsapp_error_190"
    with override_settings(ROUTECARE_MESSAGING_SECRETS={}):
        unstarted = sending.send(sending.queue_text(whatsapp_contact, "Hola"))
    assert unstarted.body["error"] == "channel_not_started"
    with override_settings(ROUTECARE_WHATSAPP_API="http://127.0.0.1:9/v21.0"):
        unreachable = sending.send(sending.queue_text(whatsapp_contact, "Hola"))
    assert unreachable.body["error"] == "platform_unreachable"
    assert Message.objects.filter(status=DeliveryStatus.FAILED).count() == 4
    assert tasks.send_message.call("00000000-0000-0000-0000-000000000000") == "gone"
