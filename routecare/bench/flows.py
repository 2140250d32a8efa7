"""Forecast figures: arrival forecasts for a whole network of 100 points with a year of daily
counts each.

The network is bench-only (created once and kept, rebuilt when its counts no longer end
today): one route of 100 points, three hours apart, each counting what arrived from the one
before: 92 % of the people the point before passed on, and people joining the route
there (about 8 % of the flow), with a monthly wave and noise upstream.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import time
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from routecare.bench.stats import summarise
from routecare.flows.forecast import network_forecasts
from routecare.flows.models import DailyCount
from routecare.orgs.models import NationalSociety, Network, Route, RouteStop, ServicePoint

POINTS = 100
DAYS = 365
BENCH_COUNTRY = "XF"  # not a real country: a bench-only network
CONTINUING = 0.92
JOINING = 16  # people a day joining at each point: the flow stays near 200
HOURS_APART = Decimal(3)


def _counts(points: list[ServicePoint], days: int, seed: int) -> list[DailyCount]:
    rng = random.Random(seed)
    today = timezone.localdate()
    first_day = today - dt.timedelta(days=days - 1)
    lag_share = float(HOURS_APART) / 24
    previous: list[int] = []
    rows = []
    for index, point in enumerate(points):
        current = []
        for offset in range(days):
            if index == 0:
                wave = 200 + 100 * math.sin(2 * math.pi * offset / 30)
                arrivals = max(0, round(wave + rng.gauss(0, 20)))
            else:
                before = previous[offset - 1] if offset else previous[0]
                lagged = (1 - lag_share) * previous[offset] + lag_share * before
                arrivals = max(0, round(CONTINUING * lagged + rng.gauss(JOINING, 4)))
            current.append(arrivals)
            rows.append(
                DailyCount(
                    service_point=point,
                    day=first_day + dt.timedelta(days=offset),
                    people=arrivals,
                    new_arrivals=arrivals,
                    departures=arrivals,
                )
            )
        previous = current
    return rows


@transaction.atomic
def ensure_flow_network(
    points: int = POINTS, days: int = DAYS, seed: int = 7
) -> list[ServicePoint]:
    network, _ = Network.objects.get_or_create(slug="bench-flows", defaults={"name": "Bench flows"})
    society, _ = NationalSociety.objects.get_or_create(
        country_code=BENCH_COUNTRY, defaults={"name": "Bench flows Red Cross", "network": network}
    )
    route, _ = Route.objects.get_or_create(
        slug="bench-flows", defaults={"name": "Bench flows route", "network": network}
    )
    existing = list(
        ServicePoint.objects.filter(national_society=society)
        .select_related("national_society")
        .order_by("code")
    )
    if len(existing) != points:
        RouteStop.objects.filter(route=route).delete()
        DailyCount.objects.filter(service_point__national_society=society).delete()
        ServicePoint.objects.filter(national_society=society).delete()
        ServicePoint.objects.bulk_create(
            ServicePoint(
                national_society=society,
                code=f"flows-{n:03d}",
                name=f"Flows point {n}",
                latitude=Decimal(20) + Decimal(n) / 10,
                longitude=Decimal(-90),
            )
            for n in range(points)
        )
        existing = list(
            ServicePoint.objects.filter(national_society=society)
            .select_related("national_society")
            .order_by("code")
        )
        RouteStop.objects.bulk_create(
            RouteStop(
                route=route,
                position=n,
                service_point=point,
                hours_from_previous=HOURS_APART if n else 0,
            )
            for n, point in enumerate(existing)
        )
    counted = DailyCount.objects.filter(service_point__in=existing)
    latest = counted.order_by("-day").values_list("day", flat=True).first()
    if latest != timezone.localdate() or counted.count() != points * days:
        counted.delete()
        DailyCount.objects.bulk_create(_counts(existing, days, seed), batch_size=2000)
    return existing


def measure_forecasts(repeats: int = 10, points: int = POINTS, days: int = DAYS) -> dict[str, Any]:
    """Forecasts of every point of the network at once, as the route view and the trigger
    job compute them."""
    network_points = ensure_flow_network(points, days)
    timings = []
    forecasts = {}
    for index in range(repeats + 1):
        began = time.perf_counter()
        forecasts = network_forecasts(network_points)
        elapsed = (time.perf_counter() - began) * 1000
        if index:  # the first run warms caches up
            timings.append(elapsed)
    errors = [f.error_percent for f in forecasts.values() if f.error_percent is not None]
    shares = [f.share for f in forecasts.values()]
    return {
        "points": points,
        "days": days,
        "daily_counts": points * days,
        "forecast_points": len(forecasts),
        "network_forecast_ms": summarise(timings),
        "mean_error_percent": round(sum(errors) / len(errors), 1) if errors else None,
        "mean_share": round(sum(shares) / len(shares), 3) if shares else None,
    }
