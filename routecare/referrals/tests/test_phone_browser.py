"""On a phone (360 px), in Spanish: a referral's shared pregnancy reads with its words and units,
and a partner's answer sent without its outcome asks again instead of using the link up
(issue 19 item 15)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect
from pytest_django.live_server_helper import LiveServer

from routecare.access import build_actor
from routecare.conftest import Society, register
from routecare.people import actions as people_actions
from routecare.people.models import Person
from routecare.people.tests.phone import choose_point, phone_page, sign_in_on_phone
from routecare.referrals import actions, partner
from routecare.referrals.actions import Destination
from routecare.referrals.models import Referral

pytestmark = pytest.mark.browser


@pytest.fixture
def pregnant(own: Society) -> Person:
    person = register(own, consents=["care", "share-network", "share-partners"])
    people_actions.update_health_summary(
        own.actor(),
        person,
        pregnancy={"weeks": 24, "expected_date": "2027-03-20"},
        allergies=["penicilina"],
    )
    return person


def _refer(own: Society, person: Person, destination: Destination) -> Referral:
    return actions.send_referral(
        own.actor(),
        person,
        destination=destination,
        referral_type="health",
        service="first-aid",
        reason="control prenatal",
        fields=["pregnancy", "allergies", "sex"],
        idempotency_key="phone-0001" if destination.point else "phone-0002",
    )


def test_the_shared_pregnancy_reads_with_weeks_and_expected_date(
    live_server: LiveServer, browser: Browser, own: Society, other: Society, pregnant: Person
) -> None:
    referral = _refer(own, pregnant, Destination(point=other.point))
    page = sign_in_on_phone(browser, live_server, other.volunteer, "es")
    page.goto(f"/referrals/{referral.pk}/")
    choose_point(page)
    page.goto(f"/referrals/{referral.pk}/")
    shared = page.locator("section[aria-labelledby=shared] dl")
    expect(shared).to_contain_text("Embarazo")
    expect(shared).to_contain_text("24 semanas, fecha probable de parto: 2027-03-20")
    expect(shared).to_contain_text("Femenino")  # the sex by its name, not its code
    assert "female" not in shared.inner_text()


def test_a_partner_answer_without_its_outcome_asks_again_and_the_link_still_works(
    live_server: LiveServer, browser: Browser, own: Society, pregnant: Person
) -> None:
    referral = _refer(own, pregnant, Destination(partner_name="Clínica Esperanza"))
    actor = build_actor(own.volunteer, own.point.pk)
    assert actor is not None
    link = f"/partner/referrals/{partner.new_link_token(actor, referral)}/"
    page = phone_page(browser, live_server, "es")
    page.goto(link)
    expect(page.locator("[data-testid=partner-referral]")).to_contain_text(
        "24 semanas, fecha probable de parto: 2027-03-20"
    )
    # The outcome goes missing (an old browser, a form cut short): the page asks again.
    page.evaluate("document.querySelector('select[name=outcome]').remove()")
    with page.expect_navigation():
        page.click("button[type=submit]")
    expect(page.locator("[role=alert]")).to_contain_text("Elija qué pasó")
    expect(page.locator("select[name=outcome]")).to_be_visible()
    referral.refresh_from_db()
    assert referral.partner_link_used_at is None
    assert referral.status == "sent"

    page.select_option("select[name=outcome]", "completed")
    with page.expect_navigation():
        page.click("button[type=submit]")
    referral.refresh_from_db()
    assert referral.status == "completed"
