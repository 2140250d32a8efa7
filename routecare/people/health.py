"""What a health summary may hold: one definition for the API's body, the staff form's
changes, a card's summary started as a record, and imports (``check_changes``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import pydantic
from django.core.exceptions import ValidationError
from ninja import Field

from routecare.core import fields
from routecare.core.api_errors import schema_message
from routecare.core.fields import InputSchema


class Medicine(InputSchema):
    name: Annotated[str, fields.MEDICINE_NAME]
    dose: Annotated[str, fields.MEDICINE_DOSE] = ""
    quantity: int | None = Field(None, ge=0, le=10000)
    days_supply: int | None = Field(None, ge=0, le=fields.MAX_DAYS_SUPPLY)
    dispensed_on: Annotated[dt.date, fields.DISPENSED_ON] | None = None


class Pregnancy(InputSchema):
    weeks: int | None = Field(None, ge=1, le=45)
    expected_date: Annotated[dt.date, fields.EXPECTED_DELIVERY] | None = None


class GrowthMeasurement(InputSchema):
    measured_on: Annotated[dt.date, fields.GROWTH_MEASURED]
    weight_kg: float | None = Field(None, ge=0, le=200)
    height_cm: float | None = Field(None, ge=0, le=250)
    muac_mm: float | None = Field(None, ge=50, le=400)


class Vaccination(InputSchema):
    vaccine: Annotated[str, fields.VACCINE]
    given_on: Annotated[dt.date, fields.VACCINATION_GIVEN]


class HealthSummaryIn(InputSchema):
    """Fields left out are not changed; a field given replaces the stored value (null only
    for the pregnancy, to clear it: a list is emptied with []). Dates are checked around the
    time of the change."""

    allergies: list[Annotated[str, fields.ALLERGY]] | None = Field(
        None, max_length=fields.ALLERGIES.max_items
    )
    conditions: list[Annotated[str, fields.CONDITION]] | None = Field(
        None, max_length=fields.CONDITIONS.max_items
    )
    medicines: list[Medicine] | None = Field(None, max_length=20)
    pregnancy: Pregnancy | None = None
    child_growth: list[GrowthMeasurement] | None = Field(None, max_length=100)
    vaccinations: list[Vaccination] | None = Field(None, max_length=100)


def _field_name(location: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in location)


def check_changes(changes: dict[str, Any], reference: dt.datetime) -> None:
    """A ValidationError naming each field (``allergies.2``, ``pregnancy.expected_date``)
    that breaks its definition, dates checked around ``reference``; None if all hold."""
    try:
        HealthSummaryIn.model_validate(changes, context={"reference": reference})
    except pydantic.ValidationError as error:
        problems: dict[str, list[str]] = {}
        for item in error.errors(include_url=False):
            name = _field_name(item["loc"]) or "__all__"
            problems.setdefault(name, []).append(schema_message(dict(item)))
        raise ValidationError(problems) from None
