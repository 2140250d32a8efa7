"""Demo route flows: two weeks of daily counts along each demo route, stock at a few points,
and early-action triggers, so the route view, forecasts and triggers have something to show.

Counts follow the forecast model (docs/flows.md) with noise: each counting point sees a share
of what the counting point before it passed on, the route's travel time later.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from routecare.access import Actor, build_actor
from routecare.flows import stock, triggers
from routecare.flows.actions import record_daily_count
from routecare.flows.models import DailyCount, Metric, StockItem, Trigger
from routecare.orgs.models import Route, RouteStop, ServicePoint

DAYS = 14
COUNTING_KINDS = (ServicePoint.Kind.TRANSIT_CENTRE, ServicePoint.Kind.FIXED_HSP)
CONTINUING = 0.85
# (point, kind, name, unit, level, minimum, service)
STOCK = (
    ("hnd-danli", "water", "Water 1.5 l", "bottles", 420, 100, "water"),
    ("hnd-danli", "hygiene-kit", "Hygiene kits", "kits", 35, 50, "wash-hygiene"),
    ("hnd-danli", "medicine", "Paracetamol 500 mg", "tablets", 800, 200, "medicines"),
    ("hnd-tegucigalpa", "hygiene-kit", "Hygiene kits", "kits", 260, 40, "wash-hygiene"),
    ("mkd-tabanovce", "water", "Water 1.5 l", "bottles", 150, 120, "water"),
    ("mkd-tabanovce", "food", "Food parcels", "parcels", 300, 80, "food"),
    ("mkd-tabanovce", "dignity-kit", "Dignity kits", "kits", 12, 30, "dignity-kit"),
    ("mkd-gevgelija", "dignity-kit", "Dignity kits", "kits", 140, 30, ""),
)
# (country, point or None for the country, name, metric, readiness, activation)
TRIGGERS: tuple[tuple[str, str | None, str, Metric, int, int], ...] = (
    ("HN", "hnd-danli", "Danlí arrivals (early action protocol)",
     Metric.ARRIVALS_3_DAY_AVERAGE, 150, 300),
    ("HN", None, "Honduras arrivals expected in 24 h", Metric.FORECAST_24H, 400, 800),
    ("MK", "mkd-tabanovce", "Tabanovce arrivals per staff member",
     Metric.ARRIVALS_PER_STAFF, 30, 50),
    ("MK", "mkd-tabanovce", "Tabanovce days of stock left", Metric.STOCK_DAYS_LEFT, 5, 2),
)  # fmt: skip
# The first counting point of each route sees about this many a day.
ROUTE_START = {"darien-north": 700, "balkans-north": 260}


def _focal_at(point: ServicePoint) -> Actor:
    country = point.national_society.country_code.lower()
    user = get_user_model().objects.get(username=f"{country}-focal")
    actor = build_actor(user, point.pk, via="command")
    if actor is None:
        raise RuntimeError(f"demo user {user} has no membership")
    return actor


def _route_counts(route: Route, rng: random.Random, today: dt.date) -> None:
    stops = list(
        RouteStop.objects.filter(route=route).select_related("service_point__national_society")
    )
    upstream: dict[dt.date, int] | None = None
    lag = 0.0
    for index, stop in enumerate(stops):
        if index:
            lag += float(stop.hours_from_previous)
        point = stop.service_point
        if point.kind not in COUNTING_KINDS:
            continue
        flow: dict[dt.date, int] = {}
        for offset in range(DAYS, -1, -1):
            day = today - dt.timedelta(days=offset)
            if upstream is None:
                base = ROUTE_START.get(route.slug, 200) * (1 + 0.25 * rng.uniform(-1, 1))
            else:
                whole, part = divmod(lag, 24)
                day_one = day - dt.timedelta(days=int(whole))
                day_two = day_one - dt.timedelta(days=1)
                lagged = (1 - part / 24) * upstream.get(day_one, upstream[min(upstream)])
                lagged += part / 24 * upstream.get(day_two, upstream[min(upstream)])
                base = CONTINUING * lagged + rng.gauss(10, 5)
            flow[day] = max(0, round(base))
        counted = set(
            DailyCount.objects.filter(service_point=point, day__in=list(flow)).values_list(
                "day", flat=True
            )
        )
        for day, arrivals in flow.items():
            if day in counted:  # loading the demo again changes nothing
                continue
            staying = round(arrivals * 0.1)
            record_daily_count(
                _focal_at(point), day=day, people=arrivals + staying, new_arrivals=arrivals,
                departures=arrivals, staff_on_duty=rng.randint(4, 9),
            )  # fmt: skip
        upstream, lag = flow, 0.0


def load_flows(seed: int = 11) -> None:
    rng = random.Random(seed)
    today = timezone.localdate()
    for route in Route.objects.filter(slug__in=list(ROUTE_START)):
        _route_counts(route, rng, today)
    for code, kind, name, unit, level, minimum, service in STOCK:
        point = ServicePoint.objects.select_related("national_society").get(code=code)
        if not StockItem.objects.filter(service_point=point, name=name).exists():
            stock.save_item(
                _focal_at(point), point, kind=kind, name=name, unit=unit, level=level,
                minimum=minimum, service=service,
            )  # fmt: skip
    for country, point_code, title, metric, readiness, activation in TRIGGERS:
        point = ServicePoint.objects.select_related("national_society").get(
            code=point_code or ("hnd-danli" if country == "HN" else "mkd-tabanovce")
        )
        if Trigger.objects.filter(name=title).exists():
            continue
        trigger = triggers.save_trigger(
            _focal_at(point), name=title, metric=metric, readiness=Decimal(readiness),
            activation=Decimal(activation), service_point=point if point_code else None,
        )  # fmt: skip
        triggers.evaluate(trigger)
