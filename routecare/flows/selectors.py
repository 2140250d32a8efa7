"""Reads of counts and alerts: aggregates and group alerts, no personal data."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from dataclasses import dataclass

from django.db.models import Count, F
from django.http import Http404
from django.utils import timezone

from routecare.access import Actor
from routecare.flows.forecast import Forecast, network_forecasts
from routecare.flows.models import (
    Alert,
    DailyCount,
    StockItem,
    Trigger,
    TriggerEvent,
    TriggerState,
)
from routecare.flows.stock import low_stock
from routecare.orgs.models import Role, Route, RouteStop, ServicePoint
from routecare.people.models import Encounter


@dataclass(frozen=True)
class DayCount:
    point: ServicePoint
    day: dt.date
    people: int
    new_arrivals: int | None
    departures: int | None
    by_sex_and_age: dict[str, dict[str, int]]
    source: str  # "entered" or "derived from encounters"


def derived_count(point: ServicePoint, day: dt.date) -> DayCount:
    """People seen at a point on a day, from the encounters recorded there."""
    people = (
        Encounter.objects.current()
        .filter(service_point=point, occurred_at__date=day)
        .values_list("person_id", "person__sex", "person__age_band")
        .distinct()
    )
    breakdown: dict[str, Counter[str]] = {}
    seen = set()
    for person_id, sex, band in people:
        if person_id in seen:
            continue
        seen.add(person_id)
        breakdown.setdefault(sex, Counter())[band] += 1
    return DayCount(
        point,
        day,
        len(seen),
        None,
        None,
        {sex: dict(bands) for sex, bands in breakdown.items()},
        "derived",
    )


def day_count(point: ServicePoint, day: dt.date) -> DayCount:
    """The entered count if there is one, else the count derived from encounters."""
    entered = DailyCount.objects.filter(service_point=point, day=day).first()
    if entered is None:
        return derived_count(point, day)
    return DayCount(
        point,
        day,
        entered.people,
        entered.new_arrivals,
        entered.departures,
        entered.by_sex_and_age,
        "entered",
    )


def active_alerts(actor: Actor, now: dt.datetime | None = None) -> list[Alert]:
    """Alerts reaching any point of the actor's society (or, for regional staff, their
    network), not expired: the panel on every staff dashboard."""
    now = now or timezone.now()
    alerts = Alert.objects.filter(expires_at__gt=now).select_related("from_society", "from_point")
    if actor.national_society_id is not None:
        alerts = alerts.filter(targets__national_society_id=actor.national_society_id)
    elif actor.network_id is not None:
        alerts = alerts.filter(targets__national_society__network_id=actor.network_id)
    elif actor.role != Role.SYSADMIN:
        return []  # system administrators see every alert: they hold no personal data
    return list(alerts.distinct()[:50])


def alert_for(actor: Actor, alert_id: str | uuid.UUID) -> Alert:
    try:
        key = alert_id if isinstance(alert_id, uuid.UUID) else uuid.UUID(str(alert_id))
    except ValueError as error:
        raise Http404 from error
    alert = next((a for a in active_alerts(actor) if a.pk == key), None)
    if alert is None:
        raise Http404
    return alert


def day_counts(points: list[ServicePoint], day: dt.date) -> dict[object, DayCount]:
    """``day_count`` for many points: two queries however many points."""
    by_id = {point.pk: point for point in points}
    counts: dict[object, DayCount] = {
        entered.service_point_id: DayCount(
            by_id[entered.service_point_id],
            day,
            entered.people,
            entered.new_arrivals,
            entered.departures,
            entered.by_sex_and_age,
            "entered",
        )
        for entered in DailyCount.objects.filter(service_point__in=points, day=day)
    }
    derived = (
        Encounter.objects.current()
        .filter(service_point__in=points, occurred_at__date=day)
        .exclude(service_point_id__in=list(counts))
        .values_list("service_point_id")
        .annotate(people=Count("person_id", distinct=True))
    )
    for point_id, people in derived:
        counts[point_id] = DayCount(by_id[point_id], day, people, None, None, {}, "derived")
    return counts


def routes_for(actor: Actor) -> list[Route]:
    if actor.network_id is None:
        return []
    return list(Route.objects.filter(network_id=actor.network_id).order_by("name"))


def route_for(actor: Actor, slug: str) -> Route:
    route = next((r for r in routes_for(actor) if r.slug == slug), None)
    if route is None:
        raise Http404
    return route


@dataclass(frozen=True)
class StopOverview:
    stop: RouteStop
    today: DayCount | None
    forecast: Forecast | None
    alerts: list[Alert]
    triggers: list[Trigger]
    low_stock: list[StockItem]


def route_overview(
    actor: Actor, route: Route, now: dt.datetime | None = None
) -> list[StopOverview]:
    """The morning picture of a route: each stop in order with today's count, the arrivals
    forecast, open alerts, early-action triggers not at normal and low stock. Aggregates
    only: nothing here is about a person."""
    now = now or timezone.now()
    stops = list(
        RouteStop.objects.filter(route=route).select_related("service_point__national_society")
    )
    points = [stop.service_point for stop in stops]
    counts = day_counts(points, timezone.localdate(now))
    forecasts = network_forecasts(points, now)
    alerts: dict[object, list[Alert]] = {}
    active = Alert.objects.filter(expires_at__gt=now, targets__in=points).annotate(
        target=F("targets__pk")
    )
    for alert in active.select_related("from_society"):
        alerts.setdefault(alert.target, []).append(alert)
    societies = {point.national_society_id for point in points}
    raised = Trigger.objects.filter(national_society_id__in=societies, enabled=True).exclude(
        state=TriggerState.NORMAL
    )
    triggers: dict[object, list[Trigger]] = {}
    for trigger in raised:
        for point in points:
            if trigger.service_point_id in (point.pk, None) and (
                point.national_society_id == trigger.national_society_id
            ):
                triggers.setdefault(point.pk, []).append(trigger)
    low: dict[object, list[StockItem]] = {}
    for item in low_stock(points):
        low.setdefault(item.service_point_id, []).append(item)
    return [
        StopOverview(
            stop=stop,
            today=counts.get(stop.service_point_id),
            forecast=forecasts.get(stop.service_point_id),
            alerts=alerts.get(stop.service_point_id, []),
            triggers=triggers.get(stop.service_point_id, []),
            low_stock=low.get(stop.service_point_id, []),
        )
        for stop in stops
    ]


def triggers_for(actor: Actor) -> list[Trigger]:
    """The actor's society's triggers, with their latest changes."""
    if actor.national_society_id is None:
        return []
    return list(
        Trigger.objects.filter(national_society_id=actor.national_society_id)
        .select_related("service_point")
        .prefetch_related("events")
    )


def unacknowledged_events(actor: Actor) -> list[TriggerEvent]:
    """Changes of the society's triggers nobody has acknowledged yet: on the dashboard."""
    if actor.national_society_id is None or actor.role not in (Role.COORDINATOR, Role.FOCAL_POINT):
        return []
    return list(
        TriggerEvent.objects.filter(
            trigger__national_society_id=actor.national_society_id, acknowledged_at__isnull=True
        ).select_related("trigger")[:20]
    )


def trigger_event_for(actor: Actor, event_id: uuid.UUID) -> TriggerEvent:
    if actor.national_society_id is None:
        raise Http404
    event = (
        TriggerEvent.objects.filter(
            pk=event_id, trigger__national_society_id=actor.national_society_id
        )
        .select_related("trigger")
        .first()
    )
    if event is None:
        raise Http404
    return event


def forecast_for_dashboard(actor: Actor) -> Forecast | None:
    """Expected arrivals at the coordinator's point, for their home page."""
    if actor.role not in (Role.COORDINATOR, Role.FOCAL_POINT) or actor.service_point is None:
        return None
    return network_forecasts([actor.service_point]).get(actor.service_point.pk)
