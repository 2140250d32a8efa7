"""On a phone (360 px), in Spanish: starting a record from another society's card before
choosing today's point, and the coordinator with a single point (issue 19, items 12 and 13)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect
from pytest_django.live_server_helper import LiveServer

from routecare.cards import actions as card_actions
from routecare.cards.keys import ensure_keys
from routecare.cards.models import Card
from routecare.conftest import Society
from routecare.orgs.models import Membership
from routecare.people import actions
from routecare.people.models import Person
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
    page.check("form.start-record input[name=care_consent]")
    with page.expect_navigation():
        page.click("form.start-record button[type=submit]")

    choose_point(page, 1)
    # Back to the card's result, the card read again from the server's session, not the URL.
    expect(page).to_have_url(re.compile(r"/cards/scan/$"))
    expect(page.locator("[data-testid=card-allergies]")).to_contain_text("penicilina")
    assert str(card.qr_text)[:40] not in page.url
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
