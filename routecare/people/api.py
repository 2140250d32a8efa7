"""People, encounters, health summaries, follow-ups and consents over the API."""

import datetime as dt
import uuid
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext
from ninja import Field, Router, Schema
from ninja.responses import Status
from pydantic import AwareDatetime

from routecare.access import Actor, Rule, api_rule
from routecare.core import fields
from routecare.core.api_errors import ErrorOut
from routecare.core.fields import InputSchema
from routecare.orgs.taxonomy import AgeBand, Service, Sex, TriageColour, Urgency
from routecare.people import actions, selectors
from routecare.people.health import HealthSummaryIn
from routecare.people.models import (
    Consent,
    ConsentPurpose,
    Encounter,
    FollowUp,
    HealthSummary,
    Person,
    PopulationGroup,
    TravelGroup,
    Vulnerability,
)

router = Router(tags=["people"])


def _actor(request: HttpRequest) -> Actor:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    return actor


LanguageCode = Annotated[str, fields.LANGUAGE]


class PersonIn(InputSchema):
    sex: Sex
    birth_year: int | None = Field(None, ge=1900, le=2100)
    age_band: AgeBand | None = None
    nationality: str = Field("", pattern=r"^([A-Za-z]{2})?$")
    languages: list[LanguageCode] = Field(default_factory=list, max_length=10)
    # Never assumed: a family or an unaccompanied minor recorded as "alone" by default is lost.
    travel_group: TravelGroup
    population_group: PopulationGroup = PopulationGroup.ON_THE_MOVE
    alias: Annotated[str, fields.ALIAS] = ""
    vulnerabilities: list[Vulnerability] = Field(default_factory=list)
    household_of: str | None = None
    # What the person agreed to, said by the caller: a consent is never recorded by default.
    consents: list[ConsentPurpose]
    consent_language: LanguageCode = "en"


class PersonOut(Schema):
    id: uuid.UUID
    short_code: str
    alias: str | None
    sex: str
    birth_year: int | None
    age_band: str
    nationality: str
    languages: list[str]
    travel_group: str
    population_group: str
    household_id: uuid.UUID | None
    vulnerabilities: list[str]
    registered_at_point: str
    created_at: dt.datetime

    @staticmethod
    def resolve_registered_at_point(person: Person) -> str:
        # Selectors annotate the code (people.selectors._people); a new person has its point.
        code = getattr(person, "registered_at_point_code", None)
        return str(code) if code is not None else person.registered_at_point.code


class LookupIn(InputSchema):
    code: str = Field(..., min_length=1, max_length=30)


class PersonBrief(Schema):
    """Enough to tell near matches apart, nothing more: they have not been opened yet."""

    id: uuid.UUID
    short_code: str
    sex: str
    age_band: str


class LookupOut(Schema):
    person: PersonOut | None
    suggestions: list[PersonBrief]


class ServiceQuantity(InputSchema):
    service: Service
    quantity: int = Field(1, ge=1, le=10000)


class FollowUpIn(InputSchema):
    text: Annotated[str, fields.FOLLOW_UP_TEXT]
    due: dt.date | None = None
    urgency: Urgency = Urgency.ROUTINE


class EncounterIn(InputSchema):
    services: list[ServiceQuantity] = Field(..., min_length=1, max_length=30)
    triage: TriageColour | None = None
    notes: Annotated[str, fields.ENCOUNTER_NOTES] = ""
    occurred_at: AwareDatetime | None = None
    follow_up: FollowUpIn | None = None
    corrects: str | None = None


class EncounterOut(Schema):
    id: uuid.UUID
    service_point: str
    occurred_at: dt.datetime
    services: list[ServiceQuantity]
    triage: str
    notes: str | None
    corrects_id: uuid.UUID | None
    # A withdrawal of the encounter it corrects, not a visit (see people.actions.void_encounter).
    voids: bool

    @staticmethod
    def resolve_service_point(encounter: Encounter) -> str:
        return encounter.service_point.code

    @staticmethod
    def resolve_services(encounter: Encounter) -> list[dict[str, Any]]:
        return [{"service": s.service, "quantity": s.quantity} for s in encounter.service_lines()]


