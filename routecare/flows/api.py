"""Daily counts, alerts, forecasts, route views, early-action triggers, stock and transfer
requests over the API."""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema
from ninja.responses import Status

from routecare.access import Actor, Rule, api_rule
from routecare.core import fields
from routecare.core.api_errors import ErrorOut
from routecare.core.fields import InputSchema
from routecare.core.person_texts import PERSON_LANGUAGES
from routecare.flows import actions, selectors, stock, stock_use, triggers
from routecare.flows.forecast import Forecast, forecast_point
from routecare.flows.models import (
    Alert,
    AlertKind,
    DailyCount,
    Metric,
    Severity,
    StockItem,
    StockKind,
    TransferRequest,
    Trigger,
    TriggerEvent,
)
from routecare.orgs.models import NationalSociety, Route, ServicePoint

router = Router(tags=["flows"])


def _actor(request: HttpRequest) -> Actor:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    return actor


class CountIn(InputSchema):
    day: dt.date
    people: int = Field(..., ge=0, le=100_000)
    new_arrivals: int = Field(0, ge=0, le=100_000)
    departures: int = Field(0, ge=0, le=100_000)
    by_sex_and_age: dict[str, dict[str, int]] = Field(default_factory=dict)
    nationalities: dict[str, int] = Field(default_factory=dict)
    staff_on_duty: int | None = Field(None, ge=0, le=10_000)


class CountOut(Schema):
    service_point: str
    day: dt.date
    people: int
    new_arrivals: int | None
    departures: int | None
    by_sex_and_age: dict[str, dict[str, int]]
    source: str


class AlertIn(InputSchema):
    kind: AlertKind
    severity: Severity = Severity.INFO
    message: Annotated[str, fields.ALERT_MESSAGE]
    scope: Literal["downstream", "network", "societies"]
    route: str | None = Field(None, description="route slug, for downstream alerts")
    societies: list[str] = Field(default_factory=list, description="country codes")
    group_size: int | None = Field(None, ge=1, le=100_000)
    direction: Annotated[str, fields.ALERT_DIRECTION] = ""
    hours: int = Field(48, ge=1, le=336)
    public_texts: dict[str, Annotated[str, fields.ALERT_PUBLIC_TEXT]] = Field(
        default_factory=dict,
        description=(
            "Marks the alert public: its wording for people on the move by language "
            f"({', '.join(PERSON_LANGUAGES)}), sent to the messaging helpdesk's subscribers of "
            "the countries concerned. Not for group movements."
        ),
    )


class AlertOut(Schema):
    id: uuid.UUID
    kind: str
    severity: str
    message: str
    group_size: int | None
    direction: str
    public_texts: dict[str, str]
    from_society: str
    created_at: dt.datetime
    expires_at: dt.datetime

    @staticmethod
    def resolve_from_society(alert: Alert) -> str:
        return alert.from_society.country_code


def _own_point(actor: Actor, code: str | None, field: str) -> ServicePoint | None:
    """The point of the actor's society a body names by code (None when it names none)."""
    if not code:
        return None
    point = ServicePoint.objects.filter(
        code=code, national_society_id=actor.national_society_id
    ).first()
    if point is None:
        raise ValidationError({field: "Unknown service point of your society."})
    return point


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
        staff_on_duty=body.staff_on_duty,
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
        public_texts=body.public_texts,
    )
    return Status(201, alert)


@router.post("/flows/alerts/{alert_id}/acknowledge", response={200: AlertOut})
@api_rule(Rule.COORDINATION)
def acknowledge(request: HttpRequest, alert_id: str) -> Alert:
    actor = _actor(request)
    alert = selectors.alert_for(actor, alert_id)
    actions.acknowledge(actor, alert)
    return alert


class SourceOut(Schema):
    service_point: str
    lag_hours: float


class DayErrorOut(Schema):
    day: dt.date
    forecast: int
    arrived: int
    error: int


class ForecastOut(Schema):
    service_point: str
    sources: list[SourceOut]
    share: float
    share_from_history: bool
    expected_6h: int
    expected_24h: int
    expected_3d: int
    counted_until: dt.date | None
    errors: list[DayErrorOut]
    error_percent: float | None


def _forecast_out(found: Forecast) -> dict[str, Any]:
    return {
        "service_point": found.point.code,
        "sources": [
            {"service_point": s.point.code, "lag_hours": s.lag_hours} for s in found.sources
        ],
        "share": round(found.share, 3),
        "share_from_history": found.share_from_history,
        "expected_6h": found.expected[6],
        "expected_24h": found.expected[24],
        "expected_3d": found.expected[72],
        "counted_until": found.counted_until,
        "errors": [
            {"day": e.day, "forecast": e.forecast, "arrived": e.arrived, "error": e.error}
            for e in found.errors
        ],
        "error_percent": None if found.error_percent is None else round(found.error_percent, 1),
    }


