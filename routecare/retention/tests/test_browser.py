"""In a real browser: a focal point shows a person their record in Farsi (right to left),
switches it to Haitian Creole, then erases it when the person asks."""

from __future__ import annotations

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from routecare.conftest import Society, register, sign_in_client
from routecare.core import person_texts
from routecare.people import actions
from routecare.people.models import Person

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_a_person_sees_their_record_in_farsi_and_has_it_erased(
    page: Page, live_server: LiveServer, console_errors: list[str], own: Society
) -> None:
    person = register(own, languages=["fa"])
    actions.record_encounter(own.actor(), person, services=[("water", 2)], notes="tired feet")
    actions.update_health_summary(own.actor(), person, allergies=["penicillin"])
    session = sign_in_client(own.focal_point).cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )

    page.goto("/retention/requests/")
    page.fill("#id_code", person.short_code)
    page.click("form.card:has(#id_code) [type=submit]")
    held = page.locator("[data-testid=held-report]")
    expect(held).to_have_attribute("dir", "rtl")
    expect(held).to_contain_text(person_texts.text("held_title", "fa"))
    expect(held).to_contain_text("penicillin")
    expect(held).to_contain_text(person_texts.service_name("water", "fa"))
    assert person.short_code not in page.url

    page.select_option("#id_language", "ht")
    page.click("[data-testid=report-language] [type=submit]")
    expect(held).to_have_attribute("dir", "ltr")
    expect(held).to_contain_text(person_texts.text("held_title", "ht"))

    page.fill("#id_erase-code", person.short_code)
    page.click("[data-testid=erase-form] [type=submit]")
    expect(page.locator(".messages")).to_contain_text("1 visits")
    assert not Person.objects.filter(pk=person.pk).exists()
    assert page.evaluate("() => localStorage.length + sessionStorage.length") == 0
    assert console_errors == []
