"""In a real browser: from the Slovenian public page, in Farsi, a person files a complaint
about a service point in Serbia, earlier on their route. The Serbian focal point sees it, the
Slovenian one only a receipt; a sensitive item is seen by the safeguarding focal point only."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from routecare.conftest import sign_in_client
from routecare.feedback.models import Feedback
from routecare.feedback.tests.conftest import Balkans

pytestmark = pytest.mark.browser


def _file(page: Page, about: str, category: str, text: str) -> str:
    page.goto("/fa/services/?country=SI")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    page.click("[data-testid=feedback-link]")
    expect(page.locator("html")).to_have_attribute("lang", "fa")
    page.select_option("#about", about)
    page.check(f"input[name=category][value={category}]")
    page.fill("#text", text)
    page.click("[data-testid=feedback-form] [type=submit]")
    expect(page.locator("[data-testid=feedback-thanks]")).to_be_visible()
    return page.locator("[data-testid=feedback-reference]").inner_text()


def _as(page: Page, live_server: LiveServer, user: User) -> None:
    """Sign the browser in as a staff member (second factor verified)."""
    session = sign_in_client(user).cookies[settings.SESSION_COOKIE_NAME].value
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )


def test_a_complaint_about_serbia_from_the_slovenian_page_in_farsi(
    page: Page, live_server: LiveServer, console_errors: list[str], balkans: Balkans
) -> None:
    serbian_point = balkans.serbia.point
    complaint = _file(page, f"point:{serbian_point.code}", "complaint",
                      "در مرز به ما آب ندادند.")  # fmt: skip
    sensitive = _file(page, f"point:{serbian_point.code}", "sensitive",
                      "یک داوطلب با ما بدرفتاری کرد.")  # fmt: skip
    assert complaint != sensitive
    assert page.evaluate("() => localStorage.length + sessionStorage.length") == 0

    _as(page, live_server, balkans.serbia.focal_point)
    page.goto("/feedback/")
    listing = page.locator("[data-testid=feedback-list]")
    expect(listing).to_contain_text(complaint)
    expect(listing).not_to_contain_text(sensitive)
    page.click(f"text={complaint}")
    expect(page.locator("[data-testid=feedback-detail]")).to_contain_text("در مرز به ما آب ندادند")
    item = Feedback.objects.get(reference=sensitive)
    assert page.goto(f"/feedback/{item.pk}/").status == 404  # type: ignore[union-attr]
    console_errors.clear()  # that 404, logged by the browser

    _as(page, live_server, balkans.slovenia.focal_point)
    page.goto("/feedback/")
    expect(page.locator("main")).not_to_contain_text(complaint)
    page.goto("/feedback/receipts/")
    expect(page.locator("main")).to_contain_text(complaint)
    expect(page.locator("main")).not_to_contain_text("آب ندادند")

    _as(page, live_server, balkans.serbian_safeguarding)
    page.goto("/feedback/safeguarding/")
    expect(page.locator("[data-testid=feedback-list]")).to_contain_text(sensitive)
    page.click(f"text={sensitive}")
    expect(page.locator("[data-testid=feedback-detail]")).to_contain_text("بدرفتاری")
    assert console_errors == []
