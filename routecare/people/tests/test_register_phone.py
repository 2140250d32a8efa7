"""Registering a person on a phone (360 × 740 px), in Spanish and in Arabic: required fields
marked and checked before the round trip, nothing preselected, the person's language asked up
front, the consent shown in it, and a form short enough to fill on a phone (issue 19 item 11)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from routecare.conftest import Society
from routecare.people.models import Consent, Person
from routecare.people.tests.phone import choose_point, sign_in_on_phone

pytestmark = pytest.mark.browser

# The whole form, consent included, at 360 px: it was about 2,000 px.
FORM_HEIGHT_TARGET = 1300


def _open_register(browser: Browser, live_server: LiveServer, own: Society, lang: str) -> Page:
    page = sign_in_on_phone(browser, live_server, own.volunteer, lang)
    page.goto("/people/register/")
    choose_point(page)
    expect(page).to_have_url(re.compile(r"/people/register/$"))
    return page


@pytest.mark.parametrize(("staff_language", "person_language"), [("es", "ps"), ("ar", "fa")])
def test_a_volunteer_registers_a_person_on_a_phone(
    live_server: LiveServer,
    browser: Browser,
    own: Society,
    staff_language: str,
    person_language: str,
) -> None:
    page = _open_register(browser, live_server, own, staff_language)
    form = page.locator("form[data-register]")
    height = form.evaluate("form => form.getBoundingClientRect().height")
    assert height <= FORM_HEIGHT_TARGET, f"the form is {height:.0f} px tall at 360 px"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # Nothing chosen for the person: no travel group, group, sex or consent.
    assert form.locator("input:checked").count() == 0
    # Required answers are marked, and the browser asks for them before sending.
    for name in ("sex", "age_band", "travel_group"):
        legend = form.locator(f"fieldset:has(input[name={name}]) legend")
        expect(legend.locator(".required")).to_have_text("*")
    expect(form.locator("label[for=id_person_language] .required")).to_have_text("*")
    assert not form.evaluate("form => form.checkValidity()")
    missing = form.evaluate(
        "form => [...form.querySelectorAll(':invalid')].map(field => field.name)"
    )
    assert {"sex", "age_band", "travel_group", "person_language", "consents"} <= set(missing)
    page.click("form[data-register] button[type=submit]")  # the browser asks; nothing is sent
    expect(page).to_have_url(re.compile(r"/people/register/$"))
    assert Person.objects.count() == 0

    page.check("input[name=sex][value=female]")
    page.check("input[name=age_band][value='18-59']")
    page.check("input[name=travel_group][value=family]")
    page.select_option("select[name=person_language]", person_language)
    # The consent, shown in the person's language, right to left for Pashto and Farsi.
    wording = page.locator(f"[data-testid=person-consent-{person_language}]")
    expect(wording).to_be_hidden()
    page.check("input[name=consent_shown]")
    expect(wording).to_be_visible()
    assert wording.get_attribute("dir") == "rtl"
    expected = {"ps": "سره صلیب", "fa": "صلیب سرخ"}[person_language]
    expect(wording.locator("li[data-purpose=care]")).to_contain_text(expected)
    expect(page.locator("[data-testid=person-consent-es]")).to_be_hidden()
    page.check("input[name=consents][value=care]")
    with page.expect_navigation():
        page.click("form[data-register] button[type=submit]")
    expect(page).to_have_url(re.compile(r"/people/[0-9a-f-]{36}/encounters/new/$"))

    person = Person.objects.get()
    assert person.travel_group == "family"
    assert person.languages == [person_language]
    consent = Consent.objects.get(person=person)
    assert (consent.purpose, consent.language) == ("care", person_language)


def test_a_birth_year_alone_answers_the_age(
    live_server: LiveServer, browser: Browser, own: Society
) -> None:
    page = _open_register(browser, live_server, own, "es")
    page.check("input[name=sex][value=male]")
    page.fill("input[name=birth_year]", "2010")
    page.check("input[name=travel_group][value=unaccompanied-minor]")
    page.select_option("select[name=person_language]", "es")
    page.check("input[name=consents][value=care]")
    with page.expect_navigation():
        page.click("form[data-register] button[type=submit]")
    person = Person.objects.get()
    assert (person.age_band, person.travel_group) == ("12-17", "unaccompanied-minor")
