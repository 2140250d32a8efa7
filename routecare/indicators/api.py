"""Indicators over the API: the caller's dashboard (aggregates only, small cells suppressed
for regional staff) and trainings."""

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from routecare.access import Actor, NoServicePoint, Rule, api_rule
from routecare.core import fields
from routecare.core.fields import InputSchema
from routecare.indicators import actions, regional, selectors
from routecare.indicators.models import Training, TrainingTopic
from routecare.orgs.models import NationalSociety, Route, ServicePoint
from routecare.orgs.taxonomy import AgeBand, Sex
from routecare.people.models import PopulationGroup

router = Router(tags=["indicators"])


def _actor(request: HttpRequest) -> Actor:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    return actor


class FiltersIn(InputSchema):
    granularity: Literal["day", "week", "month"] = "month"
    start: dt.date | None = None
    end: dt.date | None = None
    country: str | None = Field(None, description="country code (regional staff)")
    route: str | None = Field(None, description="route slug")
    point: str | None = Field(None, description="service point code")
    sex: Sex | None = None
    age_band: AgeBand | None = None
    population_group: PopulationGroup | None = None


class FigureOut(Schema):
    code: str
    name: str
    definition: str
    hxl: str
    value: int | None = Field(
        ..., description="null when hidden (a small count, or a figure that would give one away)"
    )


class TableOut(Schema):
    name: str
    title: str
    columns: list[str]
    hxl: list[str]
    rows: list[tuple[str, list[str]]]


class DashboardOut(Schema):
    level: str
    suppressed_small_cells: bool
    start: dt.date
    end: dt.date
    figures: list[FigureOut]
    tables: list[TableOut]


def _filters(view: selectors.View, query: FiltersIn) -> selectors.Filters:
    def pick(items: list[Any], attribute: str, value: str | None) -> Any:
        if not value:
            return None
        found = next(
            (i for i in items if str(getattr(i, attribute)).lower() == value.lower()), None
        )
        if found is None:
            raise ValidationError({attribute: f"Unknown or not in your view: {value}"})
        return found

    society: NationalSociety | None = pick(view.societies, "country_code", query.country)
    route: Route | None = pick(view.routes, "slug", query.route)
    point: ServicePoint | None = pick(view.points, "code", query.point)
    if query.start and query.end and query.start > query.end:
        raise ValidationError({"end": "The end comes before the start."})
    filters = selectors.Filters(
        granularity=query.granularity, start=query.start, end=query.end, society=society,
        route=route, point=point, sex=query.sex or "", age_band=query.age_band or "",
        population_group=query.population_group or "",
    )  # fmt: skip
    if view.outsider:
        # Regional staff: the views protected together (indicators.regional).
        reason = regional.problem(filters, timezone.localdate())
        if reason is not None:
            raise ValidationError({"filters": str(reason)})
    return filters


@router.get("/indicators", response=DashboardOut)
@api_rule(Rule.DASHBOARDS)
def dashboard(request: HttpRequest, query: Query[FiltersIn]) -> dict[str, Any]:
    """The caller's dashboard: a coordinator's point, a focal point's society, a regional
    user's network (aggregates only; counts under 5 suppressed for regional staff)."""
    actor = _actor(request)
    view = selectors.view_for(actor)
    if view is None:
        raise NoServicePoint
    board = selectors.dashboard(view, _filters(view, query), timezone.localdate())
    return {
        "level": view.level,
        "suppressed_small_cells": view.outsider,
        "start": board.start,
        "end": board.end,
        "figures": [
            {
                "code": f.indicator.code,
                "name": str(f.indicator.name),
                "definition": str(f.indicator.definition),
                "hxl": f.indicator.hxl,
                "value": f.value,
            }
            for f in board.figures
        ],
        "tables": [
            {
                "name": t.name,
                "title": str(t.title),
                "columns": t.column_labels,
                "hxl": t.hxl,
                "rows": t.rows,
            }
            for t in board.tables.values()
        ],
    }


class TrainingIn(InputSchema):
    title: Annotated[str, fields.TRAINING_TITLE]
    topic: TrainingTopic
    day: dt.date
    attendance: list[tuple[Literal["staff", "volunteer"], Sex, int]] = Field(
        ..., description="[role, sex, people] lines", min_length=1, max_length=8
    )


class TrainingOut(Schema):
    id: uuid.UUID
    title: str
    topic: str
    day: dt.date
    attended: int


@router.get("/indicators/trainings", response=list[TrainingOut])
@api_rule(Rule.COORDINATION)
def list_trainings(request: HttpRequest) -> list[Training]:
    actor = _actor(request)
    return list(
        Training.objects.filter(national_society_id=actor.national_society_id).prefetch_related(
            "attendance"
        )[:200]
    )


@router.post("/indicators/trainings", response={201: TrainingOut})
@api_rule(Rule.COORDINATION)
def record_training(request: HttpRequest, body: TrainingIn) -> Status[Training]:
    attendance: dict[tuple[str, str], int] = {}
    for role, sex, people in body.attendance:
        attendance[(role, sex.value)] = attendance.get((role, sex.value), 0) + people
    training = actions.record_training(
        _actor(request), title=body.title, topic=body.topic.value, day=body.day,
        attendance=attendance,
    )  # fmt: skip
    return Status(201, training)
