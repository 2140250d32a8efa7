"""The public directory in a real browser: Farsi, right to left, next points offering
medicines; light on the first load; working offline after one visit; the onward setting."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Response, expect
from pytest_django.live_server_helper import LiveServer

from routecare.demo.loader import load_demo
from routecare.orgs.models import NationalSociety

pytestmark = pytest.mark.browser
FIRST_LOAD_BUDGET_BYTES = 50 * 1024


@pytest.fixture
def demo(db: None) -> None:
    load_demo()


@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=live_server.url, service_workers="allow")
    context.set_default_timeout(15_000)
    yield context
    context.close()


def _transferred(responses: list[Response]) -> int:
    total = 0
    for response in responses:
        sizes = response.request.sizes()
        total += sizes["responseBodySize"] + sizes["responseHeadersSize"]
    return total


def test_the_farsi_page_is_light_rtl_shows_next_medicines_and_works_offline(
    demo: None, context: BrowserContext
) -> None:
    page: Page = context.new_page()
    responses: list[Response] = []
    page.on("response", lambda response: responses.append(response))
    page.goto("/fa/services/?country=HN&service=medicines&from=hnd-las-manos")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == [
        "fa",
        "rtl",
    ]
    next_points = page.locator("[data-testid=next-along] article")
    expect(next_points.first).to_be_visible()
    codes = next_points.evaluate_all("nodes => nodes.map(n => n.dataset.code)")
    assert codes[0] == "hnd-danli"  # the next point on the route that has medicines
    assert "hnd-el-paraiso" not in codes  # no medicines there
    first_load = _transferred(responses)
    assert first_load <= FIRST_LOAD_BUDGET_BYTES, f"first load {first_load} bytes"
    assert len({r.url for r in responses if r.request.resource_type == "document"}) == 1

    # After one visit the page is kept; offline, it is shown with the date of its data.
    # (expect, not wait_for_function: the page's content security policy forbids eval.)
    expect(page.locator("html")).to_have_attribute("data-offline-ready", "kept")
    context.set_offline(True)
    page.reload()
    assert page.evaluate("document.documentElement.dir") == "rtl"
    expect(page.locator("[data-testid=next-along] article").first).to_be_visible()
    expect(page.locator("[data-offline-notice]")).to_be_visible()
    context.set_offline(False)


def test_with_onward_points_off_north_macedonia_shows_no_serbian_points(
    demo: None, browser: Browser, live_server: LiveServer
) -> None:
    # No service worker here: each visit must come from the server, not a kept copy.
    context = browser.new_context(base_url=live_server.url, service_workers="block")
    page = context.new_page()
    page.goto("/en/services/?country=MK")
    # North Macedonia's own points first; the onward ones after, under their own heading.
    codes = page.locator("[data-testid=onward-points] article").evaluate_all(
        "nodes => nodes.map(n => n.dataset.code)"
    )
    assert any(code.startswith("srb-") for code in codes)
    society = NationalSociety.objects.get(country_code="MK")
    society.show_onward_points = False
    society.save()  # as the admin saves it: the cached public pages are drawn afresh
    page.goto("/en/services/?country=MK")
    codes = page.locator("[data-testid=points] article").evaluate_all(
        "nodes => nodes.map(n => n.dataset.code)"
    )
    assert codes
    assert all(code.startswith("mkd-") for code in codes), codes
    assert page.locator("[data-testid=onward-points]").count() == 0
    context.close()


def test_the_map_shows_points_and_outlines_when_tiles_cannot_load(
    demo: None, context: BrowserContext, live_server: LiveServer
) -> None:
    page = context.new_page()
    # Tests never reach the internet: tile requests fail, as they do offline.
    page.route(re.compile(r"^https?://(?!127\.0\.0\.1|localhost)"), lambda route: route.abort())
    page.goto("/es/services/?country=HN")
    page.click("[data-map-button]")
    expect(page.locator(".leaflet-container")).to_be_visible()
    expect(page.locator(".leaflet-marker-icon").first).to_be_visible()
    # The Natural Earth outlines are drawn as SVG paths once the tiles fail.
    expect(page.locator(".leaflet-overlay-pane path").nth(20)).to_be_attached()
    page.locator(".leaflet-marker-icon").first.click()
    expect(page.locator(".leaflet-popup-content a")).to_have_attribute(
        "href", re.compile(r"/es/services/[a-z-]+/")
    )
