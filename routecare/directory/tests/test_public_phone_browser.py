"""A person on the move on a 360 px phone, at 00:09 in Skopje, reading North Macedonia's pages in
Farsi, Pashto, Urdu, Haitian Creole and Spanish (issue 19, items 2, 5, 9 and 10): the list
starts with the country's own points and labels the onward ones; every point says it is closed
now and opens at 08:00, the same on the list, the point page and the public API; the point page
gives its address and names its society and country in the page's words, lists with the
language's comma; the FAQ answers in the page's language.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from routecare.core import person_texts
from routecare.core.languages import comma, country_name_in
from routecare.demo.loader import load_demo
from routecare.demo.routes import SOCIETY_NAMES
from routecare.people.tests.phone import PHONE

pytestmark = pytest.mark.browser

SKOPJE = zoneinfo.ZoneInfo("Europe/Skopje")
NINE_PAST_MIDNIGHT = dt.datetime(2026, 12, 7, 0, 9, tzinfo=SKOPJE)  # a Monday


@pytest.fixture
def demo_at_midnight(transactional_db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    load_demo()
    monkeypatch.setattr(timezone, "now", lambda: NINE_PAST_MIDNIGHT.astimezone(dt.UTC))


@pytest.fixture
def phone(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, service_workers="block")
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def no_sideways_scroll(page: Page) -> bool:
    return bool(page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth"))


@pytest.mark.parametrize("lang", ["fa", "ps", "ur", "ht", "es"])
def test_north_macedonia_at_midnight_on_a_phone(
    demo_at_midnight: None, phone: Page, lang: str
) -> None:
    closed = person_texts.text("closed_opens_today", lang, time="08:00")
    open_now = person_texts.text("open_until", lang, time="18:00")

    phone.goto(f"/{lang}/services/?country=MK")
    assert no_sideways_scroll(phone)
    points = phone.locator("[data-testid=points] article.point")
    # The country's own points first; the others after, under their own heading.
    assert (points.first.get_attribute("data-code") or "").startswith("mkd-")
    onward = phone.locator("[data-testid=onward-points]")
    expect(onward).to_contain_text(person_texts.text("onward_points", lang))
    assert not (onward.locator("article.point").first.get_attribute("data-code") or "").startswith(
        "mkd-"
    )
    own = points.locator("xpath=self::*[starts-with(@data-code, 'mkd-')]")
    assert own.count() >= 3
    for index in range(own.count()):
        expect(own.nth(index).locator("[data-testid=opening]")).to_have_text(closed)
    assert open_now not in phone.content()

    # The point page: the same opening line, its address, its society and country in words.
    first = own.first
    code = first.get_attribute("data-code")
    with phone.expect_navigation():
        first.locator("h3 a").click()
    assert no_sideways_scroll(phone)
    point = phone.locator("[data-testid=point]")
    expect(point.locator("[data-testid=opening]")).to_have_text(closed)
    expect(point.locator("[data-testid=address]")).not_to_be_empty()
    expect(point).to_contain_text(country_name_in("MK", lang))
    society = SOCIETY_NAMES["MK"].get(lang, "Red Cross of North Macedonia")
    expect(point).to_contain_text(society)
    spoken = point.locator("p", has_text=person_texts.text("languages_spoken", lang))
    assert comma(lang) in spoken.inner_text()
    if lang == "ht":
        assert "Macédoine" not in point.inner_text()  # babel's French, not Haitian Creole

    # The public API says the same at the same moment.
    answer = phone.request.get("/api/v1/public/service-points?country=MK").json()
    mine = next(item for item in answer if item["code"] == code)
    assert mine["open_now"] is False
    opens = dt.datetime.fromisoformat(mine["next_opening"]).astimezone(SKOPJE)
    assert (opens.date(), opens.time()) == (NINE_PAST_MIDNIGHT.date(), dt.time(8, 0))

    # The FAQ answers in the page's language.
    phone.goto(f"/{lang}/faq/?country=MK")
    assert no_sideways_scroll(phone)
    expect(phone.locator("main details.point")).to_have_count(3)
    expect(phone.locator("main")).not_to_contain_text(person_texts.text("no_faq", lang))
