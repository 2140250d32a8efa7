"""In a real browser, on a narrow phone: a coordinator in Belgrade enters today's count in a
handful of taps and sees it on the route view."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, ViewportSize, expect
from pytest_django.live_server_helper import LiveServer

from routecare.demo.loader import DEMO_PASSWORD, load_demo
from routecare.flows.models import DailyCount

pytestmark = pytest.mark.browser

PHONE: ViewportSize = {"width": 360, "height": 740}


def test_a_coordinator_enters_a_count_on_a_phone_and_sees_it_on_the_route_view(
    live_server: LiveServer, browser: Browser, db: None
) -> None:
    load_demo()
    context = browser.new_context(
        base_url=live_server.url, viewport=PHONE, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/accounts/sign-in/")
    page.fill("input[name=username]", "rs-coordinator")
    page.fill("input[name=password]", DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("main form [type=submit]")
    page.goto("/")

    # From the dashboard: every tap and every field typed in counts as one action.
    steps: list[str] = []

    def act(name: str) -> None:
        steps.append(name)

    # On a phone the staff menu is one button (issue 19 item 16).
    page.click("header details.menu > summary")
    act("open the menu")
    with page.expect_navigation():
        page.click("nav >> text=Daily count")
    act("open the daily count")
    # The first time today, the coordinator says where they work (unless they have one point).
    if "/accounts/service-point/" in page.url:
        page.check("input[name=service_point]")
        act("choose Belgrade")
        with page.expect_navigation():
            page.click("main form [type=submit]")
        act("start working here")
    # The form fits the phone's width: nothing to scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.fill("input[name=people]", "214")
    act("people assisted")
    page.fill("input[name=new_arrivals]", "180")
    act("new arrivals")
    page.fill("input[name=departures]", "150")
    act("left onward")
    page.fill("input[name=staff_on_duty]", "6")
    act("staff on duty")
    with page.expect_navigation():
        page.click("[data-testid=count-form] button[type=submit]")
    act("save")
    expect(page.locator(".messages, [role=status]").first).to_contain_text("Count saved")
    with page.expect_navigation():
        page.click("text=Route view: Greece → Slovenia")
    act("open the route view")
    today = page.locator("[data-testid=today-srb-belgrade]")
    expect(today).to_contain_text("214")
    expect(today).to_contain_text("180")
    expect(today).to_contain_text("entered")
    assert len(steps) <= 12, steps
    count = DailyCount.objects.get(service_point__code="srb-belgrade", day=timezone.localdate())
    assert (count.people, count.new_arrivals, count.departures) == (214, 180, 150)
    context.close()
