"""In a real browser: a volunteer in Danlí (Honduras) refers a pregnant woman who consented to
share to Esquipulas (Guatemala); a Guatemalan coordinator accepts; her card is scanned in
Guatemala and the referral shows as expected; the Honduran sender sees "accepted"."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from routecare.cards import qr
from routecare.cards.models import Card
from routecare.demo.loader import DEMO_PASSWORD, load_demo
from routecare.orgs.models import Membership, ServicePoint
from routecare.people.models import HealthSummary, Person

pytestmark = pytest.mark.browser


def _sign_in(browser: Browser, live_server: LiveServer, username: str, point_code: str) -> Page:
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/accounts/sign-in/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("main form [type=submit]")
    page.goto("/referrals/")
    if "/accounts/service-point/" in page.url:
        point = ServicePoint.objects.get(code=point_code)
        page.check(f"input[name=service_point][value='{point.pk}']")
        with page.expect_navigation():
            page.click("main form [type=submit]")
    return page


def test_a_referral_from_danli_is_accepted_in_esquipulas_and_expected_at_the_scan(
    live_server: LiveServer, browser: Browser, tmp_path: Path, db: None
) -> None:
    load_demo()
    # The coordinator of the demo works at Agua Caliente; here she covers Esquipulas too.
    coordinator = get_user_model().objects.get(username="gt-coordinator")
    Membership.objects.get(user=coordinator).service_points.add(
        ServicePoint.objects.get(code="gtm-esquipulas")
    )
    woman = next(
        p
        for p in Person.objects.filter(national_society__country_code="HN", sex="female")
        if HealthSummary.objects.filter(person=p).exclude(pregnancy=None).exists()
    )

    honduras = _sign_in(browser, live_server, "hn-volunteer", "hnd-danli")
    honduras.goto(f"/people/{woman.pk}/")
    with honduras.expect_navigation():
        honduras.click("[data-testid=refer]")
    esquipulas = ServicePoint.objects.get(code="gtm-esquipulas")
    honduras.select_option("select[name=destination]", f"point:{esquipulas.pk}")
    honduras.select_option("select[name=type]", "health")
    honduras.select_option("select[name=service]", "health-primary")
    honduras.fill("textarea[name=reason]", "Antenatal check, 30 weeks")
    honduras.select_option("select[name=urgency]", "priority")
    honduras.check("input[name=shared_fields][value=pregnancy]")
    with honduras.expect_navigation():
        honduras.click("[data-testid=referral-form] button[type=submit]")
    expect(honduras.locator("[data-testid=referral-status]")).to_have_text("Sent")
    referral_path = re.sub(r"^https?://[^/]+", "", honduras.url)

    guatemala = _sign_in(browser, live_server, "gt-coordinator", "gtm-esquipulas")
    guatemala.goto("/referrals/")
    incoming = guatemala.locator("[data-testid=incoming] a", has_text="Health")
    with guatemala.expect_navigation():
        incoming.first.click()
    expect(guatemala.locator("main")).to_contain_text("30")  # the pregnancy weeks travelled
    with guatemala.expect_navigation():
        guatemala.click("button[name=action][value=accept]")
    expect(guatemala.locator("[data-testid=referral-status]")).to_have_text("Accepted")

    # At the point, the woman's card is read from a photo: the referral is expected.
    card = Card.objects.get(person=woman, ended_at=None)
    photo = tmp_path / "card.png"
    photo.write_bytes(qr.png(str(card.qr_text)))
    volunteer = _sign_in(browser, live_server, "gt-volunteer", "gtm-esquipulas")
    volunteer.goto("/cards/scan/")
    volunteer.set_input_files("input[name=photo]", str(photo))
    with volunteer.expect_navigation():
        volunteer.click("form[data-card-form] button[type=submit]")
    expected = volunteer.locator("[data-testid=expected-referrals]")
    expect(expected).to_contain_text("Primary health care")
    expect(expected).to_contain_text("Danlí")

    honduras.goto(referral_path)
    expect(honduras.locator("[data-testid=referral-status]")).to_have_text("Accepted")
