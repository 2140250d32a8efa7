"""A staff member on a phone (360 × 740 px) in a real browser, in a chosen staff language.

Shared by the phone-sized browser tests of the staff pages (issue 19, items 11–16).
"""

from __future__ import annotations

from django.contrib.auth.models import User
from playwright.sync_api import Browser, Page, ViewportSize
from pytest_django.live_server_helper import LiveServer

from routecare.conftest import PASSWORD

PHONE: ViewportSize = {"width": 360, "height": 740}


def phone_page(browser: Browser, live_server: LiveServer, language: str = "en") -> Page:
    context = browser.new_context(base_url=live_server.url, viewport=PHONE)
    context.set_default_timeout(15_000)
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    return context.new_page()


def sign_in_on_phone(
    browser: Browser, live_server: LiveServer, user: User, language: str = "en"
) -> Page:
    """Signed in, today's point not chosen yet (pages about people will ask for it)."""
    page = phone_page(browser, live_server, language)
    page.goto("/accounts/sign-in/")
    page.fill("input[name=username]", user.get_username())
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("main form [type=submit]")
    return page


def choose_point(page: Page, index: int = 0) -> None:
    assert "/accounts/service-point/" in page.url, page.url
    page.check(f"input[name=service_point] >> nth={index}")
    with page.expect_navigation():
        page.click("main form [type=submit]")
