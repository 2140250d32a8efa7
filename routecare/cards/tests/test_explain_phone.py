"""The person's card page on a phone (360 px), in the person's language: the points the card was
issued and used at by their names, never their internal codes, and lists with the language's
own comma (issue 19 item 9)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect
from pytest_django.live_server_helper import LiveServer

from routecare.cards import actions as card_actions
from routecare.cards.keys import ensure_keys
from routecare.conftest import Society
from routecare.orgs.models import Membership
from routecare.people import actions
from routecare.people.tests.phone import sign_in_on_phone

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("language", "comma", "name"),
    [("ur", "، ", "ریڈ کراس سروس پوائنٹ"), ("es", ", ", "Punto de servicio")],
)
def test_the_card_page_names_points_and_separates_lists_in_the_persons_language(
    live_server: LiveServer,
    browser: Browser,
    own: Society,
    language: str,
    comma: str,
    name: str,
) -> None:
    ensure_keys(own.society.network)
    own.point.translations = {language: {"name": name}}
    own.point.save(update_fields=["translations"])
    person = actions.register_person(
        own.actor(),
        sex="female",
        age_band="18-59",
        languages=[language],
        consent_language="es",
        consents=["care", "share-network"],
    )
    actions.update_health_summary(own.actor(), person, allergies=["penicillin", "latex"])
    actions.record_encounter(own.actor(), person, services=[("first-aid", 1), ("water", 2)])
    card_actions.issue_card(own.actor(), person)
    Membership.objects.get(user=own.volunteer).service_points.set([own.point])

    page = sign_in_on_phone(browser, live_server, own.volunteer, "es")
    page.goto(f"/people/{person.pk}/card/")
    explain = page.locator("[data-testid=explain]")
    expect(explain).to_have_attribute("lang", language)
    text = explain.inner_text()
    assert own.point.code not in text
    assert text.count(name) == 2, text  # issued at, and the visit's point
    assert f"penicillin{comma}latex" in text
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
