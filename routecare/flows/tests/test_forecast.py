"""Arrival forecasts: a week of counts at Tabanovce forecasts the first Serbian point with the
route's travel time, and the forecast's error on the following days is reported."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from routecare.flows import actions, forecast
from routecare.flows.models import DailyCount
from routecare.flows.tests.conftest import actor_at
from routecare.orgs.models import ServicePoint
from routecare.people.models import Encounter

# What left Tabanovce onward, oldest first, ending today.
TABANOVCE = [200, 240, 180, 260, 300, 220, 280, 250]
SHARE = 0.8  # of them reached Belgrade
LAG = 5.5  # hours: Tabanovce → Lojane 0.5 h → Belgrade 5 h on the demo route
EXTRA = 10  # the last three days, 10 more people arrived than the model expects


def _lagged(day_index: int) -> float:
    """People who would reach Belgrade on day ``day_index`` if all continued."""
    part = LAG / 24
    return (1 - part) * TABANOVCE[day_index] + part * TABANOVCE[day_index - 1]


@pytest.fixture
def week(demo: None) -> dt.date:
    today = timezone.localdate()
    tabanovce = actor_at("mkd-tabanovce", "focal")
    belgrade = actor_at("srb-belgrade")
    start = today - dt.timedelta(days=len(TABANOVCE) - 1)
    for index, departures in enumerate(TABANOVCE):
        day = start + dt.timedelta(days=index)
        actions.record_daily_count(tabanovce, day=day, people=departures, departures=departures)
        if index == 0 or day == today:
            continue
        arrived = round(SHARE * _lagged(index)) + (EXTRA if index >= 5 else 0)
        actions.record_daily_count(belgrade, day=day, people=arrived, new_arrivals=arrived)
    return today


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    zone = zoneinfo.ZoneInfo(
        ServicePoint.objects.get(code="srb-belgrade").national_society.time_zone
    )
    return dt.datetime.combine(day, dt.time(hour, minute), zone)


def test_tabanovce_counts_forecast_belgrade_with_the_routes_lag(week: dt.date) -> None:
    belgrade = ServicePoint.objects.get(code="srb-belgrade")
    midnight = forecast.forecast_point(belgrade, _at(week, 0))
    assert midnight is not None
    assert [(s.point.code, s.lag_hours) for s in midnight.sources] == [("mkd-tabanovce", LAG)]
    assert midnight.share_from_history
    assert midnight.share == pytest.approx(SHARE, abs=0.03)
    # From midnight the next 6 hours bring yesterday's last 5.5 hours of departures and
    # today's first half hour: the lag, not today's count alone.
    yesterday, today = TABANOVCE[-2], TABANOVCE[-1]
    expected = midnight.share * (yesterday * LAG / 24 + today * (6 - LAG) / 24)
    assert midnight.expected[6] == round(expected)
    # At 05:30 the people who left Tabanovce at midnight arrive: the next 6 hours are
    # today's first 6 hours of departures.
    morning = forecast.forecast_point(belgrade, _at(week, 5, 30))
    assert morning is not None
    assert morning.expected[6] == round(morning.share * today * 6 / 24)
    # 24 hours ahead from 05:30 is exactly today's departures.
    assert morning.expected[24] == round(morning.share * today)
    assert midnight.counted_until == week


def test_the_forecast_reports_its_error_on_the_following_days(week: dt.date) -> None:
    belgrade = ServicePoint.objects.get(code="srb-belgrade")
    result = forecast.forecast_point(belgrade, _at(week, 8))
    assert result is not None
    by_day = {e.day: e for e in result.errors}
    # Six days have both a count at Belgrade and the day before at Tabanovce.
    assert len(by_day) == 6
    for offset in (2, 1):
        day_error = by_day[week - dt.timedelta(days=offset)]
        assert day_error.error == day_error.forecast - day_error.arrived
        assert -EXTRA - 3 <= day_error.error <= -EXTRA + 3  # the 10 the model did not expect
    first = by_day[week - dt.timedelta(days=6)]  # no history before it: everyone continues
    assert first.forecast == round(_lagged(1))
    assert result.mean_absolute_error is not None
    assert result.error_percent is not None
    assert 0 < result.error_percent < 20


def test_the_first_point_of_a_route_has_no_forecast(demo: None) -> None:
    assert forecast.forecast_point(ServicePoint.objects.get(code="grc-athens")) is None


def test_encounters_count_where_no_count_was_entered(demo: None) -> None:
    """A point that registers everyone feeds the forecasts through its encounters; a count
    entered for the day takes precedence."""
    encounter = Encounter.objects.select_related("service_point").first()
    assert encounter is not None
    point, day = encounter.service_point, encounter.occurred_at.date()
    people = Encounter.objects.filter(service_point=point, occurred_at__date=day)
    derived = forecast.load_series([point], day)[point.pk]
    assert derived.arrivals[day] == people.values("person").distinct().count()
    DailyCount.objects.create(service_point=point, day=day, people=77, new_arrivals=70)
    entered = forecast.load_series([point], day)[point.pk]
    assert (entered.arrivals[day], entered.outflow[day]) == (70, 77)
