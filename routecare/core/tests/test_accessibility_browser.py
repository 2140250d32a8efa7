"""axe-core (from the npm registry, node_modules) over every page people on the move and staff
reach by following links, in a real browser: no serious or critical WCAG 2.1 A/AA violation.

The pages are found by crawling the demo data's links rather than by a list that goes stale:
the public pages from a country's list in five languages (two right-to-left), the staff pages
from the home page of each role. One page per address shape is checked (``/people/<id>/`` once
whoever's record it is), so the run stays bounded.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Browser, BrowserContext, Page
from pytest_django.live_server_helper import LiveServer

from routecare.access import build_actor
from routecare.conftest import sign_in_client
from routecare.demo.loader import load_demo
from routecare.orgs.models import Membership, ServicePoint
from routecare.people.models import Person
from routecare.referrals.actions import Destination, send_referral
from routecare.referrals.models import Referral

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[3] / "node_modules" / "axe-core" / "axe.min.js"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")
# Not RouteCare's pages (Django's admin), or leaving the session.
SKIP = re.compile(
    r"^/(admin|api|static|accounts/sign-out|services-sw\.js)\b|\.(pdf|csv|geojson|kml|json|xlsx|zip|png)$"
)
ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d+")
POINT = re.compile(r"(?<=/services/)[a-z0-9-]+(?=/)")
PUBLIC_LANGUAGES = ("fa", "ps", "ur", "ht", "es")
STAFF = ("hn-focal", "hn-coordinator", "hn-volunteer", "hn-partner", "americas-regional")
PAGES_PER_START = 40

RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
  }));
}"""


@pytest.fixture
def demo(transactional_db: None) -> None:
    load_demo()


@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    # axe is injected as a script of the page; the pages' own policy forbids inline scripts.
    context = browser.new_context(
        base_url=live_server.url, bypass_csp=True, service_workers="block"
    )
    context.set_default_timeout(15_000)
    yield context
    context.close()


def shape(path: str) -> str:
    """``/people/<id>/`` for every person's page, ``/fa/services/<point>/`` for every point's."""
    return POINT.sub("<point>", ID.sub("<id>", path))


def violations_of(page: Page) -> list[str]:
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate(RUN_AXE, WCAG)
    return [
        f"{page.url}: {item['impact']} {item['id']} ({item['help']}) at {item['targets']}"
        for item in found
        if item["impact"] in BLOCKING
    ]


def html_links(page: Page, origin: str) -> list[str]:
    hrefs: list[str] = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    found = []
    for href in hrefs:
        parts = urlsplit(urljoin(page.url, href))
        if f"{parts.scheme}://{parts.netloc}" != origin or SKIP.search(parts.path):
            continue
        found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def crawl(
    context: BrowserContext, origin: str, starts: list[str], seen: set[str], keep: re.Pattern[str]
) -> tuple[list[str], list[str]]:
    """Visit pages breadth first from ``starts``, axe each new address shape; return the pages
    checked and the violations found."""
    page = context.new_page()
    queue = deque(starts)
    checked: list[str] = []
    problems: list[str] = []
    while queue and len(checked) < PAGES_PER_START * len(starts):
        url = queue.popleft()
        key = shape(urlsplit(url).path)
        first_visit = url in starts and url not in checked
        if (key in seen and not first_visit) or not keep.search(urlsplit(url).path):
            continue
        seen.add(key)
        answer = context.request.get(url, max_redirects=5)
        if not answer.ok or not answer.headers.get("content-type", "").startswith("text/html"):
            continue
        page.goto(url)
        checked.append(url)
        problems += violations_of(page)
        queue.extend(html_links(page, origin))
    page.close()
    return checked, problems


def test_the_check_finds_a_control_without_a_name(context: BrowserContext) -> None:
    page = context.new_page()
    page.set_content('<html lang="en"><title>t</title><main><select><option>a</select></main>')
    assert any("select-name" in problem for problem in violations_of(page))


def test_public_pages_have_no_serious_accessibility_violation(
    demo: None, context: BrowserContext, live_server: LiveServer
) -> None:
    checked: list[str] = []
    problems: list[str] = []
    for language in PUBLIC_LANGUAGES:
        seen: set[str] = set()
        starts = [f"/{language}/services/?country={c}" for c in ("HN", "MK")]
        starts += [f"/{language}/faq/?country=HN", f"/{language}/feedback/?country=MK"]
        count, found = crawl(context, live_server.url, starts, seen, re.compile(f"^/{language}/"))
        checked += count
        problems += found
    print("axe checked:", *checked, sep="\n  ")
    assert len(checked) >= 4 * len(PUBLIC_LANGUAGES), checked
    assert not problems, "\n".join(problems)


def signed_in(context: BrowserContext, username: str, origin: str) -> None:
    user = get_user_model().objects.get(username=username)
    membership = Membership.objects.filter(user=user).first()
    if user.username.endswith("-focal"):
        TOTPDevice.objects.get_or_create(user=user, name="test", defaults={"confirmed": True})
    society = membership.national_society if membership else None
    points = ServicePoint.objects.filter(national_society=society).order_by("code")
    point = points.first() if society else None
    client: Client = sign_in_client(user, point)
    context.clear_cookies()
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": origin}]
    )


def _referral(person: Person) -> Referral:
    """The demo has none: the Danlí volunteer refers the person to another Honduran point."""
    user = get_user_model().objects.get(username="hn-volunteer")
    points = ServicePoint.objects.filter(national_society=person.national_society)
    here, there = points.order_by("code")[:2]
    actor = build_actor(user, here.pk, via="web")
    assert actor is not None
    return send_referral(
        actor,
        person,
        destination=Destination(point=there),
        referral_type="health",
        service="first-aid",
        reason="axe",
        idempotency_key="axe-referral-1",
    )


def test_staff_pages_have_no_serious_accessibility_violation(
    demo: None, context: BrowserContext, live_server: LiveServer
) -> None:
    checked: list[str] = []
    problems: list[str] = []
    seen: set[str] = set()
    everything = re.compile("^/")
    # A person's pages and a referral's are reached through a search form, not a link.
    person = Person.objects.filter(national_society__country_code="HN").first()
    assert person is not None
    referral = _referral(person)
    sender = "hn-focal"
    starts = {name: ["/"] for name in STAFF} | {sender: ["/"]}
    starts["hn-focal"].append(f"/people/{person.pk}/")
    starts["hn-volunteer"].append(f"/people/{person.pk}/")
    starts[sender].append(f"/referrals/{referral.pk}/")
    for username in starts:
        signed_in(context, username, live_server.url)
        count, found = crawl(context, live_server.url, starts[username], seen, everything)
        checked += count
        problems += found
    print("axe checked:", *checked, sep="\n  ")
    assert len(checked) >= 40, checked
    assert not problems, "\n".join(problems)
