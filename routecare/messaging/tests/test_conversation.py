"""The conversation engine end to end: a signed WhatsApp delivery in, the task worker's answer
out through the loopback Graph API. Language menu, privacy notice and consent, answers from
the directory and the FAQ, hand-off, danger routing, STOP in every language, feedback and
subscriptions, the rate limit, and answering once however often a delivery comes."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from routecare.access import build_actor
from routecare.conftest import Society, make_user
from routecare.core import person_texts
from routecare.feedback import faq_actions
from routecare.feedback.models import Channel as FeedbackChannel
from routecare.feedback.models import Feedback
from routecare.messaging import answering, words
from routecare.messaging.loopback import FakePlatforms
from routecare.messaging.models import (
    Channel,
    ChannelKind,
    Contact,
    Conversation,
    ConversationState,
    DeliveryStatus,
    Direction,
    Message,
    Queue,
    Subscription,
)
from routecare.messaging.tests.test_webhooks import PHONE_NUMBER_ID, signed
from routecare.notifications.models import Notification
from routecare.orgs.models import Membership, Role, Route, RouteStop, ServicePoint

pytestmark = pytest.mark.django_db

NUMBER = "50499887766"
ALL_DAY = [{"day": day, "opens": "00:00", "closes": "23:59"} for day in range(7)]


@pytest.fixture
def whatsapp(own: Society) -> Channel:
    return Channel.objects.create(
        national_society=own.society, kind=ChannelKind.WHATSAPP, slug="hn-whatsapp",
        platform_id=PHONE_NUMBER_ID, emergency_number="911", retention_days=30,
    )  # fmt: skip


def _point(society: Society, code: str, name: str, **values: Any) -> ServicePoint:
    defaults: dict[str, Any] = {
        "name": name, "latitude": Decimal("14.03"), "longitude": Decimal("-86.58"),
        "services": ["medicines", "water"], "visibility": "public", "opening_hours": ALL_DAY,
        "last_verified": dt.date(2026, 12, 1),
    }  # fmt: skip
    defaults.update(values)
    return ServicePoint.objects.create(national_society=society.society, code=code, **defaults)


@pytest.fixture
def route(own: Society, other: Society) -> list[ServicePoint]:
    """Danlí (HN, water only) → El Paraíso (HN, medicines) → Esquipulas (GT, medicines)."""
    danli = _point(own, "hn-danli", "Danlí bus terminal", services=["water", "first-aid"])
    paraiso = _point(
        own, "hn-paraiso", "El Paraíso border", latitude=Decimal("13.86"),
        longitude=Decimal("-86.55"),
    )  # fmt: skip
    esquipulas = _point(
        other, "gt-esquipulas", "Esquipulas shelter", latitude=Decimal("14.56"),
        longitude=Decimal("-89.35"), services=["medicines", "shelter"],
    )  # fmt: skip
    north = Route.objects.create(network=own.society.network, slug="north", name="North")
    for position, (point, hours) in enumerate([(danli, 0), (paraiso, 2), (esquipulas, 9)]):
        RouteStop.objects.create(
            route=north, position=position, service_point=point, hours_from_previous=hours
        )
    return [danli, paraiso, esquipulas]


Say = Callable[..., list[str]]


@pytest.fixture
def say(
    whatsapp: Channel, platforms: FakePlatforms, django_capture_on_commit_callbacks: Any
) -> Say:
    """Deliver a text (or another message) as WhatsApp would, let the worker answer, and
    return the texts sent back to the person."""
    counter = iter(range(1, 10_000))

    def deliver(text: str = "", *, sender: str = NUMBER, message: dict[str, Any] | None = None,
                wamid: str | None = None) -> list[str]:  # fmt: skip
        n = next(counter)
        body = message or {"type": "text", "text": {"body": text}}
        raw = json.dumps({
            "object": "whatsapp_business_account",
            "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "50422000000",
                             "phone_number_id": PHONE_NUMBER_ID},
                "contacts": [{"profile": {"name": "Ana"}, "wa_id": sender}],
                "messages": [{"from": sender, "id": wamid or f"wamid.test{n}",
                              "timestamp": str(int(timezone.now().timestamp())), **body}],
            }}]}],
        }).encode()  # fmt: skip
        before = len(platforms.sent)
        with django_capture_on_commit_callbacks(execute=True):
            answer = Client().post(
                "/messaging/whatsapp/hn-whatsapp/", raw, content_type="application/json",
                headers={"X-Hub-Signature-256": signed(raw)},
            )  # fmt: skip
        assert answer.status_code == 200
        return [sent["text"]["body"] for _path, sent in platforms.sent[before:] if "text" in sent]

    return deliver


def _ready(say: Say, language_number: str = "2", consent: str = "1") -> None:
    say("hola")
    say(language_number)
    say(consent)


def test_the_first_message_gets_the_language_menu_in_every_language(say: Say) -> None:
    (menu,) = say("hola")
    for n, (code, name) in enumerate(words.LANGUAGE_NAMES.items(), start=1):
        assert f"{n}. {name}" in menu
        assert person_texts.text("bot_pick_language", code) in menu


def test_a_language_gets_the_notice_with_the_emergency_number_and_meta_then_consent(
    say: Say,
) -> None:
    say("hola")
    notice, consent = say("2")
    assert "911" in notice
    assert "WhatsApp (Meta)" in notice
    assert notice.startswith(person_texts.text("bot_welcome", "es"))
    assert consent == person_texts.text("bot_consent", "es", days=30)
    contact = Contact.objects.get()
    assert contact.language == "es"
    assert contact.consented_at is None
    thanks, menu = say("sí")
    assert thanks == person_texts.text("bot_consent_yes", "es", days=30)
    assert menu.startswith(person_texts.text("bot_menu", "es"))
    # Its last line: registering before reaching a point, by an absolute link (issue 24).
    assert menu.splitlines()[-1] == person_texts.text(
        "bot_register", "es", link=f"{settings.ROUTECARE_BASE_URL.rstrip('/')}/es/register/"
    )
    assert Contact.objects.get().consented_at is not None


def test_a_language_can_be_chosen_by_its_name(say: Say) -> None:
    say("hello")
    say("farsi")
    assert Contact.objects.get().language == "fa"


def test_a_service_and_a_place_get_the_points_along_the_route(
    say: Say, route: list[ServicePoint]
) -> None:
    _ready(say)
    (reply,) = say("necesito medicinas en Danlí")
    assert reply.startswith(
        person_texts.text("bot_found_along", "es", service=person_texts.service_name(
            "medicines", "es"), place="Danlí bus terminal")
    )  # fmt: skip
    assert "El Paraíso border" in reply
    assert "Esquipulas shelter" in reply
    assert reply.index("El Paraíso") < reply.index("Esquipulas")  # nearest first
    assert "Danlí bus terminal\n" not in reply  # no medicines there
    assert "openstreetmap.org/?mlat=13.86" in reply
    assert person_texts.text("bot_checked", "es", date=dt.date(2026, 12, 1)) in reply
    assert len(reply) < 1500  # a phone screen or two


def test_a_service_without_a_place_asks_where_then_a_location_answers_and_is_dropped(
    say: Say, route: list[ServicePoint]
) -> None:
    _ready(say)
    assert say("agua") == [person_texts.text("bot_ask_place", "es")]
    location = {"type": "location", "location": {"latitude": 14.04, "longitude": -86.57}}
    (reply,) = say(message=location)
    assert reply.startswith(person_texts.text("bot_found_near", "es"))
    assert "Danlí bus terminal" in reply  # water, and nearest
    assert "Esquipulas" not in reply  # no water there
    kept = Message.objects.filter(direction=Direction.INBOUND, kind="location").get()
    assert kept.body == {"location": True}


def test_is_a_point_open_says_its_state_now(say: Say, route: list[ServicePoint]) -> None:
    ServicePoint.objects.filter(code="hn-paraiso").update(status="temporarily-closed")
    route[1].refresh_from_db()
    route[1].save()  # the public entry follows
    _ready(say)
    (reply,) = say("¿está abierto El Paraíso?")
    assert "El Paraíso border" in reply
    assert person_texts.text("status_temporarily_closed", "es") in reply


def test_a_question_is_answered_from_the_public_faq_in_the_persons_language(
    say: Say, own: Society
) -> None:
    actor = build_actor(own.focal_point, own.point.pk)
    assert actor is not None
    entry = faq_actions.create_entry(
        actor, public=True, tags=[],
        texts={"es": ("¿Necesito documentos para cruzar?", "No necesita documentos para "
                      "recibir ayuda de la Cruz Roja."),
               "en": ("Do I need documents?", "No documents are needed for help.")},
    )  # fmt: skip
    faq_actions.approve_entry(actor, entry)
    _ready(say)
    (reply,) = say("documentos para cruzar")
    assert "No necesita documentos" in reply
    assert reply.endswith(person_texts.text("bot_faq_more", "es"))


def test_talk_to_a_person_waits_for_staff_and_the_bot_goes_silent(say: Say, own: Society) -> None:
    _ready(say)
    assert say("quiero hablar con una persona") == [person_texts.text("bot_handoff", "es")]
    conversation = Conversation.objects.get()
    assert conversation.state == ConversationState.WAITING
    assert conversation.queue == Queue.ORDINARY
    assert Notification.objects.filter(user=own.focal_point).exists()
    assert say("¿hola?") == []  # staff hold it now
    assert Message.objects.filter(direction=Direction.INBOUND).count() == 5


def test_what_the_bot_cannot_answer_goes_to_a_person(say: Say) -> None:
    _ready(say)
    assert say("xyzzy plugh") == [person_texts.text("bot_nothing_found", "es")]
    assert Conversation.objects.get().state == ConversationState.WAITING


@pytest.mark.parametrize("language", person_texts.PERSON_LANGUAGES)
def test_danger_words_send_the_emergency_number_and_go_to_protection_only(
    say: Say, own: Society, language: str
) -> None:
    protection = make_user("protector", Role.FOCAL_POINT, national_society=own.society,
                           protection=True)  # fmt: skip
    _ready(say)
    danger = words.DANGER_WORDS[language][0]
    (reply,) = say(f"... {danger} ...")
    assert reply == person_texts.text("bot_danger_number", "es", number="911")
    conversation = Conversation.objects.get()
    assert conversation.queue == Queue.PROTECTION
    assert conversation.state == ConversationState.WAITING
    assert Notification.objects.filter(user=protection, urgent=True).exists()
    assert not Notification.objects.filter(user=own.focal_point).exists()
    assert say("¿me oyen?") == []


@pytest.mark.parametrize("language", person_texts.PERSON_LANGUAGES)
def test_stop_in_every_language_ends_the_subscriptions_before_the_next_send(
    say: Say, own: Society, other: Society, language: str
) -> None:
    _ready(say)
    say("5")
    (confirmation,) = say("1")  # the first country of the network, by code: GT
    assert "Guatemala" in confirmation
    assert Subscription.objects.count() == 1
    stop = words.STOP_WORDS[language][0]
    assert say(stop) == [person_texts.text("bot_stopped", "es")]
    assert Subscription.objects.count() == 0


def test_feedback_from_the_chat_reaches_the_feedback_app(say: Say, own: Society) -> None:
    _ready(say)
    say("4")
    assert say("1") == [person_texts.text("bot_feedback_write", "es")]
    (receipt,) = say("Nos hicieron esperar cinco horas sin agua")
    item = Feedback.objects.get()
    assert item.channel == FeedbackChannel.MESSAGING
    assert item.category == "complaint"
    assert item.about_society == own.society
    assert item.reference in receipt


def test_a_sticker_is_not_kept_and_gets_a_clear_answer(say: Say) -> None:
    _ready(say)
    sticker = {"type": "sticker", "sticker": {"id": "1", "mime_type": "image/webp"}}
    assert say(message=sticker) == [person_texts.text("bot_unsupported", "es")]


def test_a_delivery_replayed_ten_times_is_answered_once(say: Say) -> None:
    say("hola", wamid="wamid.same")
    for _ in range(9):
        assert say("hola", wamid="wamid.same") == []
    assert Message.objects.filter(direction=Direction.OUTBOUND).count() == 1
    assert answering.answer_inbound(Message.objects.get(direction="in").pk) == "already"


def test_a_thousand_messages_a_minute_from_one_number_are_all_kept_and_answered_ten_times(
    say: Say, platforms: FakePlatforms, django_capture_on_commit_callbacks: Any
) -> None:
    _ready(say)
    before = len(platforms.sent)
    stamp = str(int(timezone.now().timestamp()))
    for batch in range(10):  # WhatsApp delivers up to a hundred messages in one notification
        raw = json.dumps({
            "object": "whatsapp_business_account",
            "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"phone_number_id": PHONE_NUMBER_ID},
                "messages": [{"from": NUMBER, "id": f"wamid.flood{batch}-{n}",
                              "timestamp": stamp, "type": "text", "text": {"body": f"q{n}"}}
                             for n in range(100)],
            }}]}],
        }).encode()  # fmt: skip
        with django_capture_on_commit_callbacks(execute=True):
            answer = Client().post(
                "/messaging/whatsapp/hn-whatsapp/", raw, content_type="application/json",
                headers={"X-Hub-Signature-256": signed(raw)},
            )  # fmt: skip
        assert answer.status_code == 200  # never 429
        assert answer.json()["kept"] == 100
    assert Message.objects.filter(direction=Direction.INBOUND).count() == 1003  # all kept
    flood_answers = len(platforms.sent) - before
    assert 0 < flood_answers <= answering.OUTBOUND_PER_MINUTE
    assert len(say("hola", sender="50488776655")) == 1  # someone else: answered at once


def test_staff_answer_after_the_window_is_held_behind_a_template(
    say: Say, own: Society, platforms: FakePlatforms, django_capture_on_commit_callbacks: Any
) -> None:
    from routecare.messaging import actions

    _ready(say)
    say("hablar con una persona")
    contact = Contact.objects.get()
    Contact.objects.filter(pk=contact.pk).update(
        last_inbound_at=timezone.now() - dt.timedelta(hours=25)
    )
    conversation = Conversation.objects.get()
    actor = build_actor(own.focal_point, own.point.pk)
    assert actor is not None
    before = len(platforms.sent)
    with django_capture_on_commit_callbacks(execute=True):
        answer = actions.reply(actor, conversation, "Mañana abrimos a las 8")
    assert answer.status == DeliveryStatus.HELD
    sent = [body for _path, body in platforms.sent[before:]]
    assert [body["type"] for body in sent] == ["template"]
    assert sent[0]["template"]["name"] == "routecare_answer_waiting"
    assert sent[0]["template"]["language"] == {"code": "es"}
    # The person replies: the held answer goes (and the bot stays silent).
    assert say("ok") == ["Mañana abrimos a las 8"]
    answer.refresh_from_db()
    assert answer.status == DeliveryStatus.SENT


def test_the_purge_keeps_consented_conversations_for_the_channels_period(
    say: Say, whatsapp: Channel
) -> None:
    from routecare.messaging import retention

    _ready(say)  # consented
    say("hola", sender="50488776655")  # not consented
    now = timezone.now()
    retention.purge(now + dt.timedelta(hours=25))
    remaining = set(Message.objects.values_list("contact__consented_at", flat=True))
    assert remaining  # the consented contact's are left…
    assert None not in remaining  # …and only theirs
    retention.purge(now + dt.timedelta(days=31))
    assert not Message.objects.exists()


def test_a_coordinator_without_a_protection_role_does_not_see_protection_conversations(
    say: Say, own: Society, other: Society
) -> None:
    _ready(say)
    say(words.DANGER_WORDS["es"][0])
    conversation = Conversation.objects.get()
    url = f"/helpdesk/{conversation.pk}/"
    from routecare.conftest import sign_in_client

    assert sign_in_client(own.coordinator, own.point).get(url).status_code == 404
    assert sign_in_client(other.coordinator, other.point).get(url).status_code == 404
    Membership.objects.filter(user=own.coordinator).update(safeguarding=True)
    page = sign_in_client(own.coordinator, own.point).get(url)
    assert page.status_code == 200
    assert words.DANGER_WORDS["es"][0] in page.content.decode()


def test_subscribers_get_a_closure_in_their_language_and_stop_counts_at_once(
    say: Say, route: list[ServicePoint], platforms: FakePlatforms,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    from routecare.messaging import updates

    _ready(say)
    say("5")
    say("2")  # HN (the network's countries by code: GT, HN)
    assert Subscription.objects.get().country_code == "HN"
    assert updates.send_updates().startswith("0 updates")  # first sight: noted only
    paraiso = route[1]
    paraiso.status = "temporarily-closed"
    paraiso.save()
    before = len(platforms.sent)
    with django_capture_on_commit_callbacks(execute=True):
        assert updates.send_updates().startswith("1 updates")
    (sent,) = [body for _path, body in platforms.sent[before:]]
    assert sent["text"]["body"] == person_texts.text(
        "bot_update_status", "es", point="El Paraíso border", place="HN",
        status=person_texts.text("status_temporarily_closed", "es"),
    )  # fmt: skip
    assert updates.send_updates().startswith("0 updates")  # told once
    # After the window, a template with the update as its variable.
    Contact.objects.update(last_inbound_at=timezone.now() - dt.timedelta(hours=30))
    paraiso.status = "open"
    paraiso.save()
    before = len(platforms.sent)
    with django_capture_on_commit_callbacks(execute=True):
        updates.send_updates()
    (sent,) = [body for _path, body in platforms.sent[before:]]
    assert sent["template"]["name"] == "routecare_update"
    (parameter,) = sent["template"]["components"][0]["parameters"]
    assert "El Paraíso border" in parameter["text"]
    # STOP between queueing and sending: the queued update is not sent.
    paraiso.status = "temporarily-closed"
    paraiso.save()
    before = len(platforms.sent)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        updates.send_updates()
    Subscription.objects.all().delete()  # what STOP does
    for send in queued:
        send()
    assert platforms.sent[before:] == []
    assert Message.objects.filter(status=DeliveryStatus.FAILED).count() == 1


JPEG = b"\xff\xd8\xff\xe0" + b"photo" * 100


def test_a_photo_is_not_fetched_until_staff_keep_it_then_shown_for_seven_days(
    say: Say, own: Society, other: Society, platforms: FakePlatforms
) -> None:
    from routecare.conftest import sign_in_client
    from routecare.messaging import retention
    from routecare.messaging.models import KeptMedia

    platforms.media["1479537139650973"] = (JPEG, "image/jpeg")
    _ready(say)
    say("hablar con una persona")
    photo = {"type": "image", "image": {"id": "1479537139650973", "mime_type": "image/jpeg",
                                        "sha256": "x"}}  # fmt: skip
    assert say(message=photo) == []  # staff hold the conversation
    message = Message.objects.get(kind="unsupported")
    assert message.body == {"type": "image", "media": "1479537139650973", "mime": "image/jpeg"}
    assert not KeptMedia.objects.exists()  # nothing fetched on arrival
    conversation = Conversation.objects.get()
    staff = sign_in_client(own.coordinator, own.point)
    staff.post(f"/helpdesk/{conversation.pk}/keep/", {"text": str(message.pk)})
    kept = KeptMedia.objects.get()
    assert kept.size == len(JPEG)
    assert b"photo" not in kept.content.encode()  # encrypted at rest
    shown = staff.get(f"/helpdesk/media/{message.pk}/")
    assert shown.status_code == 200
    assert shown.content == JPEG
    assert shown["X-Content-Type-Options"] == "nosniff"
    assert shown["Cache-Control"] == "no-store"
    assert (
        sign_in_client(other.coordinator, other.point)
        .get(f"/helpdesk/media/{message.pk}/")
        .status_code
        == 404
    )
    retention.purge(timezone.now() + dt.timedelta(days=8))
    assert not KeptMedia.objects.exists()


def test_a_file_over_16_mb_or_missing_is_refused_and_nothing_kept(
    say: Say, own: Society, platforms: FakePlatforms
) -> None:
    from routecare.conftest import sign_in_client
    from routecare.messaging.models import KeptMedia

    platforms.media["big"] = (b"0" * (16 * 1024 * 1024 + 1), "application/pdf")
    _ready(say)
    say("hablar con una persona")
    staff = sign_in_client(own.coordinator, own.point)
    conversation = Conversation.objects.get()
    for media_id in ("big", "gone"):
        say(message={"type": "document", "document": {"id": media_id}})
        message = Message.objects.filter(kind="unsupported").latest("created_at")
        page = staff.post(f"/helpdesk/{conversation.pk}/keep/", {"text": str(message.pk)},
                          follow=True)  # fmt: skip
        assert page.status_code == 200
        assert "could not be kept" in page.content.decode()
    assert not KeptMedia.objects.exists()
    assert staff.post(f"/helpdesk/{conversation.pk}/keep/", {"text": "nonsense"}).status_code == 404


def test_stop_works_while_staff_hold_the_conversation(say: Say) -> None:
    _ready(say)
    say("5")
    say("1")
    say("quiero hablar con una persona")
    assert Subscription.objects.exists()
    assert say("BAJA") == [person_texts.text("bot_stopped", "es")]
    assert not Subscription.objects.exists()


def test_no_after_yes_withdraws_consent(say: Say) -> None:
    _ready(say)  # yes
    assert Contact.objects.get().consented_at is not None
    say("6")
    say("2")  # Spanish again: the notice and the question
    say("no")
    assert Contact.objects.get().consented_at is None


def test_danger_in_a_photos_caption_goes_to_protection(say: Say, own: Society) -> None:
    _ready(say)
    photo = {"type": "image", "image": {"id": "55", "mime_type": "image/jpeg",
                                        "caption": "me violaron en el camino"}}  # fmt: skip
    assert say(message=photo) == [person_texts.text("bot_danger_number", "es", number="911")]
    assert Conversation.objects.get().queue == Queue.PROTECTION
    # Once protection staff hold it, the bot does not interrupt them.
    assert say("me violaron") == []


def test_without_designated_protection_staff_the_focal_points_get_danger(
    say: Say, own: Society
) -> None:
    from routecare.conftest import sign_in_client

    _ready(say)
    say("secuestro")
    conversation = Conversation.objects.get()
    assert Notification.objects.filter(user=own.focal_point, urgent=True).exists()
    assert not Notification.objects.filter(user=own.coordinator).exists()
    url = f"/helpdesk/{conversation.pk}/"
    assert sign_in_client(own.focal_point, own.point).get(url).status_code == 200
    assert sign_in_client(own.coordinator, own.point).get(url).status_code == 404


def test_ordinary_words_do_not_hand_off_or_raise_danger(say: Say) -> None:
    _ready(say)
    for text in ("se trata de una persona mayor", "salud sexual y reproductiva"):
        say(text)
    assert not Conversation.objects.filter(queue=Queue.PROTECTION).exists()


def test_thanks_asks_what_kind_of_feedback_and_a_question_after_it_is_answered(
    say: Say, route: list[ServicePoint]
) -> None:
    _ready(say)
    assert say("gracias") == [person_texts.text("bot_feedback_choose", "es")]
    (reply,) = say("necesito medicinas en Danlí")
    assert "El Paraíso border" in reply
    assert not Feedback.objects.exists()


@pytest.mark.parametrize("odd", ["፩", "Ⅻ", "٣٣٣٣٣٣٣٣٣٣٣٣٣٣٣٣٣٣٣٣٣٣٣٣٣٣"])
def test_odd_digits_are_not_numbers_of_the_menu(say: Say, odd: str) -> None:
    say("hola")
    assert len(say(odd)) == 1  # the language menu again, not a crash
    assert Conversation.objects.get().state == ConversationState.BOT
