"""The staff pages on a phone (360 × 740 px), in Spanish and Arabic: a header of one line with
a menu button that works without JavaScript, and no page that scrolls sideways (issue 19
item 16)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from routecare.conftest import PASSWORD, Society, register
from routecare.people import actions as people_actions
from routecare.people.tests.phone import PHONE, choose_point, sign_in_on_phone
from routecare.referrals import actions
from routecare.referrals.actions import Destination
from routecare.referrals.models import Referral

pytestmark = pytest.mark.browser

HEADER_MOST = 60  # px at 360 × 740; it was 207


def _referrals_both_ways(own: Society, other: Society) -> None:
    """Long words in a referral list: a long point name, a long reason."""
    own.point.name = "Centro de Atención Integral al Migrante Retornado de San Pedro Sula"
    own.point.save()
    for n in range(3):
        person = register(own, consents=["care", "share-network"], languages=["es"])
        people_actions.update_health_summary(
            own.actor(), person, pregnancy={"weeks": 20 + n, "expected_date": None}
        )
        actions.send_referral(
            own.actor(),
            person,
            destination=Destination(point=other.point),
            referral_type="health",
            service="first-aid",
            urgency="priority",
            reason="Control prenatal y seguimiento de tratamiento antirretroviral urgente",
            fields=["pregnancy"],
            idempotency_key=f"nav-phone-{n:04d}",
        )


def _no_sideways_scroll(page: Page) -> None:
    sizes = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert sizes[0] <= sizes[1], f"{page.url} is {sizes[0]} px wide at {sizes[1]} px"


@pytest.mark.parametrize("language", ["es", "ar"])
def test_the_staff_header_is_one_line_and_no_page_scrolls_sideways(
    live_server: LiveServer, browser: Browser, own: Society, other: Society, language: str
) -> None:
    _referrals_both_ways(own, other)
    page = sign_in_on_phone(browser, live_server, other.coordinator, language)
    page.goto("/referrals/")
    choose_point(page)
    expect(page).to_have_url(re.compile(r"/referrals/$"))
    assert page.viewport_size == PHONE
    header = page.locator("header.top").bounding_box()
    assert header is not None
    assert header["height"] <= HEADER_MOST, f"the header is {header['height']:.0f} px tall"
    expect(page.locator("header nav")).to_be_hidden()
    # No emoji in the header: a phone without an emoji font shows an empty box.
    header_text = page.locator("header.top").inner_text()
    assert not [char for char in header_text if ord(char) >= 0x1F000], header_text
    expect(page.locator("main")).to_contain_text("San Pedro Sula")
    _no_sideways_scroll(page)

    # The menu opens with a tap, and its links lead to the directory.
    page.click("header details.menu > summary")
    expect(page.locator("header nav")).to_be_visible()
    with page.expect_navigation():
        page.click('header nav a[href="/directory/"]')
    expect(page.locator("header nav")).to_be_hidden()
    _no_sideways_scroll(page)
    page.goto(f"/referrals/{Referral.objects.earliest('created_at').pk}/")
    _no_sideways_scroll(page)


def test_the_menu_works_without_javascript(
    live_server: LiveServer, browser: Browser, own: Society
) -> None:
    context = browser.new_context(
        base_url=live_server.url, viewport=PHONE, java_script_enabled=False
    )
    page = context.new_page()
    page.goto("/accounts/sign-in/")
    page.fill("input[name=username]", own.volunteer.get_username())
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("main form [type=submit]")
    expect(page.locator("header nav")).to_be_hidden()
    page.click("header details.menu > summary")
    expect(page.locator('header nav a[href="/cards/scan/"]')).to_be_visible()
    context.close()
