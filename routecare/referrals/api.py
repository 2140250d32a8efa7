"""Referrals over the API: send, inbox and outbox, read, answer."""

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext
from ninja import Field, Router, Schema
from ninja.responses import Status

from routecare.access import Actor, Rule, api_rule
from routecare.core.fields import (
    PARTNER_NAME,
    REFERRAL_EXPLANATION,
    REFERRAL_NOTE,
    REFERRAL_REASON,
    InputSchema,
)
from routecare.orgs.models import NationalSociety, ServicePoint
from routecare.orgs.taxonomy import Service, Urgency
from routecare.people import selectors as people_selectors
from routecare.referrals import actions, selectors
from routecare.referrals.actions import SHAREABLE_FIELDS, Destination
from routecare.referrals.metrics import referral_metrics
from routecare.referrals.models import Referral, ReferralType

router = Router(tags=["referrals"])


def _actor(request: HttpRequest) -> Actor:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    return actor


SharedField = Literal[SHAREABLE_FIELDS]  # type: ignore[valid-type]


class ReferralIn(InputSchema):
    to_point_id: uuid.UUID | None = None
    to_society_id: uuid.UUID | None = None
    partner_name: Annotated[str, PARTNER_NAME] = ""
    type: ReferralType
    service: Service
    reason: Annotated[str, REFERRAL_REASON]
    urgency: Urgency = Urgency.ROUTINE
    due: dt.date | None = None
    fields: list[SharedField] = Field(default_factory=list, max_length=len(SHAREABLE_FIELDS))
    override_reason: Annotated[str, REFERRAL_EXPLANATION] = ""
    service_warning_reason: Annotated[str, REFERRAL_EXPLANATION] = ""
    idempotency_key: str = Field(..., min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


class ResponseOut(Schema):
    at: dt.datetime
    status: str
    by_society: str | None
    note: str | None

    @staticmethod
    def resolve_by_society(response: Any) -> str | None:
        return response.by_society.country_code if response.by_society_id else None


class ReferralOut(Schema):
    id: uuid.UUID
    short_code: str
    type: str
    service: str
    reason: str
    urgency: str
    due: dt.date | None
    status: str
    from_point: str
    to_point: str | None
    to_society: str | None
    partner_name: str
    consent_basis: str
    shared: dict[str, Any]
    created_at: dt.datetime
    responses: list[ResponseOut]

    @staticmethod
    def resolve_from_point(referral: Referral) -> str:
        return referral.from_point.code

    @staticmethod
    def resolve_to_point(referral: Referral) -> str | None:
        return referral.to_point.code if referral.to_point is not None else None

    @staticmethod
    def resolve_to_society(referral: Referral) -> str | None:
        return referral.to_society.country_code if referral.to_society is not None else None

    @staticmethod
    def resolve_reason(referral: Referral) -> str:
        return str(referral.reason)

    @staticmethod
    def resolve_responses(referral: Referral) -> list[Any]:
        return list(referral.responses.select_related("by_society"))


class RespondIn(InputSchema):
    action: Literal["accept", "decline", "complete", "withdraw"]
    note: Annotated[str, REFERRAL_NOTE] = ""


def _destination(body: ReferralIn) -> Destination:
    chosen = [bool(body.to_point_id), bool(body.to_society_id), bool(body.partner_name.strip())]
    if sum(chosen) != 1:
        raise ValidationError(
            {
                "destination": gettext(
                    "Give exactly one of to_point_id, to_society_id, partner_name."
                )
            }
        )
    if body.to_point_id:
        point = (
            ServicePoint.objects.select_related("national_society")
            .filter(pk=body.to_point_id)
            .first()
        )
        if point is None:
            raise ValidationError({"to_point_id": gettext("No such service point.")})
        return Destination(point=point)
    if body.to_society_id:
        society = NationalSociety.objects.filter(pk=body.to_society_id).first()
        if society is None:
            raise ValidationError({"to_society_id": gettext("No such National Society.")})
        return Destination(society=society)
    return Destination(partner_name=body.partner_name)


@router.post("/people/{person_id}/referrals", response={201: ReferralOut})
@api_rule(Rule.PERSONAL_RECORDS)
def send_referral(request: HttpRequest, person_id: str, body: ReferralIn) -> Status[Referral]:
    """Refer the person, sharing only the chosen fields their consent allows. The same
    ``idempotency_key`` twice gives the same referral, once."""
    actor = _actor(request)
    person = people_selectors.get_person(actor, person_id)
    referral = actions.send_referral(
        actor,
        person,
        destination=_destination(body),
        referral_type=body.type.value,
        service=body.service.value,
        reason=body.reason,
        urgency=body.urgency.value,
        due=body.due,
        fields=list(body.fields),
        override_reason=body.override_reason,
        service_warning_reason=body.service_warning_reason,
        idempotency_key=body.idempotency_key,
    )
    return Status(201, referral)


@router.get("/referrals/inbox", response=list[ReferralOut])
@api_rule(Rule.PERSONAL_RECORDS)
def inbox(request: HttpRequest) -> list[Referral]:
    """Referrals to the caller's society, open and urgent first."""
    return selectors.inbox(_actor(request))


@router.get("/referrals/outbox", response=list[ReferralOut])
@api_rule(Rule.PERSONAL_RECORDS)
def outbox(request: HttpRequest) -> list[Referral]:
    return selectors.outbox(_actor(request))


class MetricsOut(Schema):
    since: str
    sent: int
    received: int
    by_status: dict[str, int]
    median_hours_to_accept: float | None
    by_segment: dict[str, int]


@router.get("/referrals/metrics", response=MetricsOut)
@api_rule(Rule.PERSONAL_RECORDS)
def metrics(request: HttpRequest, days: int = 30) -> dict[str, Any]:
    """Referral figures of the caller's society over the last ``days`` (1 to 366)."""
    since = timezone.now() - dt.timedelta(days=min(max(days, 1), 366))
    return referral_metrics(_actor(request), since)


@router.get("/referrals/{referral_id}", response=ReferralOut)
@api_rule(Rule.PERSONAL_RECORDS)
def referral(request: HttpRequest, referral_id: str) -> Referral:
    return selectors.get_referral(_actor(request), referral_id)


@router.post("/referrals/{referral_id}/respond", response=ReferralOut)
@api_rule(Rule.PERSONAL_RECORDS)
def respond(request: HttpRequest, referral_id: str, body: RespondIn) -> Referral:
    """Accept, decline (with a reason), complete (with the outcome), or withdraw (sender)."""
    actor = _actor(request)
    found = selectors.get_referral(actor, referral_id)
    return actions.respond(actor, found, body.action, body.note)
