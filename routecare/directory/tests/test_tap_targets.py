"""The public pages on a 360 px phone (issue 19, items 6, 7 and 9), in Spanish (left to right)
and Farsi (right to left): nothing scrolls sideways, every tap target is at least 44 by 44 px,
services are named in the page's language beside their icons, the back arrow points back."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect
from pytest_django.live_server_helper import LiveServer

from routecare.core import caching, person_texts
from routecare.demo.loader import load_demo
from routecare.directory.selectors import PUBLIC_PAGES
from routecare.orgs.models import ServicePoint

pytestmark = pytest.mark.browser
PHONE: ViewportSize = {"width": 360, "height": 740}
MIN_TARGET_PX = 44
PAGES = (
    "/{lang}/services/?country=HN",
    "/{lang}/services/{point}/?country=HN",
    "/{lang}/faq/?country=HN",
    "/{lang}/feedback/?country=HN",
    "/{lang}/feedback/answer/",
    "/{lang}/offline/?country=HN",
)

# Every visible control and link, with the box a finger has to hit. A check box or radio
# button inside its label is hit anywhere on the label (tapping the label ticks it: HTML's
# label activation), so the label's box is its target; everything else is measured itself.
TARGETS = """() => [...document.querySelectorAll("a, button, input, select, textarea, summary")]
  .filter((element) => element.getClientRects().length
    && getComputedStyle(element).visibility !== "hidden")
  .map((element) => {
    const wrapped = ["checkbox", "radio"].includes(element.type) && element.closest("label");
    const box = (wrapped || element).getBoundingClientRect();
    const name = (element.textContent || element.name || element.id || "").trim().slice(0, 40);
    return {tag: element.tagName.toLowerCase(), name, width: box.width, height: box.height,
      left: box.left, top: box.top};
  })"""


POINT = "hnd-danli"


@pytest.fixture
def demo(db: None) -> None:
    load_demo()
    # The demo points have no phone: give one a phone and WhatsApp, so their links are seen.
    ServicePoint.objects.filter(code=POINT).update(
        phone="+504 2763 0000", whatsapp="+504 9999 0000"
    )
    caching.changed(PUBLIC_PAGES)  # update() sends no signal: pages drawn before are stale


@pytest.fixture
def phone(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    context = browser.new_context(
        base_url=live_server.url, viewport=PHONE, service_workers="block", has_touch=True
    )
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def _overlapping(page: Page) -> list[tuple[str, str]]:
    """Pairs of targets whose boxes overlap: a tap there could hit either."""
    targets: list[dict[str, Any]] = page.evaluate(TARGETS)
    pairs = []
    for n, one in enumerate(targets):
        for other in targets[n + 1 :]:
            across = min(one["left"] + one["width"], other["left"] + other["width"]) - max(
                one["left"], other["left"]
            )
            down = min(one["top"] + one["height"], other["top"] + other["height"]) - max(
                one["top"], other["top"]
            )
            if across > 0.5 and down > 0.5:
                pairs.append((one["name"], other["name"]))
    return pairs


def _too_small(page: Page) -> list[dict[str, Any]]:
    targets: list[dict[str, Any]] = page.evaluate(TARGETS)
    assert targets, "no tap targets found"
    return [
        t for t in targets if t["width"] < MIN_TARGET_PX - 0.5 or t["height"] < MIN_TARGET_PX - 0.5
    ]


@pytest.mark.parametrize("lang", ["es", "fa"])
def test_public_pages_at_360_px_have_no_sideways_scroll_and_44_px_targets(
    demo: None, phone: Page, lang: str
) -> None:
    point = POINT
    for template in PAGES:
        url = template.format(lang=lang, point=point)
        phone.goto(url)
        assert phone.evaluate("document.documentElement.lang") == lang
        width = phone.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"{url} scrolls sideways: {width}"
        assert _too_small(phone) == [], url
        assert _overlapping(phone) == [], url


@pytest.mark.parametrize("lang", ["es", "fa"])
def test_services_are_named_in_the_page_language_beside_their_icons(
    demo: None, phone: Page, lang: str
) -> None:
    texts = person_texts.texts_for(lang)
    point = ServicePoint.objects.get(code=POINT)
    names = [texts[f"service:{code}"] for code in point.services]
    phone.goto(f"/{lang}/services/?country=HN")
    card = phone.locator(f"article[data-code='{point.code}'] .icons")
    for name in names:
        expect(card).to_contain_text(name)
    # The icon is decoration; the name is read out.
    assert card.locator("[aria-hidden=true]").count() == len(names)
    phone.goto(f"/{lang}/services/{point.code}/?country=HN")
    listed = phone.locator("[data-testid=point] .icons li")
    assert listed.all_inner_texts() == [
        f"{icon} {name}".strip()
        for icon, name in zip(
            listed.locator("[aria-hidden=true]").all_inner_texts(), names, strict=True
        )
    ]


@pytest.mark.parametrize(("lang", "arrow", "side"), [("es", "←", "left"), ("fa", "→", "right")])
def test_the_back_link_points_back_in_the_page_direction(
    demo: None, phone: Page, lang: str, arrow: str, side: str
) -> None:
    phone.goto(f"/{lang}/services/{POINT}/?country=HN")
    back = phone.locator("[data-testid=back]")
    assert back.inner_text().startswith(arrow)
    # The arrow is drawn at the start of the line: on the left in Spanish, the right in Farsi.
    box = back.bounding_box()
    assert box is not None
    if side == "left":
        assert box["x"] < PHONE["width"] / 2
    else:
        assert box["x"] + box["width"] > PHONE["width"] / 2
