"""Daily counts and alerts over the API."""

import datetime as dt
import uuid
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema
from ninja.responses import Status

from routecare.access import Actor, Rule, api_rule
from routecare.flows import actions, selectors
from routecare.flows.models import Alert, AlertKind, DailyCount, Severity
from routecare.orgs.models import NationalSociety, Route

router = Router(tags=["flows"])


def _actor(request: HttpRequest) -> Actor:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    return actor


class CountIn(Schema):
    day: dt.date
    people: int = Field(..., ge=0, le=100_000)
    new_arrivals: int = Field(0, ge=0, le=100_000)
    departures: int = Field(0, ge=0, le=100_000)
    by_sex_and_age: dict[str, dict[str, int]] = Field(default_factory=dict)
    nationalities: dict[str, int] = Field(default_factory=dict)


class CountOut(Schema):
    service_point: str
    day: dt.date
    people: int
    new_arrivals: int | None
    departures: int | None
    by_sex_and_age: dict[str, dict[str, int]]
    source: str


class AlertIn(Schema):
    kind: AlertKind
    severity: Severity = Severity.INFO
    message: str = Field(..., min_length=1, max_length=500)
    scope: Literal["downstream", "network", "societies"]
    route: str | None = Field(None, description="route slug, for downstream alerts")
    societies: list[str] = Field(default_factory=list, description="country codes")
    group_size: int | None = Field(None, ge=1, le=100_000)
    direction: str = Field("", max_length=120)
    hours: int = Field(48, ge=1, le=336)


class AlertOut(Schema):
    id: uuid.UUID
    kind: str
    severity: str
    message: str
    group_size: int | None
    direction: str
    from_society: str
    created_at: dt.datetime
    expires_at: dt.datetime

    @staticmethod
    def resolve_from_society(alert: Alert) -> str:
        return alert.from_society.country_code


def _count_out(count: selectors.DayCount) -> dict[str, Any]:
    return {
        "service_point": count.point.code,
        "day": count.day,
        "people": count.people,
        "new_arrivals": count.new_arrivals,
        "departures": count.departures,
        "by_sex_and_age": count.by_sex_and_age,
        "source": count.source,
    }


@router.post("/flows/counts", response={200: CountOut})
@api_rule(Rule.COORDINATION)
def record_count(request: HttpRequest, body: CountIn) -> dict[str, Any]:
    """Enter or correct a day's count at the token's service point (corrections audited)."""
    actor = _actor(request)
    count: DailyCount = actions.record_daily_count(
        actor,
        day=body.day,
        people=body.people,
        new_arrivals=body.new_arrivals,
        departures=body.departures,
        by_sex_and_age=body.by_sex_and_age,
        nationalities=body.nationalities,
    )
    return _count_out(selectors.day_count(count.service_point, count.day))


@router.get("/flows/counts", response=list[CountOut])
@api_rule(Rule.COORDINATION)
def recent_counts(request: HttpRequest, days: int = 7) -> list[dict[str, Any]]:
    """The last ``days`` (1 to 90) at the token's service point, entered or derived."""
    actor = _actor(request)
    if actor.service_point is None:
        return []
    today = timezone.localdate()
    return [
        _count_out(selectors.day_count(actor.service_point, today - dt.timedelta(days=n)))
        for n in range(min(max(days, 1), 90))
    ]


@router.get("/flows/alerts", response=list[AlertOut])
@api_rule(Rule.SIGNED_IN)
def alerts(request: HttpRequest) -> list[Alert]:
    """Active alerts reaching the caller's society (or network)."""
    return selectors.active_alerts(_actor(request))


@router.post("/flows/alerts", response={201: AlertOut})
@api_rule(Rule.COORDINATION)
def send_alert(request: HttpRequest, body: AlertIn) -> Status[Alert]:
    actor = _actor(request)
    route = Route.objects.filter(slug=body.route).first() if body.route else None
    societies = list(
        NationalSociety.objects.filter(country_code__in=[c.upper() for c in body.societies])
    )
    alert = actions.send_alert(
        actor,
        kind=body.kind.value,
        severity=body.severity.value,
        message=body.message,
        scope=body.scope,
        route=route,
        societies=societies,
        group_size=body.group_size,
        direction=body.direction,
        hours=body.hours,
    )
    return Status(201, alert)


@router.post("/flows/alerts/{alert_id}/acknowledge", response={200: AlertOut})
@api_rule(Rule.COORDINATION)
def acknowledge(request: HttpRequest, alert_id: str) -> Alert:
    actor = _actor(request)
    alert = selectors.alert_for(actor, alert_id)
    actions.acknowledge(actor, alert)
    return alert
