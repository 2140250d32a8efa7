"""Cash rounds over the API: the rounds one takes part in, enrolling a person (which checks
them against the round) and checking an enrolment again before a payment.

The names and date of birth of an enrolment are read from the body, encoded and dropped:
no answer, error or log repeats them.
"""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext
from django.views.decorators.debug import sensitive_variables
from ninja import Field, Router, Schema
from ninja.responses import Status

from routecare.access import Actor, Rule, api_rule
from routecare.cash import actions, identity, selectors
from routecare.cash.models import CashEnrolment, CashRound, EnrolmentStatus
from routecare.core.api_errors import ErrorOut
from routecare.core.fields import InputSchema
from routecare.orgs.taxonomy import Sex
from routecare.people import selectors as people_selectors

router = Router(tags=["cash"])


def _actor(request: HttpRequest) -> Actor:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    return actor


class RoundOut(Schema):
    id: uuid.UUID
    name: str
    starts_on: dt.date
    ends_on: dt.date
    amount: Decimal
    currency: str
    network_wide: bool
    closed: bool

    @staticmethod
    def resolve_network_wide(cash_round: CashRound) -> bool:
        return cash_round.national_society_id is None

    @staticmethod
    def resolve_closed(cash_round: CashRound) -> bool:
        return cash_round.closed_at is not None


class EnrolIn(InputSchema):
    """The person by id or by short code; the names and date only to encode them."""

    person_id: uuid.UUID | None = None
    short_code: str | None = Field(None, min_length=1, max_length=40)
    given_names: Annotated[str, identity.GIVEN_NAMES]
    surnames: Annotated[str, identity.SURNAMES]
    birth_date: dt.date
    sex: Sex


class OtherEnrolmentOut(Schema):
    """All that is told of the enrolment a check found: when and at which point."""

    enrolled_on: dt.date
    service_point: str


class EnrolmentOut(Schema):
    id: uuid.UUID
    round_id: uuid.UUID
    person_id: uuid.UUID
    enrolled_at: dt.datetime
    service_point: str
    verdict: str
    similarity: float
    status: str
    payable: bool
    other: OtherEnrolmentOut | None

    @staticmethod
    def resolve_service_point(enrolment: CashEnrolment) -> str:
        return enrolment.service_point.code

    @staticmethod
    def resolve_payable(enrolment: CashEnrolment) -> bool:
        return enrolment.status == EnrolmentStatus.CLEARED

    @staticmethod
    def resolve_other(enrolment: CashEnrolment) -> OtherEnrolmentOut | None:
        flag = selectors.flag_of(enrolment)
        if flag.other_enrolled_on is None or flag.other_service_point is None:
            return None
        return OtherEnrolmentOut(
            enrolled_on=flag.other_enrolled_on, service_point=flag.other_service_point
        )


@router.get("/cash/rounds", response=list[RoundOut], summary="Cash rounds one takes part in")
@api_rule(Rule.PERSONAL_RECORDS)
def list_rounds(request: HttpRequest) -> list[CashRound]:
    return selectors.rounds_for(_actor(request))


def _too_many() -> Status[Any]:
    return Status(429, {"detail": str(actions.TooManyChecksError().messages[0])})


@router.post(
    "/cash/rounds/{round_id}/enrolments",
    response={201: EnrolmentOut, 404: ErrorOut, 429: ErrorOut},
    summary="Enrol a person in a round and check them for duplicates",
)
@api_rule(Rule.PERSONAL_RECORDS)
@sensitive_variables("payload")
def enrol(request: HttpRequest, round_id: str, payload: EnrolIn) -> Status[Any]:
    actor = _actor(request)
    cash_round = selectors.round_for(actor, round_id)
    if (payload.person_id is None) == (payload.short_code is None):
        raise ValidationError(gettext("Give either person_id or short_code."))
    if payload.person_id is not None:
        person = people_selectors.get_person(actor, payload.person_id)
    else:
        found = people_selectors.person_with_code(actor, payload.short_code or "", purpose="cash")
        if found is None:
            return Status(
                404, {"detail": gettext("No person of your National Society has this code.")}
            )
        person = found
    try:
        enrolment = actions.enrol_person(
            actor, cash_round, person, given_names=payload.given_names,
            surnames=payload.surnames, birth_date=payload.birth_date, sex=payload.sex,
        )  # fmt: skip
    except actions.TooManyChecksError:
        return _too_many()
    return Status(201, enrolment)


@router.post(
    "/cash/enrolments/{enrolment_id}/check",
    response={200: EnrolmentOut, 429: ErrorOut},
    summary="Check an enrolment against its round again, before a payment",
)
@api_rule(Rule.PERSONAL_RECORDS)
def check(request: HttpRequest, enrolment_id: str) -> Status[Any]:
    actor = _actor(request)
    enrolment = selectors.enrolment_for(actor, enrolment_id)
    try:
        return Status(200, actions.check_before_payment(actor, enrolment))
    except actions.TooManyChecksError:
        return _too_many()
