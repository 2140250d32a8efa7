"""Arrival forecasts: lagged flows with a continuation share (the model is in docs/flows.md).

People who leave an upstream point on day *u* reach a downstream point the route's travel
time *L* later. Departures are taken as spread evenly over the day, so a day's departures
arrive spread over the 24 hours starting *L* after that day began. Only a share of them
continues to the downstream point (some stay, turn back or take another road); the share is
estimated from the last four weeks as arrivals counted downstream divided by the lagged flow
from upstream. Upstream days not counted yet (today, the days ahead) are taken as the mean of
the three latest counted days.

Everything here works on day series loaded in three queries per network, so the forecasts of
a whole network are computed together (the route view, the triggers, ``make bench``).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from routecare.flows.models import DailyCount
from routecare.orgs.models import RouteStop, ServicePoint
from routecare.people.models import Encounter

HISTORY_DAYS = 28  # the continuation share is estimated over these days
ERROR_DAYS = 7  # the forecast's error is shown for these days
PERSISTENCE_DAYS = 3  # uncounted upstream days: mean of this many latest counted days
HORIZONS = (6, 24, 72)  # hours: "expected in the next 6 h / 24 h / 3 days"
DEFAULT_SHARE = 1.0  # before there is any history: everyone continues


@dataclass(frozen=True)
class Source:
    """An upstream point whose departures reach the point, ``lag_hours`` later."""

    point: ServicePoint
    lag_hours: float


@dataclass
class Series:
    """What a point counted, day by day: departures onward (or the people assisted when
    departures were not counted) and arrivals (or the people assisted)."""

    outflow: dict[dt.date, int] = field(default_factory=dict)
    arrivals: dict[dt.date, int] = field(default_factory=dict)

    def counted_outflow(self, day: dt.date, fill: float) -> float:
        return float(self.outflow[day]) if day in self.outflow else fill


@dataclass(frozen=True)
class DayError:
    day: dt.date
    forecast: int
    arrived: int

    @property
    def error(self) -> int:
        return self.forecast - self.arrived


@dataclass(frozen=True)
class Forecast:
    point: ServicePoint
    sources: tuple[Source, ...]
    share: float
    share_from_history: bool
    expected: dict[int, int]  # hours ahead → people expected
    errors: tuple[DayError, ...]
    counted_until: dt.date | None  # the latest upstream day with a count

    @property
    def mean_absolute_error(self) -> float | None:
        if not self.errors:
            return None
        return sum(abs(e.error) for e in self.errors) / len(self.errors)

    @property
    def error_percent(self) -> float | None:
        """Absolute errors as a share of what arrived, over the days shown."""
        arrived = sum(e.arrived for e in self.errors)
        if not self.errors or arrived == 0:
            return None
        return 100 * sum(abs(e.error) for e in self.errors) / arrived


def upstream_sources(
    stops_by_route: Mapping[object, list[RouteStop]], counted: set[object]
) -> dict[object, list[Source]]:
    """For each point, the nearest upstream point with counts on each route through it,
    and the travel time between them. Points without counts (a mobile team) are passed
    through: the people they see are counted further up."""
    sources: dict[object, dict[object, Source]] = {}
    for stops in stops_by_route.values():
        for index, stop in enumerate(stops):
            lag = 0.0
            for upstream_index in range(index - 1, -1, -1):
                lag += float(stops[upstream_index + 1].hours_from_previous)
                upstream = stops[upstream_index].service_point
                if upstream.pk == stop.service_point_id or upstream.pk not in counted:
                    continue
                known = sources.setdefault(stop.service_point_id, {})
                if upstream.pk not in known or known[upstream.pk].lag_hours > lag:
                    known[upstream.pk] = Source(upstream, lag)
                break
    return {point: list(found.values()) for point, found in sources.items()}


def _lagged_flow(
    sources: Iterable[Source], series: Mapping[object, Series], day: dt.date, fill: bool
) -> float | None:
    """People leaving the sources that would reach the point on ``day`` if all continued.
    None when an upstream day it needs was not counted (and ``fill`` is off)."""
    total = 0.0
    for source in sources:
        upstream = series.get(source.point.pk, Series())
        whole_days, part = divmod(source.lag_hours, 24)
        fraction_next_day = part / 24
        for days_back, weight in (
            (int(whole_days), 1 - fraction_next_day),
            (int(whole_days) + 1, fraction_next_day),
        ):
            if weight == 0:
                continue
            upstream_day = day - dt.timedelta(days=days_back)
            if upstream_day not in upstream.outflow:
                if not fill:
                    return None
                total += weight * _persistence(upstream)
            else:
                total += weight * upstream.outflow[upstream_day]
    return total


def _persistence(series: Series) -> float:
    latest = sorted(series.outflow)[-PERSISTENCE_DAYS:]
    return sum(series.outflow[day] for day in latest) / len(latest) if latest else 0.0


def _history(
    sources: list[Source], series: Mapping[object, Series], arrivals: Mapping[dt.date, int],
    today: dt.date,
) -> dict[dt.date, tuple[float, int]]:  # fmt: skip
    """Each past day with both an arrival count and the upstream counts it needs: the lagged
    flow (everyone continuing) and what arrived."""
    history = {}
    for offset in range(1, HISTORY_DAYS + ERROR_DAYS + 1):
        day = today - dt.timedelta(days=offset)
        if day not in arrivals:
            continue
        lagged = _lagged_flow(sources, series, day, fill=False)
        if lagged is not None:
            history[day] = (lagged, arrivals[day])
    return history


def _share(history: Mapping[dt.date, tuple[float, int]], before: dt.date) -> tuple[float, bool]:
    """Arrived over lagged flow, over the ``HISTORY_DAYS`` before a day."""
    flowed = arrived = 0.0
    for offset in range(1, HISTORY_DAYS + 1):
        found = history.get(before - dt.timedelta(days=offset))
        if found is not None:
            flowed += found[0]
            arrived += found[1]
    if flowed <= 0:
        return DEFAULT_SHARE, False
    return arrived / flowed, True


def _expected_between(
    sources: list[Source], series: Mapping[object, Series], share: float,
    start: dt.datetime, end: dt.datetime,
) -> float:  # fmt: skip
    """People expected between ``start`` and ``end`` (local, aware datetimes)."""
    total = 0.0
    for source in sources:
        upstream = series.get(source.point.pk, Series())
        fill = _persistence(upstream)
        lag = dt.timedelta(hours=source.lag_hours)
        # The departures that arrive in [start, end) left in [start - lag, end - lag).
        left_from, left_until = start - lag, end - lag
        cursor = left_from
        while cursor < left_until:
            day = cursor.date()
            next_midnight = dt.datetime.combine(
                day + dt.timedelta(days=1), dt.time(), cursor.tzinfo
            )
            piece_end = min(next_midnight, left_until)
            hours = (piece_end - cursor).total_seconds() / 3600
            total += upstream.counted_outflow(day, fill) * hours / 24
            cursor = piece_end
    return share * total


def forecast_for(
    point: ServicePoint, sources: list[Source], series: Mapping[object, Series],
    now: dt.datetime,
) -> Forecast:  # fmt: skip
    zone = zoneinfo.ZoneInfo(point.national_society.time_zone)
    local_now = now.astimezone(zone)
    today = local_now.date()
    arrivals = series.get(point.pk, Series()).arrivals
    history = _history(sources, series, arrivals, today)
    share, from_history = _share(history, today)
    expected = {
        hours: round(
            _expected_between(
                sources, series, share, local_now, local_now + dt.timedelta(hours=hours)
            )
        )
        for hours in HORIZONS
    }
    errors = []
    for offset in range(ERROR_DAYS, 0, -1):
        day = today - dt.timedelta(days=offset)
        if day in history:
            # Out of sample: the share as it was known before that day.
            day_share, _ = _share(history, day)
            lagged, arrived = history[day]
            errors.append(DayError(day, round(day_share * lagged), arrived))
    counted = [max(series[s.point.pk].outflow) for s in sources if s.point.pk in series]
    return Forecast(
        point=point,
        sources=tuple(sorted(sources, key=lambda s: s.lag_hours)),
        share=share,
        share_from_history=from_history,
        expected=expected,
        errors=tuple(errors),
        counted_until=min(counted) if counted else None,
    )


def load_series(points: Iterable[ServicePoint], since: dt.date) -> dict[object, Series]:
    """Counts entered at the points since a day; where a point entered nothing on a day,
    the people its encounters recorded (one query each)."""
    point_ids = [point.pk for point in points]
    series: dict[object, Series] = {}
    entered: set[tuple[object, dt.date]] = set()
    rows = DailyCount.objects.filter(service_point_id__in=point_ids, day__gte=since).values_list(
        "service_point_id", "day", "people", "new_arrivals", "departures"
    )
    for point_id, day, people, new_arrivals, departures in rows:
        point_series = series.setdefault(point_id, Series())
        point_series.outflow[day] = departures or people
        point_series.arrivals[day] = new_arrivals or people
        entered.add((point_id, day))
    start = timezone.make_aware(dt.datetime.combine(since, dt.time()))
    derived = (
        Encounter.objects.current()
        .filter(service_point_id__in=point_ids, occurred_at__gte=start)
        .annotate(day=TruncDate("occurred_at"))
        .values_list("service_point_id", "day")
        .annotate(people=Count("person_id", distinct=True))
    )
    for point_id, day, people in derived:
        if (point_id, day) in entered:
            continue
        point_series = series.setdefault(point_id, Series())
        point_series.outflow[day] = people
        point_series.arrivals[day] = people
    return series


def network_forecasts(
    points: Iterable[ServicePoint], now: dt.datetime | None = None
) -> dict[object, Forecast]:
    """Forecasts for the given points (and every route through them), computed together."""
    now = now or timezone.now()
    wanted = {point.pk: point for point in points}
    if not wanted:
        return {}
    routes = RouteStop.objects.filter(service_point_id__in=list(wanted)).values("route_id")
    stops = (
        RouteStop.objects.filter(route_id__in=routes)
        .select_related("service_point__national_society")
        .order_by("route", "position")
    )
    stops_by_route: dict[object, list[RouteStop]] = {}
    for stop in stops:
        stops_by_route.setdefault(stop.route_id, []).append(stop)
    route_points = {stop.service_point_id: stop.service_point for stop in stops}
    since = timezone.localdate(now) - dt.timedelta(days=HISTORY_DAYS + ERROR_DAYS + 2)
    series = load_series([*route_points.values(), *wanted.values()], since)
    sources = upstream_sources(stops_by_route, set(series))
    return {
        pk: forecast_for(route_points.get(pk, point), sources[pk], series, now)
        for pk, point in wanted.items()
        if sources.get(pk)
    }


def forecast_point(point: ServicePoint, now: dt.datetime | None = None) -> Forecast | None:
    return network_forecasts([point], now).get(point.pk)