class HealthSummaryOut(Schema):
    allergies: list[str]
    conditions: list[str]
    medicines: list[dict[str, Any]]
    pregnancy: dict[str, Any] | None
    child_growth: list[dict[str, Any]]
    vaccinations: list[dict[str, Any]]
    updated_at: dt.datetime


class FollowUpOut(Schema):
    id: uuid.UUID
    text: str
    due: dt.date | None
    urgency: str
    created_at: dt.datetime
    created_at_point: str
    done_at: dt.datetime | None

    @staticmethod
    def resolve_created_at_point(follow_up: FollowUp) -> str:
        return follow_up.created_at_point.code


class ConsentIn(InputSchema):
    purpose: ConsentPurpose
    language: LanguageCode


class ConsentOut(Schema):
    id: uuid.UUID
    purpose: str
    wording_version: str
    language: str
    recorded_at: dt.datetime
    withdrawn_at: dt.datetime | None
    # The card of another society this consent was confirmed from, again, with the person.
    confirmed_from_card: str


class Withdrawn(Schema):
    withdrawn: int


# 404: a household_of that names no person of the caller's society.
@router.post("", response={201: PersonOut, 404: ErrorOut}, summary="Register a person")
@api_rule(Rule.PERSONAL_RECORDS)
def register_person(request: HttpRequest, payload: PersonIn) -> Status[Person]:
    actor = _actor(request)
    household_of = (
        selectors.get_person(actor, payload.household_of) if payload.household_of else None
    )
    person = actions.register_person(
        actor,
        sex=payload.sex,
        birth_year=payload.birth_year,
        age_band=payload.age_band or "",
        nationality=payload.nationality,
        languages=payload.languages,
        travel_group=payload.travel_group,
        population_group=payload.population_group,
        alias=payload.alias,
        vulnerabilities=payload.vulnerabilities,
        household_of=household_of,
        consents=payload.consents,
        consent_language=payload.consent_language,
    )
    return Status(201, person)


@router.post(
    "/lookup", response={200: LookupOut, 404: ErrorOut}, summary="Find a person by short code"
)
@api_rule(Rule.PERSONAL_RECORDS)
def lookup(request: HttpRequest, payload: LookupIn) -> dict[str, Any]:
    """Typo-tolerant: a code failing its check character returns near matches instead."""
    result = selectors.find_by_short_code(_actor(request), payload.code)
    if result.person is None and not result.suggestions:
        raise Http404
    return {"person": result.person, "suggestions": result.suggestions}


@router.get("/{person_id}", response=PersonOut, summary="Read a person")
@api_rule(Rule.PERSONAL_RECORDS)
def read_person(request: HttpRequest, person_id: str) -> Person:
    return selectors.get_person(_actor(request), person_id)


@router.get("/{person_id}/health-summary", response=HealthSummaryOut)
@api_rule(Rule.PERSONAL_RECORDS)
def read_health_summary(request: HttpRequest, person_id: str) -> HealthSummary:
    actor = _actor(request)
    return selectors.get_health_summary(actor, selectors.person_for_change(actor, person_id))


@router.patch("/{person_id}/health-summary", response=HealthSummaryOut)
@api_rule(Rule.PERSONAL_RECORDS)
def update_health_summary(
    request: HttpRequest, person_id: str, payload: HealthSummaryIn
) -> HealthSummary:
    actor = _actor(request)
    person = selectors.person_for_change(actor, person_id)
    changes = payload.model_dump(mode="json", exclude_unset=True)
    # Null clears a pregnancy; the lists are emptied with [] (their columns hold no null).
    emptied = [name for name, value in changes.items() if value is None and name != "pregnancy"]
    if emptied:
        message = gettext("Leave a field out to keep it; it cannot be emptied with null.")
        raise ValidationError(dict.fromkeys(emptied, message))
    actions.update_health_summary(actor, person, **changes)
    return selectors.get_health_summary(actor, person)


