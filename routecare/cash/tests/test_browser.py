"""In a real browser (issue 24, part 2): a volunteer of one society enrols a person in a cash
round; a volunteer at another society's point enrols the same person, typed with a typo and
without accents: flagged before payment, and neither sees the other's person."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from routecare.cash.models import CashEnrolment, EnrolmentStatus
from routecare.cash.tests.conftest import make_round
from routecare.conftest import Society, register, sign_in_client
from routecare.orgs.models import ServicePoint

pytestmark = pytest.mark.browser


def _signed_in(page: Page, live_server: LiveServer, user: User, point: ServicePoint) -> None:
    session = sign_in_client(user, point).cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )


def _fill(page: Page, given_names: str, surnames: str, birth_date: str) -> None:
    page.fill("#id_given_names", given_names)
    page.fill("#id_surnames", surnames)
    page.fill("#id_birth_date", birth_date)
    page.check("input[name=sex][value=male]")
    page.click("[data-testid=enrol-form] [type=submit]")


@pytest.mark.django_db(transaction=True)
def test_the_same_person_enrolled_by_two_societies_is_flagged_before_payment(
    page: Page,
    browser: Browser,
    live_server: LiveServer,
    console_errors: list[str],
    own: Society,
    other: Society,
) -> None:
    cash_round = make_round(own, other, name="Transporte a Tapachula")
    first_person, second_person = register(own), register(other)

    # Society A: from the person's page.
    _signed_in(page, live_server, own.volunteer, own.point)
    page.goto(f"/people/{first_person.pk}/")
    page.click("[data-testid=cash]")
    page.click(f"[data-testid=enrol-{cash_round.pk}]")
    expect(page.locator("#id_given_names")).to_have_attribute("autocomplete", "off")
    _fill(page, "José Luis", "García López", "1990-05-17")
    expect(page.locator("[data-testid=verdict]")).to_have_attribute("data-verdict", "no-match")

    # Society B, another point, another browser: by short code, a typo and no accents.
    second = browser.new_context(base_url=live_server.url)
    other_page = second.new_page()
    _signed_in(other_page, live_server, other.volunteer, other.point)
    other_page.goto("/cash/")
    other_page.click("text=Transporte a Tapachula")
    other_page.click("[data-testid=enrol-by-code]")
    other_page.fill("#id_code", second_person.short_code)
    _fill(other_page, "Jose Luis", "Garcia Lopes", "1990-05-17")
    expect(other_page.locator(".messages")).to_contain_text(
        "Probable duplicate: blocked until a focal point reviews."
    )
    expect(other_page.locator("[data-testid=other]")).to_contain_text(own.point.name)
    other_page.click("[data-testid=pay]")
    expect(other_page.locator(".messages")).to_contain_text("blocked until a focal point reviews")
    flagged = CashEnrolment.objects.get(person=second_person)
    assert flagged.status == EnrolmentStatus.BLOCKED
    assert flagged.paid_at is None

    # Neither sees the other's person: no code, no id, no name, on any page they reach.
    seen_by_b = other_page.content()
    other_page.goto(f"/cash/{cash_round.pk}/")
    seen_by_b += other_page.content()
    for secret in (first_person.short_code, str(first_person.pk), "García", "José"):
        assert secret not in seen_by_b
    page.goto(f"/cash/{cash_round.pk}/")
    seen_by_a = page.content()
    assert first_person.short_code in seen_by_a
    for secret in (second_person.short_code, str(second_person.pk), "Garcia Lopes"):
        assert secret not in seen_by_a
    # Nothing typed went into a URL or the browsers' storage.
    for each in (page, other_page):
        assert "Garc" not in each.url
        assert "1990" not in each.url
        assert each.evaluate("() => localStorage.length + sessionStorage.length") == 0
    second.close()
    assert console_errors == []
