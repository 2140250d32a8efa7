"""The web chat (``/<lang>/chat/?country=XX``) without JavaScript, and the staff inbox: a
person writes, the bot answers in the page's language, staff answer from the inbox. Bad input
gets a clear message and keeps nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from routecare.conftest import Society, make_user, sign_in_client
from routecare.core import person_texts
from routecare.messaging.models import (
    Channel,
    ChannelKind,
    Contact,
    Conversation,
    ConversationNote,
    ConversationState,
    Direction,
    Message,
)
from routecare.messaging.views.chat import COOKIE, MAX_CHARACTERS
from routecare.orgs.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def web_channel(own: Society) -> Channel:
    return Channel.objects.create(
        national_society=own.society, kind=ChannelKind.WEB, slug="hn-web", emergency_number="911"
    )


def _post(client: Client, text: str, capture: Any, lang: str = "es", **extra: str) -> Any:
    with capture(execute=True):
        return client.post(f"/{lang}/chat/?country=HN", {"text": text, **extra})


def test_a_person_writes_and_reads_the_bots_answer_in_the_pages_language(
    web_channel: Channel, django_capture_on_commit_callbacks: Any
) -> None:
    client = Client()
    page = client.get("/fa/chat/?country=HN")
    assert page.status_code == 200
    assert 'dir="rtl"' in page.content.decode()
    answer = _post(client, "سلام", django_capture_on_commit_callbacks, lang="fa")
    assert answer.status_code == 302
    assert client.cookies[COOKIE]["httponly"]
    shown = client.get("/fa/chat/?country=HN").content.decode()
    assert "سلام" in shown
    # The web chat knows the language: straight to the notice (no platform named) and consent.
    assert person_texts.text("bot_not_emergency_number", "fa", number="911") in shown
    assert person_texts.text("bot_consent", "fa", days=90) in shown
    assert "Meta" not in shown
    assert Contact.objects.get().language == "fa"


def test_a_double_tap_keeps_one_message(
    web_channel: Channel, django_capture_on_commit_callbacks: Any
) -> None:
    client = Client()
    for _ in range(2):
        _post(client, "hola", django_capture_on_commit_callbacks, form_token="same-form")
    assert Message.objects.filter(direction=Direction.INBOUND).count() == 1


@pytest.mark.parametrize(
    ("text", "key"), [("", "chat_empty"), ("   ", "chat_empty"), ("x" * (MAX_CHARACTERS + 1),
                                                                   "chat_too_long")]
)  # fmt: skip
def test_an_empty_or_too_long_message_is_refused_and_nothing_kept(
    web_channel: Channel, django_capture_on_commit_callbacks: Any, text: str, key: str
) -> None:
    answer = _post(Client(), text, django_capture_on_commit_callbacks)
    assert answer.status_code == 400
    assert person_texts.text(key, "es") in answer.content.decode()
    assert not Message.objects.exists()
    assert not Contact.objects.exists()


def test_a_country_without_a_web_chat_says_so(db: None, own: Society) -> None:
    answer = Client().get("/es/chat/?country=HN")
    assert answer.status_code == 404
    assert person_texts.text("chat_unavailable", "es") in answer.content.decode()
    assert Client().post("/es/chat/?country=ZZ", {"text": "hola"}).status_code == 404
    assert Client().get("/xx/chat/?country=HN").status_code == 302


def test_too_many_messages_from_one_browser_are_refused(
    web_channel: Channel, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    client = Client()
    codes = [_post(client, f"m{n}", django_capture_on_commit_callbacks).status_code
             for n in range(22)]  # fmt: skip
    assert codes.count(429) == 2
    assert Message.objects.filter(direction=Direction.INBOUND).count() == 20


def test_ending_the_chat_forgets_the_cookie(
    web_channel: Channel, django_capture_on_commit_callbacks: Any
) -> None:
    client = Client()
    _post(client, "hola", django_capture_on_commit_callbacks)
    _post(client, "", django_capture_on_commit_callbacks, end="1")
    assert client.cookies[COOKIE].value == ""
    assert "hola" not in client.get("/es/chat/?country=HN").content.decode()


def test_staff_answer_from_the_inbox_and_the_person_reads_it(
    web_channel: Channel, own: Society, other: Society, django_capture_on_commit_callbacks: Any
) -> None:
    person = Client()
    _post(person, "hola", django_capture_on_commit_callbacks)
    _post(person, "2", django_capture_on_commit_callbacks)  # no consent
    _post(person, "hablar con una persona", django_capture_on_commit_callbacks)
    conversation = Conversation.objects.get()
    assert conversation.state == ConversationState.WAITING
    staff = sign_in_client(own.coordinator, own.point)
    inbox = staff.get("/helpdesk/?state=waiting").content.decode()
    assert f"/helpdesk/{conversation.pk}/" in inbox
    page = staff.get(f"/helpdesk/{conversation.pk}/").content.decode()
    assert "hablar con una persona" in page
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(f"/helpdesk/{conversation.pk}/reply/", {"text": "Hola, soy Marta."})
    staff.post(f"/helpdesk/{conversation.pk}/note/", {"text": "called back"})
    conversation.refresh_from_db()
    assert conversation.state == ConversationState.ASSIGNED
    assert conversation.assignee == own.coordinator
    assert conversation.first_reply_at is not None
    assert ConversationNote.objects.get().text == "called back"
    assert "Hola, soy Marta." in person.get("/es/chat/?country=HN").content.decode()
    # Another society's staff: nothing; a volunteer: no inbox at all.
    assert (
        sign_in_client(other.coordinator, other.point)
        .get(f"/helpdesk/{conversation.pk}/")
        .status_code
        == 404
    )
    assert sign_in_client(own.volunteer, own.point).get("/helpdesk/").status_code == 403
    # An empty answer is refused and nothing is sent.
    staff.post(f"/helpdesk/{conversation.pk}/reply/", {"text": "  "})
    assert Message.objects.filter(author=own.coordinator).count() == 1
    staff.post(f"/helpdesk/{conversation.pk}/resolve/")
    conversation.refresh_from_db()
    assert conversation.state == ConversationState.RESOLVED
    # Resolved: the bot answers again.
    _post(person, "menu", django_capture_on_commit_callbacks)
    first_line = person_texts.text("bot_menu", "es").splitlines()[0]
    assert first_line in person.get("/es/chat/?country=HN").content.decode()


def test_erasing_a_contact_on_their_request_deletes_everything_of_theirs(
    web_channel: Channel, own: Society, django_capture_on_commit_callbacks: Any
) -> None:
    person = Client()
    _post(person, "hola", django_capture_on_commit_callbacks)
    _post(person, "hablar con una persona", django_capture_on_commit_callbacks)
    conversation = Conversation.objects.get()
    helper = make_user("hn-helper", Role.COORDINATOR, national_society=own.society)
    staff = sign_in_client(helper, own.point)
    staff.post(f"/helpdesk/{conversation.pk}/erase/")
    assert not Contact.objects.exists()
    assert not Message.objects.exists()
    assert not Conversation.objects.exists()


def test_a_linked_contacts_messages_are_in_the_persons_report_and_erased_with_them(
    web_channel: Channel, own: Society, other: Society, django_capture_on_commit_callbacks: Any
) -> None:
    from django.utils import timezone

    from routecare.conftest import register
    from routecare.retention.report import _Writer

    person = register(own, languages=["fa"])
    visitor = Client()
    _post(visitor, "hola", django_capture_on_commit_callbacks)
    _post(visitor, "hablar con una persona", django_capture_on_commit_callbacks)
    conversation = Conversation.objects.get()
    staff = sign_in_client(own.focal_point, own.point)
    # A code of another society, or none: refused, nothing linked.
    foreign = register(other)
    staff.post(f"/helpdesk/{conversation.pk}/link/", {"text": foreign.short_code})
    staff.post(f"/helpdesk/{conversation.pk}/link/", {"text": "RC-0000-000"})
    assert Contact.objects.get().person is None
    staff.post(f"/helpdesk/{conversation.pk}/link/", {"text": person.short_code})
    assert Contact.objects.get().person == person
    report = staff.post("/retention/requests/", {"code": person.short_code}).content.decode()
    assert person_texts.text("held_helpdesk", "fa") in report
    farsi, today = _Writer("fa"), timezone.now()
    line = farsi.text("held_helpdesk_line", channel=farsi.text("channel_web"),
                      count=Message.objects.count(),
                      first=farsi.date(today), last=farsi.date(today))  # fmt: skip
    assert line in report
    staff.post("/retention/requests/erase/", {"erase-person": str(person.pk),
                                              "erase-code": person.short_code})  # fmt: skip
    assert not Contact.objects.exists()
    assert not Message.objects.exists()


@pytest.mark.parametrize("cookie", ["%D8%B4", "x" * 60, "a;b", "=" * 43])
def test_an_odd_chat_cookie_is_replaced_not_echoed(
    web_channel: Channel, django_capture_on_commit_callbacks: Any, cookie: str
) -> None:
    client = Client()
    client.cookies[COOKIE] = cookie
    assert client.get("/es/chat/?country=HN").status_code == 200
    answer = _post(client, "hola", django_capture_on_commit_callbacks)
    assert answer.status_code == 302
    assert client.cookies[COOKIE].value != cookie
    assert len(client.cookies[COOKIE].value) == 43


@pytest.mark.parametrize("query", ["?country=%00", "?country=H%00", "?country=" + "A" * 500])
def test_odd_countries_get_the_unavailable_page(web_channel: Channel, query: str) -> None:
    assert Client().get(f"/es/chat/{query}").status_code == 404
    assert Client().post(f"/es/chat/{query}", {"text": "hola"}).status_code == 404


def test_an_odd_form_token_or_assignee_changes_nothing_wrongly(
    web_channel: Channel, own: Society, django_capture_on_commit_callbacks: Any
) -> None:
    client = Client()
    _post(client, "hola", django_capture_on_commit_callbacks, form_token="\x00bad\x00")
    _post(client, "hablar con una persona", django_capture_on_commit_callbacks)
    conversation = Conversation.objects.get()
    staff = sign_in_client(own.coordinator, own.point)
    for assignee in ("²", "9" * 5000, "-1", "abc"):
        answer = staff.post(f"/helpdesk/{conversation.pk}/assign/", {"assignee": assignee})
        assert answer.status_code == 302
    conversation.refresh_from_db()
    assert conversation.assignee is None
    assert staff.post(f"/helpdesk/{conversation.pk}/nonsense/").status_code == 404
