"""A person's cash assistance enrolments in their data-subject report: each round, its period,
the enrolling point and the status in words the person understands; nothing of other people's
enrolments, of the verdict or of the coded form of the names."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from routecare.cash import actions
from routecare.cash.models import CashEnrolment, EnrolmentStatus
from routecare.cash.selectors import PERSON_STATUS, HeldEnrolment
from routecare.cash.tests.conftest import enrol, make_round
from routecare.conftest import Society, register
from routecare.core import person_texts
from routecare.people.models import Person
from routecare.retention.report import _Writer

REQUESTS = reverse("retention:requests")
JOSE = ("José Luis", "García López", "1990-05-17")


@pytest.fixture
def focal(own: Society, web: Callable[..., Client]) -> Client:
    return web(own.focal_point)


def _report(client: Client, person: Person) -> str:
    """The report as shown to the person (the staff page around it left out)."""
    page = client.post(REQUESTS, {"code": person.short_code}).content.decode()
    return page.split('data-testid="held-report"', 1)[1].split("</article>", 1)[0]


def _enrolment_line(language: str, enrolment: CashEnrolment) -> str:
    writer = _Writer(language)
    return writer.text(
        "held_cash_enrolment", round=enrolment.round.name,
        starts=writer.date(enrolment.round.starts_on), ends=writer.date(enrolment.round.ends_on),
        date=writer.date(enrolment.enrolled_at), point=enrolment.service_point.name,
    )  # fmt: skip


def test_the_report_lists_the_persons_enrolment_with_its_round_and_status_in_spanish(
    focal: Client, own: Society
) -> None:
    person = register(own, languages=["es"])
    enrolment = enrol(own, make_round(own), person, *JOSE)
    page = focal.post(REQUESTS, {"code": person.short_code}).content.decode()
    assert 'lang="es" dir="ltr" data-testid="held-report"' in page
    assert person_texts.text("held_cash", "es") in page
    assert _enrolment_line("es", enrolment) in page
    assert "Onward transport" in page
    assert person_texts.text("cash_status_cleared", "es") in page
    assert person_texts.text("held_cash_coded", "es") in page
    assert person_texts.text("held_cash", "es") != person_texts.text("held_cash", "en")


def test_a_flagged_enrolment_is_being_checked_in_arabic_right_to_left(
    focal: Client, own: Society, other: Society
) -> None:
    shared_round = make_round(own, other)
    enrol(other, shared_round, register(other), *JOSE)
    person = register(own, languages=["ar"])
    enrolment = enrol(own, shared_round, person, "Jose Luis", "Garcia Lopes", "1990-05-17")
    assert enrolment.status == EnrolmentStatus.BLOCKED
    page = focal.post(REQUESTS, {"code": person.short_code}).content.decode()
    assert 'lang="ar" dir="rtl" data-testid="held-report"' in page
    page = _report(focal, person)
    assert person_texts.text("held_cash", "ar") in page
    assert _enrolment_line("ar", enrolment) in page
    assert person_texts.text("cash_status_checking", "ar") in page
    # Nothing of the enrolment it resembles (another society's), nor of the verdict.
    assert other.point.name not in page
    assert f"{enrolment.similarity:.2f}" not in page
    assert "duplicate" not in page.lower()


def test_the_report_shows_nothing_of_another_persons_enrolments(
    focal: Client, own: Society
) -> None:
    person = register(own, languages=["en"])
    enrol(own, make_round(own), person, *JOSE)
    winter = make_round(own, name="Winter support")
    neighbour = register(own)
    enrol(own, winter, neighbour, "María José", "Hernández", "1988-03-07", sex="female")
    actions.mark_paid(own.actor(), CashEnrolment.objects.get(person=neighbour))
    page = _report(focal, person)
    assert "Onward transport" in page
    assert "Winter support" not in page
    assert person_texts.text("cash_status_paid", "en") not in page
    assert page.count(person_texts.text("cash_status_cleared", "en")) == 1


def test_the_report_shows_nothing_of_the_encoding(focal: Client, own: Society) -> None:
    person = register(own, languages=["fr"])
    enrolment = enrol(own, make_round(own), person, *JOSE)
    encoding = bytes(enrolment.encoding or b"")
    assert encoding
    page = focal.post(REQUESTS, {"code": person.short_code}).content.decode()
    assert _enrolment_line("fr", enrolment) in page
    for form in (encoding.hex(), base64.b64encode(encoding).decode(), encoding.hex()[:16]):
        assert form not in page
    for name in ("José", "García", "1990-05-17", "17/05/1990"):
        assert name not in page
    assert set(HeldEnrolment.__dataclass_fields__) == {
        "round_name", "starts_on", "ends_on", "service_point", "enrolled_at", "status"
    }  # fmt: skip


def test_a_closed_rounds_enrolment_keeps_its_status_in_the_report(
    focal: Client, own: Society
) -> None:
    person = register(own, languages=["ht"])
    cash_round = make_round(own)
    enrolment = enrol(own, cash_round, person, *JOSE)
    actions.mark_paid(own.actor(), enrolment)
    actions.close_round(own.actor("coordinator"), cash_round)
    page = focal.post(REQUESTS, {"code": person.short_code}).content.decode()
    assert _enrolment_line("ht", enrolment) in page
    assert person_texts.text("cash_status_paid", "ht") in page


def test_a_person_without_enrolments_sees_that_nothing_is_recorded(
    focal: Client, own: Society
) -> None:
    person = register(own, languages=["es"])
    page = _report(focal, person)
    section = page.split(person_texts.text("held_cash", "es"), 1)[1].split("</ul>", 1)[0]
    assert person_texts.text("nothing", "es") in section
    assert person_texts.text("held_cash_coded", "es") not in page


@pytest.mark.parametrize("status", EnrolmentStatus.values)
def test_every_enrolment_status_has_words_for_the_person(status: str) -> None:
    assert f"cash_status_{PERSON_STATUS[status]}" in person_texts.TEXTS
