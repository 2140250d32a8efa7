"""The channels' webhooks: verified, kept once, acknowledged; everything else refused with a
clear answer and nothing kept. Payloads under ``payloads/`` are shaped as the platforms
document them (WhatsApp Cloud API notifications, Telegram Bot API updates)."""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client, override_settings

from routecare.conftest import Society
from routecare.messaging import channels
from routecare.messaging.models import (
    Channel,
    ChannelKind,
    Contact,
    DeliveryStatus,
    Direction,
    Message,
    MessageKind,
)

pytestmark = pytest.mark.django_db

PAYLOADS = Path(__file__).with_name("payloads")
PHONE_NUMBER_ID = "106540352242922"
SECRETS = {
    "hn-whatsapp": {"app_secret": "app-secret", "access_token": "token", "verify_token": "verify"},
    "mk-telegram": {"bot_token": "123:abc", "secret_token": "tg-secret"},
}


def payload(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


def signed(raw: bytes, secret: str = SECRETS["hn-whatsapp"]["app_secret"]) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


@pytest.fixture(autouse=True)
def _secrets() -> Iterator[None]:
    with override_settings(ROUTECARE_MESSAGING_SECRETS=SECRETS):
        yield


@pytest.fixture
def whatsapp(own: Society) -> Channel:
    return Channel.objects.create(
        national_society=own.society,
        kind=ChannelKind.WHATSAPP,
        slug="hn-whatsapp",
        platform_id=PHONE_NUMBER_ID,
    )


@pytest.fixture
def telegram(other: Society) -> Channel:
    return Channel.objects.create(
        national_society=other.society, kind=ChannelKind.TELEGRAM, slug="mk-telegram"
    )


def post_whatsapp(raw: bytes, signature: str | None = None, client: Client | None = None) -> Any:
    headers = {} if signature is None else {"X-Hub-Signature-256": signature}
    return (client or Client()).post(
        "/messaging/whatsapp/hn-whatsapp/", raw, content_type="application/json", headers=headers
    )


def post_telegram(raw: bytes, token: str | None = SECRETS["mk-telegram"]["secret_token"]) -> Any:
    headers = {} if token is None else {"X-Telegram-Bot-Api-Secret-Token": token}
    return Client().post(
        "/messaging/telegram/mk-telegram/", raw, content_type="application/json", headers=headers
    )


# -- WhatsApp ------------------------------------------------------------------------------


def test_the_verification_handshake_echoes_the_challenge_for_our_token_only(
    whatsapp: Channel,
) -> None:
    url = "/messaging/whatsapp/hn-whatsapp/"
    query = {"hub.mode": "subscribe", "hub.verify_token": "verify", "hub.challenge": "1158201444"}
    answer = Client().get(url, query)
    assert answer.status_code == 200
    assert answer.content == b"1158201444"
    assert Client().get(url, query | {"hub.verify_token": "guess"}).status_code == 403
    assert Client().get(url, query | {"hub.mode": "unsubscribe"}).status_code == 403


def test_a_signed_text_is_kept_encrypted_without_the_profile_name(whatsapp: Channel) -> None:
    raw = payload("whatsapp/text.json")
    answer = post_whatsapp(raw, signed(raw))
    assert answer.status_code == 200
    assert answer.json() == {"kept": 1, "duplicates": 0, "statuses": 0, "ignored": 0}
    message = Message.objects.get()
    assert message.direction == Direction.INBOUND
    assert message.kind == MessageKind.TEXT
    assert message.body == {"text": "¿Dónde consigo medicinas cerca de Danlí?"}
    wamid = json.loads(raw)["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    # The platform's id, keyed: a wamid holds the sender's number in base64.
    assert message.external_id == channels.external_key(whatsapp, wamid)
    assert wamid not in message.external_id
    contact = message.contact
    assert contact.address == "50499887766"
    assert contact.address_digest == channels.address_digest(whatsapp, "50499887766")
    # At rest: neither the number, the text nor the profile name in clear.
    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM messaging_message")
        (stored_body,) = cursor.fetchone()
        cursor.execute("SELECT address, address_digest FROM messaging_contact")
        stored_address, digest = cursor.fetchone()
    assert "Danl" not in stored_body
    assert "50499887766" not in stored_address
    assert "50499887766" not in digest
    assert "Ana" not in json.dumps(list(Message.objects.values_list("body", flat=True)))


def test_the_same_delivery_again_is_acknowledged_and_not_kept_twice(whatsapp: Channel) -> None:
    raw = payload("whatsapp/text.json")
    for _ in range(10):
        assert post_whatsapp(raw, signed(raw)).status_code == 200
    assert Message.objects.count() == 1
    assert Contact.objects.count() == 1
    last = post_whatsapp(raw, signed(raw)).json()
    assert last["kept"] == 0
    assert last["duplicates"] == 1


@pytest.mark.django_db(transaction=True)
def test_five_identical_deliveries_at_once_keep_one_message(whatsapp: Channel) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("deliveries at once: PostgreSQL (SQLite takes one writer at a time)")
    raw = payload("whatsapp/text.json")
    start = threading.Barrier(5)
    answers: list[int] = []

    def deliver() -> None:
        try:
            start.wait()
            answers.append(post_whatsapp(raw, signed(raw)).status_code)
        finally:
            connection.close()

    for _ in range(10):  # a 10x replay, five at once each time
        threads = [threading.Thread(target=deliver) for _ in range(5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert answers == [200] * 50
    assert Message.objects.filter(direction=Direction.INBOUND).count() == 1
    # …and answered once (the language menu; the channel cannot reach Meta here: failed).
    assert Message.objects.filter(direction=Direction.OUTBOUND).count() == 1
    assert Contact.objects.count() == 1


def test_unsigned_or_wrongly_signed_deliveries_are_refused_and_keep_nothing(
    whatsapp: Channel,
) -> None:
    raw = payload("whatsapp/text.json")
    assert post_whatsapp(raw).status_code == 401
    assert post_whatsapp(raw, signed(raw, "other-secret")).status_code == 403
    assert post_whatsapp(raw, signed(raw)[:-2]).status_code == 403
    assert post_whatsapp(raw, "sha1=" + hashlib.sha1(raw).hexdigest()).status_code == 403  # noqa: S324
    tampered = raw.replace(b"Danl", b"Dan1")
    assert post_whatsapp(tampered, signed(raw)).status_code == 403
    assert Message.objects.count() == 0
    assert Contact.objects.count() == 0


def test_the_signature_check_is_what_refuses(
    whatsapp: Channel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Broken on purpose, the check lets a wrongly signed delivery through: the test above
    can fail."""
    monkeypatch.setattr(channels.whatsapp, "check", lambda *args: None)
    raw = payload("whatsapp/text.json")
    assert post_whatsapp(raw, signed(raw, "other-secret")).status_code == 200
    assert Message.objects.count() == 1


def test_the_unique_constraint_is_what_deduplicates(
    whatsapp: Channel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the platform's id (the unique key), the same delivery is kept twice: the
    duplicate test above can fail."""
    original = channels.whatsapp.parse

    def without_ids(channel: Channel, raw: bytes) -> channels.Delivery:
        delivery = original(channel, raw)
        delivery.messages = [
            channels.Inbound("", m.address, m.kind, m.body, m.sent_at) for m in delivery.messages
        ]
        return delivery

    monkeypatch.setattr(channels.whatsapp, "parse", without_ids)
    raw = payload("whatsapp/text.json")
    post_whatsapp(raw, signed(raw))
    post_whatsapp(raw, signed(raw))
    assert Message.objects.count() == 2


def test_a_channel_without_its_secrets_does_not_start(whatsapp: Channel) -> None:
    raw = payload("whatsapp/text.json")
    with override_settings(ROUTECARE_MESSAGING_SECRETS={}):
        assert post_whatsapp(raw, signed(raw)).status_code == 403
        handshake = {"hub.mode": "subscribe", "hub.verify_token": "verify", "hub.challenge": "1"}
        assert Client().get("/messaging/whatsapp/hn-whatsapp/", handshake).status_code == 403
    partial = {"hn-whatsapp": {"app_secret": "app-secret"}}
    with override_settings(ROUTECARE_MESSAGING_SECRETS=partial):
        assert post_whatsapp(raw, signed(raw)).status_code == 403
    with override_settings(ROUTECARE_LOOKUP_KEY=""):
        assert post_whatsapp(raw, signed(raw)).status_code == 403
    whatsapp.active = False
    whatsapp.save()
    assert post_whatsapp(raw, signed(raw)).status_code == 403
    assert Message.objects.count() == 0


def test_unknown_channels_and_methods(whatsapp: Channel) -> None:
    raw = payload("whatsapp/text.json")
    unknown = Client().post(
        "/messaging/whatsapp/nobody/", raw, content_type="application/json",
        headers={"X-Hub-Signature-256": signed(raw)},
    )  # fmt: skip
    assert unknown.status_code == 404
    assert Client().put("/messaging/whatsapp/hn-whatsapp/", raw).status_code == 405
    # A Telegram path with a WhatsApp channel's slug is no channel.
    assert post_telegram(raw).status_code == 404


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json",
        b"\xff\xfe",
        b"[]",
        b'{"object": "page", "entry": []}',
        json.dumps({"object": "whatsapp_business_account", "entry": "x"}).encode(),
    ],
)
def test_malformed_signed_bodies_get_a_clear_answer(whatsapp: Channel, raw: bytes) -> None:
    answer = post_whatsapp(raw, signed(raw))
    assert answer.status_code in (200, 400)
    assert "detail" in answer.json() or answer.json()["kept"] == 0
    assert Message.objects.count() == 0


def test_odd_but_signed_notifications_keep_only_what_is_usable(whatsapp: Channel) -> None:
    odd = {
        "object": "whatsapp_business_account",
        "entry": [
            {"changes": [None, {"field": "messages", "value": {
                "metadata": {"phone_number_id": PHONE_NUMBER_ID}, "messages": [
                {"id": "wamid.1", "type": "text"},  # no sender
                {"from": "1", "type": "text", "text": {"body": "x"}},  # no id
                {"from": "50499887766", "id": "wamid.2", "type": "text", "text": "flat"},
                {"from": "50499887766", "id": "wamid.3", "type": "location",
                 "location": {"latitude": "north", "longitude": 5}},
                {"from": "50499887766", "id": "wamid.4", "type": "interactive",
                 "interactive": {"type": "list_reply", "list_reply": {"id": "svc-water",
                                                                       "title": "Agua"}}},
            ]}}]},
        ],
    }  # fmt: skip
    raw = json.dumps(odd).encode()
    answer = post_whatsapp(raw, signed(raw))
    assert answer.status_code == 200
    kept = {m.external_id: (m.kind, m.body) for m in Message.objects.all()}
    key = functools.partial(channels.external_key, whatsapp)
    assert kept == {
        key("wamid.2"): (MessageKind.UNSUPPORTED, {"type": "text"}),
        key("wamid.3"): (MessageKind.UNSUPPORTED, {}),
        key("wamid.4"): (MessageKind.CHOICE, {"id": "svc-water", "title": "Agua"}),
    }


def test_a_shared_location_is_kept_only_until_answered(
    whatsapp: Channel, django_capture_on_commit_callbacks: Any
) -> None:
    raw = payload("whatsapp/location.json")
    with django_capture_on_commit_callbacks() as answers:
        assert post_whatsapp(raw, signed(raw)).status_code == 200
    message = Message.objects.get()
    assert message.kind == MessageKind.LOCATION
    assert message.body == {"location": True, "at": [14.0419, -86.5694]}  # encrypted at rest
    for answer in answers:  # the worker answers (the channel cannot send: no matter)
        answer()
    message.refresh_from_db()
    assert message.body == {"location": True}
    delivery = channels.whatsapp.parse(whatsapp, raw)
    assert delivery.messages[0].location == (14.0419, -86.5694)


def test_replies_stickers_and_reactions(whatsapp: Channel) -> None:
    for name in ("whatsapp/button_reply.json", "whatsapp/sticker_and_reaction.json"):
        raw = payload(name)
        assert post_whatsapp(raw, signed(raw)).status_code == 200
    kinds = sorted((m.kind, json.dumps(m.body)) for m in Message.objects.all())
    assert kinds == [
        (MessageKind.CHOICE, json.dumps({"id": "lang-es", "title": "Español"})),
        (MessageKind.UNSUPPORTED, json.dumps({"type": "reaction"})),
        (MessageKind.UNSUPPORTED, json.dumps({"type": "sticker"})),
    ]


def test_a_long_text_is_cut_to_whatsapps_limit(whatsapp: Channel) -> None:
    notification = json.loads(payload("whatsapp/text.json"))
    message = notification["entry"][0]["changes"][0]["value"]["messages"][0]
    message["text"]["body"] = "a" * 1_000_000
    raw = json.dumps(notification).encode()
    assert post_whatsapp(raw, signed(raw)).status_code == 200
    assert len(Message.objects.get().body["text"]) == channels.MAX_TEXT


def test_another_numbers_notification_is_not_this_channels(whatsapp: Channel) -> None:
    raw = payload("whatsapp/text.json").replace(PHONE_NUMBER_ID.encode(), b"999")
    answer = post_whatsapp(raw, signed(raw))
    assert answer.status_code == 200
    assert answer.json()["ignored"] == 1
    assert Message.objects.count() == 0


def test_delivery_statuses_move_forward_only(whatsapp: Channel) -> None:
    contact = Contact.objects.create(
        channel=whatsapp,
        address="50499887766",
        address_digest=channels.address_digest(whatsapp, "50499887766"),
    )
    sent = Message.objects.create(
        channel=whatsapp,
        contact=contact,
        direction=Direction.OUTBOUND,
        external_id=channels.external_key(
            whatsapp, "wamid.HBgLNTA3NjAwMDEyMzQVAgARGBI1QjA2MjE3RkY0QzE2RTdBNjYA"
        ),
        kind=MessageKind.TEXT,
        body={"text": "Hola"},
        status=DeliveryStatus.SENT,
    )
    raw = payload("whatsapp/status_delivered.json")
    assert post_whatsapp(raw, signed(raw)).json()["statuses"] == 1
    sent.refresh_from_db()
    assert sent.status == DeliveryStatus.DELIVERED
    Message.objects.filter(pk=sent.pk).update(status=DeliveryStatus.READ)
    assert post_whatsapp(raw, signed(raw)).json()["statuses"] == 0
    sent.refresh_from_db()
    assert sent.status == DeliveryStatus.READ


def test_digests_differ_by_channel_and_key(whatsapp: Channel, telegram: Channel) -> None:
    first = channels.address_digest(whatsapp, "50499887766")
    assert first != channels.address_digest(telegram, "50499887766")
    with override_settings(ROUTECARE_LOOKUP_KEY="another key"):
        assert first != channels.address_digest(whatsapp, "50499887766")
    assert first != hashlib.sha256(b"50499887766").hexdigest()


# -- Telegram ------------------------------------------------------------------------------


def test_a_private_telegram_message_is_kept_with_its_language(telegram: Channel) -> None:
    answer = post_telegram(payload("telegram/text.json"))
    assert answer.status_code == 200
    message = Message.objects.get()
    assert message.external_id == channels.external_key(telegram, "u873451201")
    assert message.body == {"text": "دارو کجا پیدا کنم؟"}
    assert message.contact.address == "6123456789"
    assert message.contact.language == "fa"
    assert post_telegram(payload("telegram/text.json")).json()["duplicates"] == 1
    assert Message.objects.count() == 1


def test_telegram_secret_token(telegram: Channel) -> None:
    raw = payload("telegram/text.json")
    assert post_telegram(raw, None).status_code == 401
    assert post_telegram(raw, "guess").status_code == 403
    assert post_telegram(raw, "tg-secret ").status_code == 403
    assert Message.objects.count() == 0


def test_groups_are_never_served_and_stickers_are_unsupported(telegram: Channel) -> None:
    assert post_telegram(payload("telegram/group.json")).json()["ignored"] == 1
    assert Contact.objects.count() == 0
    post_telegram(payload("telegram/sticker.json"))
    post_telegram(payload("telegram/location.json"))
    kept = {m.external_id: (m.kind, m.body) for m in Message.objects.all()}
    key = functools.partial(channels.external_key, telegram)
    assert kept == {
        key("u873451205"): (MessageKind.UNSUPPORTED, {"type": "sticker"}),
        key("u873451202"): (MessageKind.LOCATION, {"location": True, "at": [41.1231, 22.5011]}),
    }


def test_blocking_the_bot_stops_the_contact(telegram: Channel) -> None:
    post_telegram(payload("telegram/text.json"))
    assert Contact.objects.get().stopped_at is None
    assert post_telegram(payload("telegram/blocked.json")).status_code == 200
    assert Contact.objects.get().stopped_at is not None


@pytest.mark.parametrize(
    "raw",
    [b"", b"{", b'{"update_id": "1"}', b"[1]", b'{"update_id": 5, "message": {"chat": 3}}'],
)
def test_malformed_telegram_updates(telegram: Channel, raw: bytes) -> None:
    answer = post_telegram(raw)
    assert answer.status_code in (200, 400)
    assert Message.objects.count() == 0


def test_before_consent_nothing_is_kept_longer_than_a_day(whatsapp: Channel) -> None:
    import datetime as dt

    from django.utils import timezone

    from routecare.core import periodic
    from routecare.messaging import retention

    raw = payload("whatsapp/text.json")
    post_whatsapp(raw, signed(raw))
    now = timezone.now()
    assert retention.purge(now + dt.timedelta(hours=23)).startswith(
        "0 messages, 0 conversations, 0 contacts"
    )
    assert Message.objects.count() == 1
    summary = retention.purge(now + dt.timedelta(hours=25))
    assert (
        summary
        == "1 messages, 0 conversations, 1 contacts and 0 kept files past their time deleted"
    )
    assert Message.objects.count() == 0
    assert Contact.objects.count() == 0
    assert "messaging.purge" in {job.name for job in periodic._jobs()}
