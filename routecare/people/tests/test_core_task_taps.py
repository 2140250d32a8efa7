"""The volunteer's core task on a phone (360 × 740 px, Spanish), counted in taps after sign-in:
register with minimal data, record an encounter with two services, issue a card. A tap is a
click or a move into a field, so a drop-down counts two (open it, pick an option); nothing is
preselected to save taps (issue 19)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect
from pytest_django.live_server_helper import LiveServer

from routecare.cards.keys import ensure_keys
from routecare.cards.models import Card
from routecare.conftest import Society
from routecare.orgs.models import Membership
from routecare.people.models import Encounter, Person
from routecare.people.tests.phone import sign_in_on_phone

pytestmark = pytest.mark.browser

MOST_TAPS = 12


def test_register_treat_and_issue_a_card_in_at_most_twelve_taps(
    live_server: LiveServer, browser: Browser, own: Society
) -> None:
    ensure_keys(own.society.network)
    # A volunteer assigned to one point is not asked where they work today.
    Membership.objects.get(user=own.volunteer).service_points.set([own.point])
    page = sign_in_on_phone(browser, live_server, own.volunteer, "es")
    taps: list[str] = []

    def tap(selector: str, what: str, *, navigates: bool = False) -> None:
        taps.append(what)
        if navigates:
            with page.expect_navigation():
                page.click(selector)
        else:
            page.click(selector)

    def type_into(selector: str, value: str, what: str) -> None:
        taps.append(what)
        page.fill(selector, value)

    def choose(selector: str, value: str, what: str) -> None:
        taps.extend([f"open {what}", f"pick {what}"])
        page.select_option(selector, value)

    tap('main a.button[href="/people/register/"]', "register a new person", navigates=True)
    expect(page).to_have_url(re.compile(r"/people/register/$"))
    tap("input[name=sex][value=female]", "sex")
    tap("input[name=age_band][value='18-59']", "age band")
    tap("input[name=travel_group][value=family]", "travelling with family")
    choose("select[name=person_language]", "es", "the person's language")
    tap("input[name=consents][value=care]", "care consent")
    tap("form[data-register] button[type=submit]", "register", navigates=True)
    # Registering leads on to what the person receives today.
    expect(page).to_have_url(re.compile(r"/people/[0-9a-f-]{36}/encounters/new/$"))
    type_into("input[name=service-first-aid]", "1", "first aid")
    type_into("input[name=service-water]", "2", "water")
    tap("main form button[type=submit]", "save the encounter", navigates=True)
    expect(page).to_have_url(re.compile(r"/people/[0-9a-f-]{36}/$"))
    tap("[data-testid=issue-card]", "issue a card", navigates=True)
    expect(page.locator("[data-testid=card-qr] svg")).to_be_visible()

    assert len(taps) <= MOST_TAPS, taps
    person = Person.objects.get()
    assert person.travel_group == "family"
    assert Encounter.objects.filter(person=person).count() == 1
    assert Card.objects.filter(person=person, ended_at=None).exists()
