"""In a real browser: the regional dashboard draws its chart with the pinned Chart.js and its
map of points sized by people, with no script errors and no request outside RouteCare."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, Request, expect
from pytest_django.live_server_helper import LiveServer

from routecare.conftest import sign_in_client
from routecare.demo.loader import DEMO_PASSWORD, load_demo
from routecare.indicators.regional import store
from routecare.orgs.models import Membership

pytestmark = pytest.mark.browser


def test_the_regional_dashboard_draws_its_chart_and_map(
    page: Page, live_server: LiveServer, console_errors: list[str], db: None
) -> None:
    load_demo()
    store.refresh_all()  # the periodic job keeps the network's year ready
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


@pytest.mark.parametrize(
    ("username", "query"),
    [
        ("americas-regional", ""),
        ("americas-regional", "granularity=day"),
        ("hn-focal", ""),
        ("hn-coordinator", "granularity=week"),
    ],
)
def test_the_chart_says_what_the_table_and_headline_say(
    page: Page,
    live_server: LiveServer,
    console_errors: list[str],
    db: None,
    username: str,
    query: str,
) -> None:
    """The chart's bars are the periods table's people supported, period by period, for
    every role (it plotted only the registered column, 0 to 5, for regional staff)."""
    load_demo()
    store.refresh_all()  # the periodic job keeps the network's year ready
    user = get_user_model().objects.get(username=username)
    TOTPDevice.objects.get_or_create(user=user, name="test", defaults={"confirmed": True})
    point = Membership.objects.get(user=user).service_points.first()
    session = sign_in_client(user, point).cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )
    page.goto(f"/indicators/?{query}")
    chart = page.evaluate(
        "() => { const c = document.querySelector('[data-chart=series]');"
        " const chart = window.Chart.getChart(c);"
        " return {labels: chart.data.labels, datasets: chart.data.datasets.map("
        "   d => d.data)}; }"
    )
    rows = page.locator("[data-table=periods] tbody tr")
    table: dict[str, int | None] = {}
    for index in range(rows.count() - 1):  # the last row is the total
        row = rows.nth(index)
        cells = row.locator("td")
        last = cells.nth(cells.count() - 1)
        table[row.locator("th").inner_text()] = (
            None if last.get_attribute("data-hidden") is not None else int(last.inner_text())
        )
    assert len(chart["datasets"]) == 1
    assert dict(zip(chart["labels"], chart["datasets"][0], strict=True)) == table
    headline = page.locator("[data-indicator=people-supported] .value").inner_text()
    total = page.locator("[data-table=periods] tbody tr").last.locator("td").last.inner_text()
    assert headline == total
    if None not in table.values():
        assert sum(value or 0 for value in table.values()) == int(headline)
    assert max(value or 0 for value in table.values()) > 5  # thousands, not 0 to 5
    assert console_errors == []
