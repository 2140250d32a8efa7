"""In a real browser, in Farsi: a person on the move asks the web chat for medicine near a
Macedonian point, gets the next points along the route, asks for a person, and reads the
answer a staff member wrote in the helpdesk inbox."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from routecare.conftest import make_user, sign_in_client
from routecare.core import person_texts
from routecare.messaging.models import Channel, ChannelKind, Conversation, ConversationState
from routecare.orgs.models import NationalSociety, Network, Role, Route, RouteStop, ServicePoint

pytestmark = pytest.mark.browser

ALL_DAY = [{"day": day, "opens": "00:00", "closes": "23:59"} for day in range(7)]


def _balkans(network: Network) -> NationalSociety:
    society = NationalSociety.objects.create(
        network=network, name="Red Cross of North Macedonia", country_code="MK",
        time_zone="Europe/Skopje",
    )  # fmt: skip
    stops = [
        ("mk-gevgelija", "Gevgelija transit centre", "41.1416", "22.5027", ["water"]),
        ("mk-negotino", "Negotino rest point", "41.4840", "22.0890", ["medicines", "water"]),
        ("mk-tabanovce", "Tabanovce transit centre", "42.2131", "21.6967", ["medicines"]),
    ]
    route = Route.objects.create(network=network, slug="balkans", name="Western Balkans")
    for position, (code, name, lat, lon, services) in enumerate(stops):
        point = ServicePoint.objects.create(
            national_society=society, code=code, name=name, latitude=Decimal(lat),
            longitude=Decimal(lon), services=services, visibility="public",
            opening_hours=ALL_DAY,
        )  # fmt: skip
        RouteStop.objects.create(
            route=route, position=position, service_point=point, hours_from_previous=position * 2
        )
    Channel.objects.create(
        national_society=society, kind=ChannelKind.WEB, slug="mk-web", emergency_number="112"
    )
    return society


@pytest.mark.django_db(transaction=True)
def test_a_person_asks_in_farsi_and_a_staff_member_answers_from_the_inbox(
    page: Page, live_server: LiveServer, console_errors: list[str]
) -> None:
    society = _balkans(Network.objects.create(slug="balkans", name="Balkans route"))
    chat = "/fa/chat/?country=MK"

    def say(text: str) -> None:
        page.fill("#chat-text", text)
        page.click("form:has(#chat-text) [type=submit]")
        expect(page.locator("[data-testid=chat-thread]")).to_contain_text(text)

    page.goto(chat)
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    thread = page.locator("[data-testid=chat-thread]")
    say("سلام")
    expect(thread).to_contain_text(person_texts.text("bot_consent", "fa", days=90))
    expect(thread).to_contain_text("112")
    say("1")
    expect(thread).to_contain_text(person_texts.text("bot_consent_yes", "fa", days=90))
    say("دارو در Gevgelija")
    expect(thread).to_contain_text("Negotino rest point")
    expect(thread).to_contain_text("Tabanovce transit centre")
    say("صحبت با یک نفر")
    expect(thread).to_contain_text(person_texts.text("bot_handoff", "fa"))

    conversation = Conversation.objects.get()
    assert conversation.state == ConversationState.WAITING
    staff = make_user("mk-coord", Role.COORDINATOR, national_society=society)
    session = sign_in_client(staff).cookies[settings.SESSION_COOKIE_NAME].value
    office = page.context.browser.new_context(base_url=live_server.url)  # type: ignore[union-attr]
    office.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )
    inbox = office.new_page()
    inbox.goto("/helpdesk/?state=waiting")
    inbox.click("[data-testid=conversations] a")
    expect(inbox.locator("[data-testid=thread]")).to_contain_text("صحبت با یک نفر")
    inbox.fill("#reply", "سلام، من مریم هستم. فردا ساعت ۹ به Negotino بیایید.")
    inbox.click("form:has(#reply) [type=submit]")
    expect(inbox.locator("[data-testid=thread]")).to_contain_text("مریم")
    office.close()

    page.click("[data-testid=chat-refresh]")
    expect(thread).to_contain_text("سلام، من مریم هستم")
    assert page.evaluate("() => localStorage.length + sessionStorage.length") == 0
    cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
    assert cookies["routecare_chat"]["httpOnly"]
    assert console_errors == []
