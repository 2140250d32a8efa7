"""In a real browser: the regional dashboard draws its chart with the pinned Chart.js and its
map of points sized by people, with no script errors and no request outside RouteCare."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, Request, expect
from pytest_django.live_server_helper import LiveServer

from routecare.demo.loader import DEMO_PASSWORD, load_demo

pytestmark = pytest.mark.browser


def test_the_regional_dashboard_draws_its_chart_and_map(
    page: Page, live_server: LiveServer, console_errors: list[str], db: None
) -> None:
    load_demo()
    outside: list[str] = []

    def on_request(request: Request) -> None:
        if not request.url.startswith(live_server.url):
            outside.append(request.url)

    page.on("request", on_request)
    page.goto("/accounts/sign-in/")
    page.fill("input[name=username]", "americas-regional")
    page.fill("input[name=password]", DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("main form [type=submit]")
    page.goto("/indicators/?granularity=day")
    people = page.locator("[data-indicator=people-supported] .value")
    expect(people).not_to_have_text("0")
    drawn = page.evaluate(
        "() => { const c = document.querySelector('[data-chart=series]');"
        " const chart = window.Chart && window.Chart.getChart(c);"
        " return chart ? chart.data.labels.length : 0; }"
    )
    assert drawn >= 28  # a bar per day of the period
    expect(page.locator("[data-indicator-map][data-ready=true]")).to_be_visible()
    assert page.locator("[data-indicator-map] path.leaflet-interactive").count() >= 3
    assert console_errors == []
    assert outside == []