@router.get("/flows/forecast", response={200: ForecastOut, 404: ErrorOut})
@api_rule(Rule.COORDINATION)
def point_forecast(request: HttpRequest) -> Any:
    """Expected arrivals at the token's service point in the next 6 h, 24 h and 3 days, with
    the upstream points they come from and the model's recent error (docs/flows.md)."""
    actor = _actor(request)
    found = forecast_point(actor.service_point) if actor.service_point else None
    if found is None:
        return Status(404, {"detail": "No upstream counts to forecast from."})
    return _forecast_out(found)


class StopOut(Schema):
    position: int
    service_point: str
    name: str
    country: str
    hours_from_previous: float
    today: CountOut | None
    forecast: ForecastOut | None
    alerts: list[str]
    triggers: list[dict[str, str]]
    low_stock: list[dict[str, Any]]


@router.get("/flows/routes/{slug}", response=list[StopOut])
@api_rule(Rule.ROUTE_OVERVIEW)
def route_view(request: HttpRequest, slug: str) -> list[dict[str, Any]]:
    """The route view: each stop in order with today's count, the forecast, open alerts,
    triggers not at normal and low stock. Aggregates only."""
    actor = _actor(request)
    stops = selectors.route_overview(actor, selectors.route_for(actor, slug))
    return [
        {
            "position": row.stop.position,
            "service_point": row.stop.service_point.code,
            "name": row.stop.service_point.name,
            "country": row.stop.service_point.national_society.country_code,
            "hours_from_previous": float(row.stop.hours_from_previous),
            "today": _count_out(row.today) if row.today else None,
            "forecast": _forecast_out(row.forecast) if row.forecast else None,
            "alerts": [alert.message for alert in row.alerts],
            "triggers": [{"name": t.name, "state": t.state} for t in row.triggers],
            "low_stock": [
                {"name": i.name, "level": i.level, "minimum": i.minimum} for i in row.low_stock
            ],
        }
        for row in stops
    ]


class TriggerIn(InputSchema):
    name: Annotated[str, fields.TRIGGER_NAME]
    metric: Metric
    readiness: Decimal = Field(..., ge=0, le=99_999_999)
    activation: Decimal = Field(..., ge=0, le=99_999_999)
    service_point: str | None = Field(None, description="point code; none for the country")


class TriggerOut(Schema):
    id: uuid.UUID
    name: str
    metric: str
    service_point: str | None
    readiness: Decimal
    activation: Decimal
    state: str
    value: Decimal | None
    evaluated_at: dt.datetime | None

    @staticmethod
    def resolve_service_point(trigger: Trigger) -> str | None:
        return trigger.service_point.code if trigger.service_point else None


class TriggerEventOut(Schema):
    id: uuid.UUID
    trigger: str
    at: dt.datetime
    from_state: str
    to_state: str
    value: Decimal
    inputs: dict[str, Any]
    acknowledged_at: dt.datetime | None

    @staticmethod
    def resolve_trigger(event: TriggerEvent) -> str:
        return event.trigger.name


@router.get("/flows/triggers", response=list[TriggerOut])
@api_rule(Rule.COORDINATION)
def list_triggers(request: HttpRequest) -> list[Trigger]:
    return selectors.triggers_for(_actor(request))


@router.post("/flows/triggers", response={201: TriggerOut})
@api_rule(Rule.SOCIETY_ADMIN)
def create_trigger(request: HttpRequest, body: TriggerIn) -> Status[Trigger]:
    """Set up a trigger of the caller's society (focal points)."""
    actor = _actor(request)
    point = _own_point(actor, body.service_point, "service_point")
    trigger = triggers.save_trigger(
        actor, name=body.name, metric=body.metric.value, readiness=body.readiness,
        activation=body.activation, service_point=point,
    )  # fmt: skip
    return Status(201, trigger)


@router.get("/flows/trigger-events", response=list[TriggerEventOut])
@api_rule(Rule.COORDINATION)
def waiting_events(request: HttpRequest) -> list[TriggerEvent]:
    """Changes of the society's triggers waiting for acknowledgement."""
    return selectors.unacknowledged_events(_actor(request))


@router.post("/flows/trigger-events/{event_id}/acknowledge", response=TriggerEventOut)
@api_rule(Rule.COORDINATION)
def acknowledge_event(request: HttpRequest, event_id: uuid.UUID) -> TriggerEvent:
    actor = _actor(request)
    return triggers.acknowledge_event(actor, selectors.trigger_event_for(actor, event_id))


