"""On a phone (360 px), in Spanish: starting a record from another society's card before
choosing today's point, the coordinator with a single point, and the consents a card carries
confirmed again with the person, and the QR decoder fetched only for the camera (issue 19,
items 12, 13 and 16)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from pytest_django.live_server_helper import LiveServer

from routecare.audit.models import AuditEvent
from routecare.cards import actions as card_actions
from routecare.cards.camera import fake_camera_args, qr_video
from routecare.cards.keys import ensure_keys
from routecare.cards.models import Card
from routecare.conftest import Society
from routecare.core.tests.browser import CHROMIUM, CHROMIUM_ARGS
from routecare.orgs.models import Membership
from routecare.people import actions
from routecare.people.models import Consent, Person
from routecare.people.tests.phone import choose_point, sign_in_on_phone

pytestmark = pytest.mark.browser


def _card_from(society: Society, consents: list[str]) -> Card:
    ensure_keys(society.society.network)
    person = actions.register_person(
        society.actor(),
        sex="female",
        age_band="18-59",
        languages=["es"],
        consents=consents,
        consent_language="es",
    )
    actions.update_health_summary(society.actor(), person, allergies=["penicilina"])
    return card_actions.issue_card(society.actor(), person)


def test_a_record_started_from_a_card_before_choosing_the_point_survives_the_chooser(
    live_server: LiveServer, browser: Browser, own: Society, other: Society
) -> None:
    card = _card_from(other, ["care", "share-network"])
    page = sign_in_on_phone(browser, live_server, own.volunteer, "es")
    page.goto("/cards/scan/")
    page.fill("textarea[name=text]", str(card.qr_text))
    with page.expect_navigation():
        page.click("form[data-card-form] button[type=submit]")
    expect(page.locator("[data-testid=card-allergies]")).to_contain_text("penicilina")
    page.check("form.start-record input[name=travel_group][value=family]")
    page.check("form.start-record input[name=care_consent]")
    with page.expect_navigation():
        page.click("form.start-record button[type=submit]")

    choose_point(page, 1)
    # Back to the card's result, the card read again from the server's session, not the URL.
    expect(page).to_have_url(re.compile(r"/cards/scan/$"))
    expect(page.locator("[data-testid=card-allergies]")).to_contain_text("penicilina")
    assert str(card.qr_text)[:40] not in page.url
    page.check("form.start-record input[name=travel_group][value=family]")
    page.check("form.start-record input[name=care_consent]")
    with page.expect_navigation():
        page.click("form.start-record button[type=submit]")
    expect(page).to_have_url(re.compile(r"/people/[0-9a-f-]{36}/$"))
    person = Person.objects.get(national_society=own.society)
    assert person.short_code == card.person.short_code
    assert page.evaluate("localStorage.length === 0 && sessionStorage.length === 0")


def test_a_coordinator_with_a_single_point_is_not_asked_where_they_work_today(
    live_server: LiveServer, browser: Browser, own: Society
) -> None:
    Membership.objects.get(user=own.coordinator).service_points.set([own.second_point])
    page = sign_in_on_phone(browser, live_server, own.coordinator, "es")
    page.goto("/people/register/")
    expect(page).to_have_url(re.compile(r"/people/register/$"))
    expect(page.locator("header a.point")).to_contain_text(own.second_point.name)


def test_consents_the_card_carries_are_confirmed_again_in_the_persons_language(
    live_server: LiveServer, browser: Browser, own: Society, other: Society
) -> None:
    ensure_keys(other.society.network)
    carried = actions.register_person(
        other.actor(),
        sex="male",
        age_band="18-59",
        languages=["fa"],
        consents=["care", "share-network", "messaging"],
        consent_language="fa",
    )
    card = card_actions.issue_card(other.actor(), carried)
    page = sign_in_on_phone(browser, live_server, own.volunteer, "es")
    page.goto("/people/find/")
    choose_point(page)
    page.goto("/cards/scan/")
    page.fill("textarea[name=text]", str(card.qr_text))
    with page.expect_navigation():
        page.click("form[data-card-form] button[type=submit]")

    consents = page.locator("[data-testid=carried-consents]")
    expect(consents).to_contain_text(
        "Muestre a la persona cada frase, en su idioma (redacción 2026-11)"
    )
    network = consents.locator(".for-person[data-purpose=share-network]")
    expect(network).to_contain_text("صلیب سرخ")  # Farsi, the card's language
    assert network.get_attribute("dir") == "rtl"
    expect(consents.locator("input[name=confirmed]")).to_have_count(2)  # network, messaging
    assert consents.locator("input:checked").count() == 0  # never ticked for the person
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    page.check("input[name=travel_group][value=family]")
    page.check("input[name=care_consent]")
    page.check("input[name=confirmed][value=share-network]")  # messaging: not agreed again
    with page.expect_navigation():
        page.click("form.start-record button[type=submit]")
    expect(page).to_have_url(re.compile(r"/people/[0-9a-f-]{36}/$"))
    expect(page.locator("section[aria-labelledby=consent]")).to_contain_text(card.serial)

    person = Person.objects.get(national_society=own.society)
    given = {c.purpose: c for c in Consent.objects.filter(person=person, withdrawn_at=None)}
    assert set(given) == {"care", "share-network"}
    network_consent = given["share-network"]
    assert network_consent.confirmed_from_card == card.serial
    assert network_consent.recorded_by == own.volunteer
    assert network_consent.recorded_at_point == own.point
    assert network_consent.language == "fa"
    assert given["care"].confirmed_from_card == ""
    assert AuditEvent.objects.filter(
        actor=own.volunteer,
        action="consent",
        person_id=person.pk,
        detail__contains=f"confirmed from card {card.serial}",
    ).exists()


def test_the_qr_decoder_is_fetched_only_when_the_camera_is_used(
    live_server: LiveServer, browser: Browser, own: Society, other: Society, tmp_path: Path
) -> None:
    """Read a card at 360 px: opening the page fetches no jsQR (257 KB); the camera button
    fetches it where the browser has no QR decoder of its own, and the card is read."""
    card = _card_from(other, ["care", "share-network"])
    video = tmp_path / "card.y4m"
    qr_video(str(card.qr_text), video)
    with_camera = browser.browser_type.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        args=[*CHROMIUM_ARGS, *fake_camera_args(video)],
    )
    try:
        page = sign_in_on_phone(with_camera, live_server, own.volunteer, "es")
        page.context.grant_permissions(["camera"])
        fetched: list[str] = []
        page.on("request", lambda request: fetched.append(request.url))
        page.goto("/cards/scan/")
        page.wait_for_load_state("networkidle")
        assert [url for url in fetched if "scan.js" in url], fetched
        assert not [url for url in fetched if "jsQR" in url]
        assert page.locator("script[src*=jsQR]").count() == 0
        has_detector = page.evaluate("'BarcodeDetector' in window")
        page.click("[data-camera-start]")
        expect(page.locator("[data-testid=card-allergies]")).to_contain_text("penicilina")
        assert bool([url for url in fetched if "jsQR" in url]) is not has_detector
    finally:
        with_camera.close()
