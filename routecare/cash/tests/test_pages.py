"""The cash pages and API: who may do what, what a society sees of another's enrolment (a
date, a point and a score), and that no name or date of birth is kept anywhere."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable

import pytest
from django.core.management import call_command
from django.test import Client

from routecare.audit.models import AuditEvent
from routecare.cash.models import CashEnrolment, CashRound, EnrolmentStatus
from routecare.cash.tests.conftest import TODAY, enrol, make_round
from routecare.conftest import Society, register

FORM = {
    "given_names": "José Luis",
    "surnames": "García López",
    "birth_date": "1990-05-17",
    "sex": "male",
}
TYPED = {**FORM, "given_names": "Jose Luis", "surnames": "Garcia Lopes"}
# What must never be kept: the names as typed and folded, and the date as written.
SECRETS = ["José", "Jose", "García", "Garcia", "López", "Lopes", "1990-05-17", "17/05/1990"]


def test_a_coordinator_creates_a_round_with_a_society_of_the_network(
    own: Society, other: Society, web: Callable[..., Client]
) -> None:
    answer = web(own.coordinator, own.point).post(
        "/cash/new/",
        {
            "name": "Transport to Tapachula", "starts_on": TODAY.isoformat(),
            "ends_on": TODAY.isoformat(), "amount": "40", "currency": "usd",
            "participants": [str(other.society.pk)],
        },
    )  # fmt: skip
    cash_round = CashRound.objects.get()
    assert answer.status_code == 302
    assert answer["Location"] == f"/cash/{cash_round.pk}/"
    assert cash_round.currency == "USD"
    assert set(cash_round.participants.all()) == {own.society, other.society}
    page = web(own.coordinator, own.point).get(answer["Location"]).content.decode()
    assert "Transport to Tapachula" in page
    assert cash_round.key is not None
    assert cash_round.key not in page


def test_volunteers_do_not_create_rounds_and_coordinators_no_network_round(
    own: Society, other: Society, web: Callable[..., Client]
) -> None:
    assert web(own.volunteer, own.point).get("/cash/new/").status_code == 403
    answer = web(own.coordinator, own.point).post(
        "/cash/new/",
        {
            "name": "Network", "starts_on": TODAY.isoformat(), "ends_on": TODAY.isoformat(),
            "amount": "40", "currency": "USD", "network_wide": "on",
            "participants": [str(own.society.pk), str(other.society.pk)],
        },
    )  # fmt: skip
    assert answer.status_code == 403
    assert not CashRound.objects.exists()


def test_a_society_not_taking_part_does_not_see_the_round(
    own: Society, other: Society, web: Callable[..., Client]
) -> None:
    cash_round = make_round(own, name="Own society's round")
    client = web(other.volunteer, other.point)
    assert "Own society&#x27;s round" not in client.get("/cash/").content.decode()
    assert client.get(f"/cash/{cash_round.pk}/").status_code == 404
    assert client.post(f"/cash/{cash_round.pk}/enrol/", FORM).status_code == 404
    assert not CashEnrolment.objects.exists()


def test_a_second_society_sees_the_verdict_a_date_and_a_point_but_nothing_of_the_person(
    own: Society, other: Society, web: Callable[..., Client]
) -> None:
    cash_round = make_round(own, other)
    first_person, second_person = register(own), register(other)
    enrol(own, cash_round, first_person, *list(FORM.values())[:3])
    first = CashEnrolment.objects.get()
    client = web(other.volunteer, other.point)
    answer = client.post(
        f"/cash/{cash_round.pk}/enrol/", {**TYPED, "code": second_person.short_code}
    )
    assert answer.status_code == 302
    second = CashEnrolment.objects.get(person=second_person)
    assert second.status == EnrolmentStatus.BLOCKED
    page = client.get(answer["Location"]).content.decode()
    assert "Probable duplicate: blocked until a focal point reviews." in page
    assert own.point.name in page
    assert first.enrolled_at.date().isoformat() in page
    for secret in (first_person.short_code, str(first_person.pk), str(first.pk)):
        assert secret not in page
    review = web(other.focal_point, other.point).get(f"/cash/enrolments/{second.pk}/review/")
    assert review.status_code == 200
    for secret in (first_person.short_code, str(first_person.pk), str(first.pk)):
        assert secret not in review.content.decode()
    round_page = client.get(f"/cash/{cash_round.pk}/").content.decode()
    assert second_person.short_code in round_page
    assert first_person.short_code not in round_page
    # The first society's own pages never show the second's enrolment either.
    mine = web(own.volunteer, own.point).get(f"/cash/{cash_round.pk}/").content.decode()
    assert second_person.short_code not in mine
    assert web(own.volunteer, own.point).get(f"/cash/enrolments/{second.pk}/").status_code == 404


def test_paying_a_blocked_enrolment_is_refused_with_its_reason(
    own: Society, other: Society, web: Callable[..., Client]
) -> None:
    cash_round = make_round(own, other)
    enrol(own, cash_round, register(own), *list(FORM.values())[:3])
    second = enrol(other, cash_round, register(other), *list(TYPED.values())[:3])
    client = web(other.volunteer, other.point)
    answer = client.post(f"/cash/enrolments/{second.pk}/pay/", follow=True)
    assert "Probable duplicate: blocked until a focal point reviews." in answer.content.decode()
    second.refresh_from_db()
    assert second.status == EnrolmentStatus.BLOCKED


def test_only_focal_points_of_the_enrolling_society_review(
    own: Society, other: Society, web: Callable[..., Client]
) -> None:
    cash_round = make_round(own, other)
    enrol(own, cash_round, register(own), *list(FORM.values())[:3])
    second = enrol(other, cash_round, register(other), *list(TYPED.values())[:3])
    url = f"/cash/enrolments/{second.pk}/review/"
    assert web(other.volunteer, other.point).get(url).status_code == 403
    assert web(other.coordinator, other.point).get(url).status_code == 403
    assert web(own.focal_point, own.point).post(url, {"decision": "duplicate"}).status_code == 404
    answer = web(other.focal_point, other.point).post(url, {"decision": "duplicate"})
    assert answer.status_code == 302
    second.refresh_from_db()
    assert second.status == EnrolmentStatus.DUPLICATE


def test_a_person_page_leads_to_their_open_rounds(
    own: Society, other: Society, web: Callable[..., Client]
) -> None:
    cash_round = make_round(own, other, name="Open round")
    person = register(own)
    client = web(own.volunteer, own.point)
    assert f"/cash/people/{person.pk}/" in client.get(f"/people/{person.pk}/").content.decode()
    page = client.get(f"/cash/people/{person.pk}/").content.decode()
    assert f"/cash/{cash_round.pk}/people/{person.pk}/enrol/" in page
    form = client.get(f"/cash/{cash_round.pk}/people/{person.pk}/enrol/").content.decode()
    assert 'autocomplete="off"' in form
    assert 'name="code"' not in form
    answer = client.post(f"/cash/{cash_round.pk}/people/{person.pk}/enrol/", FORM)
    assert answer.status_code == 302
    assert "José" not in answer["Location"]
    assert CashEnrolment.objects.get().person == person


def test_the_api_enrols_and_checks_and_tells_only_a_date_and_a_point_of_the_other(
    own: Society, other: Society, api: Callable[..., Client]
) -> None:
    cash_round = make_round(own, other)
    first_person = register(own)
    enrol(own, cash_round, first_person, *list(FORM.values())[:3])
    second_person = register(other)
    client = api(other.volunteer, other.point)
    assert [r["id"] for r in client.get("/api/v1/cash/rounds").json()] == [str(cash_round.pk)]
    answer = client.post(
        f"/api/v1/cash/rounds/{cash_round.pk}/enrolments",
        {**TYPED, "short_code": second_person.short_code},
        content_type="application/json",
    )
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["verdict"] == "probable-duplicate"
    assert body["status"] == "blocked"
    assert body["payable"] is False
    assert body["other"] == {
        "enrolled_on": TODAY.isoformat(),
        "service_point": own.point.name,
    }
    for secret in (first_person.short_code, str(first_person.pk), "García", "1990"):
        assert secret not in answer.content.decode()
    check = client.post(f"/api/v1/cash/enrolments/{body['id']}/check")
    assert check.status_code == 200
    assert check.json()["status"] == "blocked"
    assert (
        api(own.volunteer, own.point)
        .post(f"/api/v1/cash/enrolments/{body['id']}/check")
        .status_code
        == 404
    )


def test_no_name_or_date_of_birth_is_kept_logged_or_audited(
    own: Society, other: Society, web: Callable[..., Client], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    cash_round = make_round(own, other)
    first, second = register(own), register(other)
    web(own.volunteer, own.point).post(f"/cash/{cash_round.pk}/people/{first.pk}/enrol/", FORM)
    web(other.volunteer, other.point).post(
        f"/cash/{cash_round.pk}/enrol/", {**TYPED, "code": second.short_code}
    )
    # A refused one too: its error must not repeat what was typed.
    web(other.volunteer, other.point).post(
        f"/cash/{cash_round.pk}/enrol/", {**TYPED, "code": second.short_code, "sex": "x"}
    )
    assert CashEnrolment.objects.count() == 2
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    audit = " ".join(
        f"{event.detail} {event.fields} {event.object_id}" for event in AuditEvent.objects.all()
    )
    for secret in SECRETS:
        assert secret not in dump.getvalue(), secret
        assert secret not in audit, secret
        assert secret not in caplog.text, secret