class StockItemIn(InputSchema):
    kind: StockKind
    name: Annotated[str, fields.STOCK_ITEM_NAME]
    unit: Annotated[str, fields.STOCK_UNIT] = "units"
    minimum: int = Field(0, ge=0, le=1_000_000)
    service: Annotated[str, fields.SHORT_CODE_TEXT] = ""
    level: int | None = Field(None, ge=0, le=1_000_000)


class LevelIn(InputSchema):
    level: int = Field(..., ge=0, le=1_000_000)


class StockItemOut(Schema):
    id: uuid.UUID
    kind: str
    name: str
    unit: str
    level: int
    minimum: int
    service: str
    is_low: bool
    updated_at: dt.datetime
    # Encounters recorded at the point whose stock the levels do not hold yet (the worker
    # takes it within seconds, flows.stock_use): the same for every item of the point.
    encounters_waiting: int = 0


def _point(actor: Actor) -> ServicePoint:
    if actor.service_point is None:
        raise ValidationError({"service_point": "This token works at no service point."})
    return actor.service_point


@router.get("/flows/stock", response=list[StockItemOut])
@api_rule(Rule.COORDINATION)
def list_stock(request: HttpRequest) -> list[StockItem]:
    actor = _actor(request)
    items = stock.items_at(actor, _point(actor))
    waiting = stock_use.waiting_at(_point(actor)).count if items else 0
    for item in items:
        item.encounters_waiting = waiting  # type: ignore[attr-defined]
    return items


@router.post("/flows/stock", response={201: StockItemOut})
@api_rule(Rule.COORDINATION)
def add_stock_item(request: HttpRequest, body: StockItemIn) -> Status[StockItem]:
    actor = _actor(request)
    values = body.dict()
    values["kind"] = body.kind.value
    return Status(201, stock.save_item(actor, _point(actor), **values))


@router.post("/flows/stock/{item_id}/count", response=StockItemOut)
@api_rule(Rule.COORDINATION)
def count_stock(request: HttpRequest, item_id: uuid.UUID, body: LevelIn) -> StockItem:
    """What was counted on the shelf replaces the level."""
    actor = _actor(request)
    item = next((i for i in stock.items_at(actor, _point(actor)) if i.pk == item_id), None)
    if item is None:
        raise Http404
    return stock.count_level(actor, item, body.level)


class TransferIn(InputSchema):
    kind: Literal["supplies", "staff"]
    quantity: int = Field(..., ge=1, le=1_000_000)
    supplying_point: str | None = Field(None, description="point code of the same society")
    item_name: Annotated[str, fields.Text(fields.STOCK_ITEM_NAME.max_length)] = ""
    item_kind: Annotated[str, fields.SHORT_CODE_TEXT] = ""
    needed_by: dt.date | None = None
    note: Annotated[str, fields.TRANSFER_NOTE] = ""


class TransferOut(Schema):
    id: uuid.UUID
    kind: str
    requesting_point: str
    supplying_point: str | None
    item_name: str
    quantity: int
    needed_by: dt.date | None
    status: str
    requested_at: dt.datetime

    @staticmethod
    def resolve_requesting_point(transfer: TransferRequest) -> str:
        return transfer.requesting_point.code

    @staticmethod
    def resolve_supplying_point(transfer: TransferRequest) -> str | None:
        return transfer.supplying_point.code if transfer.supplying_point else None


@router.get("/flows/transfers", response=list[TransferOut])
@api_rule(Rule.COORDINATION)
def list_transfers(request: HttpRequest) -> list[TransferRequest]:
    return stock.transfers_for(_actor(request))


@router.post("/flows/transfers", response={201: TransferOut})
@api_rule(Rule.COORDINATION)
def request_transfer(request: HttpRequest, body: TransferIn) -> Status[TransferRequest]:
    """Ask a point of the same society for supplies, or the society for surge staff."""
    actor = _actor(request)
    supplier = _own_point(actor, body.supplying_point, "supplying_point")
    values = body.dict()
    values["supplying_point"] = supplier
    return Status(201, stock.request_transfer(actor, **values))


@router.post("/flows/transfers/{transfer_id}/{status}", response=TransferOut)
@api_rule(Rule.COORDINATION)
def advance_transfer(
    request: HttpRequest,
    transfer_id: uuid.UUID,
    status: Literal["dispatched", "received", "declined", "cancelled"],
) -> TransferRequest:
    """requested → dispatched (supplier) → received (requester); declined or cancelled."""
    actor = _actor(request)
    return stock.advance_transfer(actor, stock.transfer_for(actor, transfer_id), status)
