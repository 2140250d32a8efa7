"""In a real browser, a volunteer signs in, registers a person, records an encounter with a
follow-up and finds the person again by short code: once in English, once in Arabic (rtl)."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from routecare.conftest import PASSWORD, Society
from routecare.people import shortcode

FOLLOW_UP = "Needs insulin refill"
SUBMIT = "main form [type=submit]"  # every page used here has exactly one form in <main>

pytestmark = pytest.mark.browser


def assert_language(page: Page, language: str) -> None:
    lang, direction = page.evaluate("[document.documentElement.lang, document.documentElement.dir]")
    assert (lang, direction) == (language, "rtl" if language == "ar" else "ltr"), page.url
    assert page.evaluate("typeof htmx") == "object", f"htmx did not load on {page.url}"


def submit(page: Page, language: str) -> None:
    with page.expect_navigation():
        page.click(SUBMIT)
    assert_language(page, language)


def follow(page: Page, selector: str, language: str) -> None:
    with page.expect_navigation():
        page.click(selector)
    assert_language(page, language)


def choose_point_if_asked(page: Page, language: str) -> bool:
    if "/accounts/service-point/" not in page.url:
        return False
    page.check("input[name=service_point] >> nth=0")
    submit(page, language)
    return True


def sign_in(page: Page, society: Society, language: str) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/sign-in/"))
    assert_language(page, "en")  # the default, before anyone picks a language
    if language != "en":
        with page.expect_navigation():  # the <select> submits itself (routecare.js)
            page.select_option("header select[name=language]", language)
        expect(page.locator("header select[name=language]")).to_have_value(language)
    assert_language(page, language)
    page.fill("input[name=username]", society.volunteer.get_username())
    page.fill("input[name=password]", PASSWORD)
    submit(page, language)
    asked = choose_point_if_asked(page, language)
    follow(page, 'header nav a[href="/people/register/"]', language)
    asked = choose_point_if_asked(page, language) or asked
    assert asked, "the volunteer was never asked where they work today"
    expect(page).to_have_url(re.compile(r"/people/register/$"))
    expect(page.locator("header a.point")).to_contain_text(society.point.name)


def register_person(page: Page, language: str) -> tuple[str, str]:
    """Fill the register form; return the person page's path and the short code."""
    page.check("input[name=sex][value=female]")
    if language == "en":
        page.fill("input[name=birth_year]", "1990")
    else:
        page.check("input[name=age_band][value='18-59']")
    page.check("input[name=travel_group][value=alone]")  # never preselected
    page.select_option("select[name=person_language]", "es")
    expect(page.locator("input[name=consents][value=care]")).not_to_be_checked()
    page.check("input[name=consents][value=care]")
    expect(page.locator("select[name=consent_language]")).to_have_value(language)
    submit(page, language)
    # Registering leads on to the encounter form, which shows the short code to give.
    expect(page).to_have_url(re.compile(r"/people/[0-9a-f-]{36}/encounters/new/$"))
    code = page.locator("[data-testid=short-code]").inner_text().strip()
    assert re.fullmatch(r"RC-[0-9A-Z]{4}-[0-9A-Z]{3}", code), code
    assert shortcode.is_valid(code[3:].replace("-", ""))
    return urlparse(page.url).path.removesuffix("encounters/new/"), code


def record_encounter(page: Page, person_path: str, point_name: str, language: str) -> None:
    if not page.url.endswith(f"{person_path}encounters/new/"):
        follow(page, f'main a[href="{person_path}encounters/new/"]', language)
    page.fill("input[name=service-first-aid]", "2")
    page.fill("input[name=service-water]", "3")
    page.check("input[name=triage][value=yellow]")
    page.fill("textarea[name=follow_up_text]", FOLLOW_UP)
    page.select_option("select[name=follow_up_urgency]", "priority")
    submit(page, language)
    expect(page).to_have_url(re.compile(re.escape(person_path) + "$"))
    expect(page.locator("section[aria-labelledby=followups] li")).to_have_count(1)
    expect(page.locator("section[aria-labelledby=followups]")).to_contain_text(FOLLOW_UP)
    encounters = page.locator("ol.timeline li")
    expect(encounters).to_have_count(1)
    expect(encounters).to_contain_text(point_name)
    expect(encounters).to_contain_text("2 ×")
    expect(encounters).to_contain_text("3 ×")
    expect(encounters.locator(".triage-yellow")).to_have_count(1)


def look_up(page: Page, typed: str, language: str) -> None:
    """Type a code into the find page; htmx puts the result into #find-result."""
    follow(page, 'header nav a[href="/people/find/"]', language)
    page.fill("input[name=code]", typed)
    page.click(SUBMIT)


def find_person(page: Page, person_path: str, code: str, language: str) -> None:
    link = f'#find-result a.button[href="{person_path}"]'
    compact = code[3:].replace("-", "")
    for typed in (code, compact.lower(), f"rc{compact.lower()}"):
        look_up(page, typed, language)
        expect(page.locator(link)).to_be_visible()
        expect(page.locator("#find-result .code")).to_have_text(code)
        expect(page).to_have_url(re.compile(r"/people/find/$"))  # the code stays out of URLs
        follow(page, link, language)
        expect(page).to_have_url(re.compile(re.escape(person_path) + "$"))
        expect(page.locator("[data-testid=short-code]")).to_have_text(code)
        expect(page.locator("section[aria-labelledby=followups]")).to_contain_text(FOLLOW_UP)

    # One wrong symbol always fails the check symbol; the right code is among the suggestions.
    wrong = shortcode.ALPHABET[(shortcode.ALPHABET.index(compact[2]) + 1) % len(shortcode.ALPHABET)]
    typo = compact[:2] + wrong + compact[3:]
    assert not shortcode.is_valid(typo)
    look_up(page, shortcode.format_code(typo), language)
    suggestion = page.locator(f'#find-result li a.code[href="{person_path}"]')
    expect(suggestion).to_have_text(code)
    follow(page, f'#find-result li a.code[href="{person_path}"]', language)
    expect(page.locator("[data-testid=short-code]")).to_have_text(code)


@pytest.mark.parametrize("language", ["en", "ar"])
def test_volunteer_registers_treats_and_finds_a_person(
    live_server: LiveServer,
    own: Society,
    page: Page,
    console_errors: list[str],
    language: str,
) -> None:
    sign_in(page, own, language)
    person_path, code = register_person(page, language)
    record_encounter(page, person_path, own.point.name, language)
    find_person(page, person_path, code, language)

    assert console_errors == []
    # Nothing about the person may be kept in the browser's storage.
    stored = "JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])"
    assert page.evaluate("localStorage.length === 0 && sessionStorage.length === 0"), page.evaluate(
        stored
    )
    cookies = {cookie["name"] for cookie in page.context.cookies()}
    assert cookies <= {"sessionid", "csrftoken", "django_language"}, cookies
