"""Bad input to an enrolment, by the action, the staff form and the API: a clear error and
nothing stored."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from routecare.cash import actions
from routecare.cash.models import CashEnrolment, CashRound
from routecare.cash.tests.conftest import TODAY, enrol, make_round
from routecare.conftest import Society, register

GOOD = {"given_names": "José Luis", "surnames": "García López", "birth_date": "1990-05-17"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"given_names": ""}, "Write something here."),
        ({"surnames": "   "}, "Write something here."),
        ({"given_names": "J"}, "Write at least two letters."),
        ({"surnames": "G."}, "Write at least two letters."),
        ({"surnames": "Gar\x00cía"}, "Remove the control characters"),
        ({"birth_date": (TODAY + dt.timedelta(days=2)).isoformat()}, "cannot be in the future"),
        ({"birth_date": "1899-12-31"}, "from 1900 on"),
        ({"given_names": "de la", "surnames": "de los"}, "cannot be encoded"),
        ({"given_names": "محمد", "surnames": "حسين"}, "cannot be encoded"),
    ],
)
def test_the_action_refuses_bad_names_and_dates_and_stores_nothing(
    own: Society, shared_round: CashRound, changes: dict[str, str], message: str
) -> None:
    values = {**GOOD, **changes}
    with pytest.raises(ValidationError, match=message) as refused:
        enrol(own, shared_round, register(own), **values)
    for value in values.values():
        if len(value.strip()) > 2:
            assert value not in str(refused.value)
    assert not CashEnrolment.objects.exists()


@pytest.mark.parametrize(
    ("starts", "ends", "message"),
    [(-30, -1, "has ended"), (1, 30, "has not started")],
)
def test_a_round_outside_its_period_refuses_enrolments(
    own: Society, starts: int, ends: int, message: str
) -> None:
    cash_round = make_round(
        own,
        starts_on=TODAY + dt.timedelta(days=starts),
        ends_on=TODAY + dt.timedelta(days=ends),
    )
    with pytest.raises(ValidationError, match=message):
        enrol(own, cash_round, register(own), **GOOD)
    assert not CashEnrolment.objects.exists()


def test_a_society_not_taking_part_cannot_enrol(own: Society, other: Society) -> None:
    cash_round = make_round(own)
    with pytest.raises(ValidationError, match="does not take part"):
        enrol(other, cash_round, register(other), **GOOD)
    assert not CashEnrolment.objects.exists()


def test_a_person_of_another_society_cannot_be_enrolled(
    own: Society, other: Society, shared_round: CashRound
) -> None:
    with pytest.raises(PermissionError):
        enrol(own, shared_round, register(other), **GOOD)
    assert not CashEnrolment.objects.exists()


def test_a_person_is_enrolled_once_per_round(own: Society, shared_round: CashRound) -> None:
    person = register(own)
    enrol(own, shared_round, person, **GOOD)
    with pytest.raises(ValidationError, match="already enrolled"):
        enrol(own, shared_round, person, "Carlos", "Martínez", "1970-01-02")
    assert CashEnrolment.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"ends_on": TODAY - dt.timedelta(days=10)}, "ends_on"),
        ({"currency": "XYZ"}, "currency"),
        ({"amount": 0}, "amount"),
    ],
)
def test_a_bad_round_is_refused(own: Society, changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        make_round(own, **changes)
    assert field in refused.value.message_dict
    assert not CashRound.objects.exists()


def test_a_round_with_a_society_of_another_network_is_refused(
    own: Society, outsider: Society
) -> None:
    with pytest.raises(ValidationError, match="your network"):
        make_round(own, outsider)
    assert not CashRound.objects.exists()


def _post(client: Client, url: str, **changes: str) -> Any:
    return client.post(url, {**GOOD, "sex": "male", **changes})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"given_names": "J"}, "Write at least two letters."),
        ({"birth_date": "1990-02-30"}, "Enter a valid date."),
        ({"birth_date": "3000-01-01"}, "cannot be in the future"),
        ({"sex": "unknown"}, "Select a valid choice."),
        ({"code": "RC-XXXX-XXX"}, "No person of your National Society has this code."),
    ],
)
def test_the_staff_form_refuses_bad_input_on_the_field_and_stores_nothing(
    own: Society,
    shared_round: CashRound,
    web: Callable[..., Client],
    changes: dict[str, str],
    message: str,
) -> None:
    person = register(own)
    answer = _post(
        web(own.volunteer, own.point), f"/cash/{shared_round.pk}/enrol/",
        **{"code": person.short_code, **changes},
    )  # fmt: skip
    assert answer.status_code == 200
    assert message in answer.content.decode()
    assert not CashEnrolment.objects.exists()


def test_the_staff_form_refuses_an_ended_round(own: Society, web: Callable[..., Client]) -> None:
    cash_round = make_round(
        own, starts_on=TODAY - dt.timedelta(days=9), ends_on=TODAY - dt.timedelta(days=1)
    )
    person = register(own)
    answer = _post(
        web(own.volunteer, own.point),
        f"/cash/{cash_round.pk}/people/{person.pk}/enrol/",
    )
    assert answer.status_code == 200
    assert "This round has ended." in answer.content.decode()
    assert not CashEnrolment.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {**GOOD, "sex": "male"},  # neither person_id nor short_code
        {**GOOD, "sex": "male", "person_id": "{person}", "given_names": "J"},
        {**GOOD, "sex": "male", "person_id": "{person}", "birth_date": "1990-13-40"},
        {**GOOD, "sex": "male", "person_id": "{person}", "surnames": 7},
        {**GOOD, "sex": "robot", "person_id": "{person}"},
        ["not", "an", "object"],
    ],
)
def test_the_api_refuses_bad_bodies_with_422_and_stores_nothing(
    own: Society, shared_round: CashRound, api: Callable[..., Client], body: Any
) -> None:
    person = register(own)
    if isinstance(body, dict):
        body = {
            key: str(person.pk) if value == "{person}" else value for key, value in body.items()
        }
    answer = api(own.volunteer, own.point).post(
        f"/api/v1/cash/rounds/{shared_round.pk}/enrolments", body, content_type="application/json"
    )
    assert answer.status_code == 422, answer.content
    assert "detail" in answer.json()
    assert b"Garc" not in answer.content
    assert not CashEnrolment.objects.exists()


def test_the_api_answers_404_for_another_society_s_person_and_an_unknown_code(
    own: Society, other: Society, shared_round: CashRound, api: Callable[..., Client]
) -> None:
    client = api(own.volunteer, own.point)
    url = f"/api/v1/cash/rounds/{shared_round.pk}/enrolments"
    for who in ({"person_id": str(register(other).pk)}, {"short_code": "RC-XXXX-XXX"}):
        answer = client.post(url, {**GOOD, "sex": "male", **who}, content_type="application/json")
        assert answer.status_code == 404
    assert client.post(
        "/api/v1/cash/rounds/not-a-uuid/enrolments", {}, content_type="application/json"
    ).status_code in (404, 422)
    assert not CashEnrolment.objects.exists()


def test_too_many_checks_answer_429(
    own: Society,
    shared_round: CashRound,
    api: Callable[..., Client],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(actions, "CHECKS_PER_MINUTE", 1)
    enrolment = enrol(own, shared_round, register(own), **GOOD)
    answer = api(own.volunteer, own.point).post(f"/api/v1/cash/enrolments/{enrolment.pk}/check")
    assert answer.status_code == 429
    assert "Too many duplicate checks" in answer.json()["detail"]
