"""Shared fixtures for tests in a real browser: Debian's Chromium driven by Playwright.

Import the fixtures into a test module (``from routecare.core.tests.browser import ...``); the
browser is never downloaded at test time, and CI requires it (``ROUTECARE_REQUIRE_BROWSER``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, sync_playwright
from pytest_django.live_server_helper import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def allow_async_unsafe() -> Iterator[None]:
    """Playwright's sync API runs an event loop; without this Django refuses DB access."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="module")
def browser(allow_async_unsafe: None) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is not installed (apt-get install chromium)"
        if os.environ.get("ROUTECARE_REQUIRE_BROWSER"):
            pytest.fail(f"ROUTECARE_REQUIRE_BROWSER is set but {reason}")
        pytest.skip(reason)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def console_errors() -> list[str]:
    return []


@pytest.fixture
def page(browser: Browser, live_server: LiveServer, console_errors: list[str]) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(10_000)
    new_page = context.new_page()

    def on_console(message: ConsoleMessage) -> None:
        # Chromium asks for /favicon.ico on its own; its 404 is not an error of the app's pages.
        if message.type == "error" and "/favicon.ico" not in message.location.get("url", ""):
            console_errors.append(f"{message.text} ({message.location.get('url')})")

    def on_page_error(error: Error) -> None:
        console_errors.append(f"page error: {error}")

    new_page.on("console", on_console)
    new_page.on("pageerror", on_page_error)
    yield new_page
    context.close()