@router.get("/{person_id}/encounters", response=list[EncounterOut])
@api_rule(Rule.PERSONAL_RECORDS)
def list_encounters(request: HttpRequest, person_id: str) -> list[Encounter]:
    actor = _actor(request)
    return selectors.encounters_of(actor, selectors.person_for_change(actor, person_id))


@router.post("/{person_id}/encounters", response={201: EncounterOut})
@api_rule(Rule.PERSONAL_RECORDS)
def record_encounter(
    request: HttpRequest, person_id: str, payload: EncounterIn
) -> Status[Encounter]:
    actor = _actor(request)
    person = selectors.person_to_record(actor, person_id)
    corrects = selectors.encounter_of(actor, person, payload.corrects) if payload.corrects else None
    follow_up = payload.follow_up
    encounter = actions.record_encounter(
        actor,
        person,
        services=[(item.service, item.quantity) for item in payload.services],
        triage=payload.triage or "",
        notes=payload.notes,
        occurred_at=payload.occurred_at,
        corrects=corrects,
        follow_up=(
            actions.FollowUpInput(follow_up.text, follow_up.due, follow_up.urgency)
            if follow_up
            else None
        ),
    )
    return Status(201, encounter)


@router.get("/{person_id}/follow-ups", response=list[FollowUpOut])
@api_rule(Rule.PERSONAL_RECORDS)
def list_follow_ups(request: HttpRequest, person_id: str) -> list[FollowUp]:
    actor = _actor(request)
    return selectors.follow_ups_of(actor, selectors.person_for_change(actor, person_id))


@router.post("/{person_id}/follow-ups", response={201: FollowUpOut})
@api_rule(Rule.PERSONAL_RECORDS)
def add_follow_up(request: HttpRequest, person_id: str, payload: FollowUpIn) -> Status[FollowUp]:
    actor = _actor(request)
    person = selectors.person_for_change(actor, person_id)
    follow_up = actions.add_follow_up(
        actor, person, actions.FollowUpInput(payload.text, payload.due, payload.urgency)
    )
    return Status(201, follow_up)


@router.post("/{person_id}/follow-ups/{follow_up_id}/complete", response=FollowUpOut)
@api_rule(Rule.PERSONAL_RECORDS)
def complete_follow_up(request: HttpRequest, person_id: str, follow_up_id: str) -> FollowUp:
    actor = _actor(request)
    person = selectors.person_for_change(actor, person_id)
    follow_up = selectors.follow_up_for_change(actor, follow_up_id)
    if follow_up.person_id != person.pk:
        raise Http404
    return actions.complete_follow_up(actor, follow_up)


@router.get("/{person_id}/consents", response=list[ConsentOut])
@api_rule(Rule.PERSONAL_RECORDS)
def list_consents(request: HttpRequest, person_id: str) -> list[Consent]:
    actor = _actor(request)
    return selectors.consents_of(actor, selectors.get_person(actor, person_id))


@router.post("/{person_id}/consents", response={201: ConsentOut})
@api_rule(Rule.PERSONAL_RECORDS)
def give_consent(request: HttpRequest, person_id: str, payload: ConsentIn) -> Status[Consent]:
    actor = _actor(request)
    person = selectors.person_for_change(actor, person_id)
    return Status(201, actions.give_consent(actor, person, payload.purpose, payload.language))


@router.post("/{person_id}/consents/{purpose}/withdraw", response=Withdrawn)
@api_rule(Rule.PERSONAL_RECORDS)
def withdraw_consent(request: HttpRequest, person_id: str, purpose: ConsentPurpose) -> Withdrawn:
    actor = _actor(request)
    person = selectors.person_for_change(actor, person_id)
    return Withdrawn(withdrawn=actions.withdraw_consent(actor, person, purpose))
