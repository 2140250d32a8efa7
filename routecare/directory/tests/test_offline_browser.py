"""The public pages offline, in a real browser (issue 19, item 4): after one visit to a country's
list, every public point page of that country, the FAQ and the feedback form open without a
connection, from the copies the service worker kept in the background; a filter never kept
gives our own offline page, not the browser's error page; kept copies say when their data was
taken and claim no "open now"; the map button says it needs a connection. A page is downloaded
once, never a second time to be kept."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.signals import request_started
from playwright.sync_api import Browser, BrowserContext, Page, expect
from pytest_django.live_server_helper import LiveServer

from routecare.core import person_texts
from routecare.demo.loader import load_demo
from routecare.orgs.models import ServicePoint

pytestmark = pytest.mark.browser
COUNTRY = "HN"


class ServerHits:
    """What the live server was asked for (path?query), as the server saw it: requests a
    service worker answered from its cache never reach it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.addresses: list[str] = []

    def __call__(self, sender: Any, environ: dict[str, str], **kwargs: Any) -> None:
        query = environ.get("QUERY_STRING", "")
        with self.lock:
            self.addresses.append(environ["PATH_INFO"] + (f"?{query}" if query else ""))

    def count(self, address: str) -> int:
        with self.lock:
            return self.addresses.count(address)

    def since(self, start: int) -> list[str]:
        with self.lock:
            return self.addresses[start:]


@pytest.fixture
def demo(db: None) -> None:
    load_demo()


@pytest.fixture
def hits() -> Iterator[ServerHits]:
    receiver = ServerHits()
    request_started.connect(receiver, dispatch_uid="offline-test-hits")
    yield receiver
    request_started.disconnect(dispatch_uid="offline-test-hits")


@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=live_server.url, service_workers="allow")
    context.set_default_timeout(15_000)
    yield context
    context.close()


def _own_points(country: str) -> list[str]:
    return list(
        ServicePoint.objects.filter(
            national_society__country_code=country, visibility=ServicePoint.Visibility.PUBLIC
        ).values_list("code", flat=True)
    )


def _visit_once(context: BrowserContext, lang: str) -> Page:
    page = context.new_page()
    page.goto(f"/{lang}/services/?country={COUNTRY}")
    # Kept: the page, its scripts and the country's pages, fetched after the page loaded.
    expect(page.locator("html")).to_have_attribute("data-offline-ready", "kept")
    return page


def test_after_one_visit_a_country_point_pages_faq_and_feedback_open_offline(
    demo: None, context: BrowserContext, hits: ServerHits
) -> None:
    lang = "fa"
    texts = person_texts.texts_for(lang)
    page = _visit_once(context, lang)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    own = _own_points(COUNTRY)
    assert len(own) >= 2
    # The page itself was downloaded once: not again to be kept.
    assert hits.count(f"/{lang}/services/?country={COUNTRY}") == 1
    # Each of the country's point pages was fetched once, and no other country's.
    for code in own:
        assert hits.count(f"/{lang}/services/{code}/?country={COUNTRY}") == 1, code
    fetched_points = [
        a for a in hits.addresses if a.startswith(f"/{lang}/services/") and a.count("/") == 4
    ]
    assert sorted(fetched_points) == sorted(
        f"/{lang}/services/{code}/?country={COUNTRY}" for code in own
    )

    context.set_offline(True)
    offline_from = len(hits.addresses)
    never_opened = own[-1]
    page.goto(f"/{lang}/services/{never_opened}/?country={COUNTRY}")
    expect(page.locator("[data-testid=point]")).to_be_visible()
    assert page.evaluate("document.documentElement.dir") == "rtl"
    # A kept copy says when its data was taken, and claims no "open now".
    expect(page.locator("[data-offline-notice]")).to_be_visible()
    for line in page.locator("[data-until]").all():
        expect(line).to_be_hidden()

    page.goto(f"/{lang}/faq/?country={COUNTRY}")
    expect(page.locator("h2")).to_have_text(texts["faq_title"])
    page.goto(f"/{lang}/feedback/?country={COUNTRY}")
    expect(page.locator("[data-testid=feedback-form]")).to_be_visible()
    expect(page.locator("[data-offline-sensitive]")).to_be_visible()

    # The list, kept, with every "open now" line hidden; the map says it needs a connection.
    page.goto(f"/{lang}/services/?country={COUNTRY}")
    expect(page.locator("[data-testid=points] article").first).to_be_visible()
    assert page.locator("[data-until]").count() > 0
    for line in page.locator("[data-until]").all():
        expect(line).to_be_hidden()
    page.click("[data-map-button]")
    expect(page.locator("[data-map-offline]")).to_have_text(texts["offline_map"])
    expect(page.locator("[data-map-button]")).to_be_enabled()

    # A filter never kept: our own page in the person's language, with the way back.
    page.select_option("#service", "water")
    page.click("form.filters [type=submit]")
    expect(page.locator("[data-testid=offline-page]")).to_have_text(texts["offline_title"])
    expect(page.locator("main a").first).to_have_attribute(
        "href", f"/{lang}/services/?country={COUNTRY}"
    )
    page.locator("main a").first.click()
    expect(page.locator("[data-testid=points] article").first).to_be_visible()

    # All of it came from the phone: the server heard nothing while offline.
    assert hits.since(offline_from) == []
    assert errors == []  # the map button threw nothing
    context.set_offline(False)


def test_online_pages_keep_their_open_now_line_and_no_offline_notice(
    demo: None, context: BrowserContext
) -> None:
    page = _visit_once(context, "es")
    page.goto(f"/es/services/{_own_points(COUNTRY)[0]}/?country={COUNTRY}")
    expect(page.locator("[data-testid=point]")).to_be_visible()
    expect(page.locator("[data-offline-notice]")).to_be_hidden()
    assert "data-from-cache" not in (page.locator("html").get_attribute("data-from-cache") or "")
    opening = page.locator("[data-testid=opening]")
    expect(opening).to_be_visible()


def test_only_public_pages_are_kept_never_a_faq_search(demo: None, context: BrowserContext) -> None:
    page = _visit_once(context, "es")
    page.goto(f"/es/faq/?country={COUNTRY}&q=agua")
    expect(page.locator("h2")).to_be_visible()
    page.wait_for_load_state("networkidle")
    kept: list[str] = page.evaluate(
        "caches.keys().then((names) => Promise.all(names.map((name) => caches.open(name)"
        ".then((cache) => cache.keys())))).then((lists) => lists.flat().map((r) => r.url))"
    )
    paths = sorted(address.split("/", 3)[3] for address in kept)
    assert f"es/faq/?country={COUNTRY}" in paths
    assert f"es/feedback/?country={COUNTRY}" in paths
    assert not [path for path in paths if "q=" in path]  # what a person searched stays theirs
    # Staff pages, the API and other languages' pages are never kept.
    assert all(path.startswith(("es/", "static/", "services-sw")) for path in paths), paths
