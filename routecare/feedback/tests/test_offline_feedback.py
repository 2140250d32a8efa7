"""Feedback written offline (issue 19, item 4): a complaint, a question or praise is kept in the
browser until the connection returns, then sent by itself and deleted; contact details are
never kept; abuse and exploitation reports need a connection and the form says why."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect
from pytest_django.live_server_helper import LiveServer

from routecare.core import person_texts
from routecare.demo.loader import load_demo
from routecare.feedback.models import Feedback

pytestmark = pytest.mark.browser
OUTBOX = "routecare-feedback-outbox"


@pytest.fixture
def demo(db: None) -> None:
    load_demo()


@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=live_server.url, service_workers="allow")
    context.set_default_timeout(15_000)
    yield context
    context.close()


def _outbox(page: Page) -> list[dict[str, str]]:
    kept = page.evaluate(f"localStorage.getItem({json.dumps(OUTBOX)})")
    return json.loads(kept) if kept else []


def _write(page: Page, category: str, text: str) -> None:
    page.select_option("#about", index=0)
    page.check(f"input[name=category][value={category}]")
    page.fill("#text", text)


def test_feedback_written_offline_is_kept_then_sent_when_the_connection_returns(
    demo: None, context: BrowserContext
) -> None:
    lang = "ur"
    texts = person_texts.texts_for(lang)
    page = context.new_page()
    page.goto(f"/{lang}/services/?country=HN")
    expect(page.locator("html")).to_have_attribute("data-offline-ready", "kept")
    before = Feedback.objects.count()

    context.set_offline(True)
    page.goto(f"/{lang}/feedback/?country=HN")
    expect(page.locator("[data-testid=feedback-form]")).to_be_visible()
    # Why a report of abuse cannot be written offline is on the form before anyone tries.
    expect(page.locator("[data-offline-sensitive]")).to_have_text(texts["offline_sensitive"])

    _write(page, "sensitive", "A volunteer asked me for money.")
    page.click("[data-testid=feedback-form] [type=submit]")
    expect(page.locator("[data-offline-sensitive]")).to_be_visible()
    expect(page.locator("[data-testid=feedback-kept]")).to_be_hidden()
    assert _outbox(page) == []  # never kept on the phone

    _write(page, "complaint", "The water ran out at noon.")
    page.check("input[name=contact_consent]")
    page.select_option("#contact_method", "sms")
    page.fill("#contact_value", "+50499990000")
    page.click("[data-testid=feedback-form] [type=submit]")
    expect(page.locator("[data-offline-contact]")).to_have_text(texts["offline_contact"])
    assert _outbox(page) == []  # contact details are never kept

    page.uncheck("input[name=contact_consent]")
    page.fill("#contact_value", "")
    page.click("[data-testid=feedback-form] [type=submit]")
    expect(page.locator("[data-testid=feedback-kept]")).to_have_text(texts["offline_kept"])
    kept = _outbox(page)
    assert [(item["category"], item["text"]) for item in kept] == [
        ("complaint", "The water ran out at noon.")
    ]
    assert set(kept[0]) == {"lang", "country", "about", "category", "text", "token"}
    assert Feedback.objects.count() == before
    # The form is empty again, ready for another message.
    expect(page.locator("#text")).to_have_value("")

    context.set_offline(False)  # the browser's "online" event sends what was kept
    notice = page.locator("[data-outbox-sent]")
    expect(notice).to_be_visible()
    expect(notice.locator("[data-outbox-text]")).to_have_text(texts["offline_sent"])
    reference = notice.locator("[data-reference]").inner_text()
    item = Feedback.objects.get(reference=reference)
    assert (item.category, item.text, item.language) == (
        "complaint",
        "The water ran out at noon.",
        lang,
    )
    assert item.received_by is not None
    assert item.received_by.country_code == "HN"
    assert _outbox(page) == []  # deleted once sent
    assert Feedback.objects.count() == before + 1


def test_feedback_kept_offline_is_sent_on_the_next_page_opened_online(
    demo: None, context: BrowserContext
) -> None:
    page = context.new_page()
    page.goto("/es/services/?country=hn")  # typed in lower case: kept as the links write it
    expect(page.locator("html")).to_have_attribute("data-offline-ready", "kept")
    context.set_offline(True)
    page.click("[data-testid=feedback-link]")
    _write(page, "question", "¿Dónde hay agua potable?")
    page.click("[data-testid=feedback-form] [type=submit]")
    expect(page.locator("[data-testid=feedback-kept]")).to_be_visible()
    page.close()  # the page is gone before the connection returns

    context.set_offline(False)
    later = context.new_page()
    later.goto("/es/faq/?country=HN")
    reference = later.locator("[data-outbox-sent] [data-reference]")
    expect(reference).not_to_be_empty()
    item = Feedback.objects.get(reference=reference.inner_text())  # the text is encrypted
    assert (item.text, item.category, item.language) == (
        "¿Dónde hay agua potable?",
        "question",
        "es",
    )
    assert _outbox(later) == []


def test_a_phone_that_says_online_without_a_connection_keeps_the_message(
    demo: None, context: BrowserContext
) -> None:
    """The signal is lost but the phone still says it is online: the form asks the server
    first and keeps the message instead of losing it on the browser's error page."""
    lang = "fa"
    texts = person_texts.texts_for(lang)
    page = context.new_page()
    page.goto(f"/{lang}/feedback/?country=HN")
    before = Feedback.objects.count()

    def lost(route: Route) -> None:
        if route.request.method == "GET":
            route.continue_()
        else:
            route.abort("internetdisconnected")

    page.route("**/feedback/**", lost)
    _write(page, "complaint", "آب تمام شد.")
    page.click("[data-testid=feedback-form] [type=submit]")
    expect(page.locator("[data-testid=feedback-kept]")).to_have_text(texts["offline_kept"])
    assert [item["text"] for item in _outbox(page)] == ["آب تمام شد."]
    assert Feedback.objects.count() == before
    # An abuse report is not kept: it needs a connection.
    _write(page, "sensitive", "Someone asked me for money.")
    page.click("[data-testid=feedback-form] [type=submit]")
    expect(page.locator("[data-offline-sensitive]")).to_be_visible()
    assert len(_outbox(page)) == 1

    page.unroute("**/feedback/**")
    page.reload()  # back in reach: what was kept is sent
    expect(page.locator("[data-outbox-sent] [data-reference]")).not_to_be_empty()
    assert _outbox(page) == []
    assert Feedback.objects.count() == before + 1

    # With the connection there, the form is sent as it always was: a page with the reference.
    _write(page, "praise", "Merci.")
    with page.expect_navigation():
        page.click("[data-testid=feedback-form] [type=submit]")
    expect(page.locator("[data-testid=feedback-reference]")).not_to_be_empty()
    assert Feedback.objects.count() == before + 2
