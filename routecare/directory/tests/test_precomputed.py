"""The directory's precomputed entries and route legs (issue 22, item 4): refreshed in the
transaction that changes a point, caught when a change sent no signal, and answering exactly
what the points themselves answer, "open now" included, over changes of UTC offset."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from routecare.conftest import Society
from routecare.directory import actions, precomputed, selectors
from routecare.directory.api import PublicPointOut, render_json
from routecare.directory.entries import PublicPoint
from routecare.directory.hours import (
    OpeningState,
    WeeklyHours,
    _state_by_moments,
    opening_state,
    periods_of,
    state_of,
    week_of,
)
from routecare.directory.models import PublicEntry, RouteLeg
from routecare.orgs.models import NationalSociety, Route, RouteStop, ServicePoint

EVERY_DAY = [{"day": day, "opens": "08:00", "closes": "18:00"} for day in range(7)]
# Hours that test the windows: past midnight, touching, a free day, a whole day.
AWKWARD_HOURS: list[list[dict[str, Any]]] = [
    [],
    EVERY_DAY,
    [{"day": day, "opens": "22:00", "closes": "02:00"} for day in range(5)],
    [
        {"day": 0, "opens": "00:00", "closes": "12:00"},
        {"day": 0, "opens": "12:00", "closes": "00:00"},
        {"day": 2, "opens": "01:30", "closes": "03:30"},
        {"day": 6, "opens": "02:00", "closes": "02:59"},
    ],
    [{"day": day, "opens": "00:00", "closes": "00:01"} for day in (3, 4)]
    + [{"day": day, "opens": "00:01", "closes": "00:00"} for day in range(7)],
]
ZONES = ("Europe/Skopje", "America/Tegucigalpa", "America/Santiago", "Asia/Tehran", "UTC")


def _public(society: Society, code: str, **values: Any) -> ServicePoint:
    defaults: dict[str, Any] = {
        "name": f"Point {code}",
        "latitude": Decimal("41.14"),
        "longitude": Decimal("22.5"),
        "services": ["water", "medicines"],
        "visibility": "public",
        "opening_hours": EVERY_DAY,
    }
    return ServicePoint.objects.create(
        national_society=society.society, code=code, **{**defaults, **values}
    )


def _answer_of_the_point(point: ServicePoint) -> dict[str, Any]:
    """What the API said of a point before entries: the schema over the point itself."""
    fresh = ServicePoint.objects.select_related("national_society").get(pk=point.pk)
    answer: dict[str, Any] = json.loads(render_json(PublicPointOut.from_orm(fresh).model_dump()))
    return answer


def _api(country: str = "") -> dict[str, dict[str, Any]]:
    query = f"?country={country}" if country else ""
    answer = Client().get(f"/api/v1/public/service-points{query}").json()
    return {point["code"]: point for point in answer}


def test_an_action_refreshes_the_entry_in_its_own_transaction(own: Society) -> None:
    point = _public(own, "mk-edit")
    entry = PublicEntry.objects.get(service_point=point)
    assert json.loads(entry.page)["status"] == "open"
    actions.update_service_point(
        own.actor("focal_point"), point, status="temporarily-closed", phone="+38970111222"
    )
    # Read straight from the table (no read of the directory in between).
    entry = PublicEntry.objects.get(service_point=point)
    assert json.loads(entry.page)["status"] == "temporarily-closed"
    assert '"phone": "+38970111222"' in entry.api
    assert precomputed.refresh_points("1 = 1", []) == 0  # nothing left to recompute


def test_a_change_of_the_society_refreshes_its_points_entries(own: Society) -> None:
    point = _public(own, "mk-society")
    own.society.time_zone = "Asia/Tehran"
    own.society.names = {"fr": "Croix-Rouge"}
    own.society.save()
    page = PublicPoint.from_json(
        PublicEntry.objects.get(service_point=point).page,
        PublicEntry.objects.get(service_point=point).hours,
    )
    assert page.hours.zone == "Asia/Tehran"
    assert page.public_society_name("fr") == "Croix-Rouge"
    assert page.public_society_name("es") == own.society.name


def test_a_change_without_signals_is_caught_when_read_and_stored(own: Society) -> None:
    point = _public(own, "mk-quiet", phone="+38970000001")
    ServicePoint.objects.filter(pk=point.pk).update(phone="+38970000002", services=["food"])
    assert _api()["mk-quiet"]["phone"] == "+38970000002"
    assert _api()["mk-quiet"]["services"] == ["food"]
    # The read stored the recomputed entry: the next one has nothing to do.
    assert "+38970000002" in PublicEntry.objects.get(service_point=point).api
    assert precomputed.refresh_points("1 = 1", []) == 0


def test_points_made_without_signals_get_entries_when_read_or_by_the_command(
    own: Society,
) -> None:
    made = ServicePoint.objects.bulk_create(
        ServicePoint(
            national_society=own.society,
            code=f"mk-bulk-{n}",
            name=f"Bulk {n}",
            latitude=Decimal("41"),
            longitude=Decimal("22"),
            visibility="public",
        )
        for n in range(3)
    )
    assert not PublicEntry.objects.filter(service_point__in=made).exists()
    call_command("directory-refresh")
    assert PublicEntry.objects.filter(service_point__in=made).count() == 3
    with connection.cursor() as cursor:  # as a restore from an older backup might leave it
        cursor.execute(f"DELETE FROM {PublicEntry._meta.db_table}")  # noqa: S608
    assert {"mk-bulk-0", "mk-bulk-1", "mk-bulk-2"} <= set(_api())
    assert PublicEntry.objects.filter(service_point__in=made).count() == 3


@pytest.mark.parametrize("hours", AWKWARD_HOURS)
def test_the_api_answers_from_entries_what_the_points_themselves_answer(
    own: Society, monkeypatch: pytest.MonkeyPatch, hours: list[dict[str, Any]]
) -> None:
    own.society.time_zone = "Europe/Skopje"
    own.society.names = {"ar": "الصليب الأحمر"}
    own.society.save()
    points = [
        _public(own, "mk-plain", opening_hours=hours),
        _public(
            own,
            "mk-words",
            opening_hours=hours,
            address="Ulica 1",
            directions="Past the bridge",
            translations={"fr": {"name": "Point « Gevgelija »"}, "ar": {"address": "شارع الجسر"}},
            languages=["mk", "en"],
            last_verified=dt.date(2026, 11, 30),
            status="temporarily-closed",
        ),
    ]
    skopje = zoneinfo.ZoneInfo("Europe/Skopje")
    # Ordinary days, and the nights the clocks change (29 March, 25 October 2026).
    for moment in (
        dt.datetime(2026, 12, 4, 0, 9, tzinfo=skopje),
        dt.datetime(2026, 12, 4, 17, 59, 59, tzinfo=skopje),
        dt.datetime(2026, 3, 28, 23, 30, tzinfo=skopje),
        dt.datetime(2026, 3, 29, 2, 30, tzinfo=dt.UTC),
        dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC),
    ):
        monkeypatch.setattr(timezone, "now", lambda moment=moment: moment.astimezone(dt.UTC))
        answer = _api("HN")
        for point in points:
            assert answer[point.code] == _answer_of_the_point(point), (point.code, moment)


def test_an_entry_holds_the_bytes_the_schema_renders(own: Society) -> None:
    point = _public(own, "mk-bytes", translations={"ps": {"name": "د سرې چلیپا ټکی"}})
    fields = PublicPointOut.from_orm(
        ServicePoint.objects.select_related("national_society").get(pk=point.pk)
    ).model_dump()
    rendered = render_json(fields)
    entry = PublicEntry.objects.get(service_point=point)
    assert rendered.startswith(entry.api)
    assert rendered[len(entry.api) :].startswith(', "open_now": ')


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("hours", AWKWARD_HOURS[1:])
def test_open_now_from_windows_is_open_now_moment_by_moment_through_a_year(
    zone: str, hours: list[dict[str, Any]]
) -> None:
    """Every 97 minutes of 2026 (the days the clocks change in each zone included): the
    windows read at a fixed offset say what the periods as moments say."""
    periods = periods_of(hours)
    precomputed_hours = WeeklyHours(zone, periods, week_of(periods))
    moment = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    while moment.year == 2026:
        local = moment.astimezone(zoneinfo.ZoneInfo(zone))
        expected = _state_by_moments(precomputed_hours, OpeningState(local, "open", True, False))
        got = state_of(precomputed_hours, "open", moment)
        assert (got.open_now, got.until, got.next_opens) == (
            expected.open_now,
            expected.until,
            expected.next_opens,
        ), moment
        moment += dt.timedelta(minutes=97)


def test_at_midnight_a_point_closed_then_is_not_open_on_the_night_the_clocks_change(
    own: Society,
) -> None:
    own.society.time_zone = "America/Santiago"  # its clocks change at midnight
    own.society.save()
    point = _public(own, "cl-night", opening_hours=EVERY_DAY)
    santiago = zoneinfo.ZoneInfo("America/Santiago")
    for day in (dt.date(2026, 4, 5), dt.date(2026, 9, 6), dt.date(2026, 12, 4)):
        for minutes in range(-90, 91, 15):
            moment = dt.datetime.combine(day, dt.time(0), tzinfo=santiago) + dt.timedelta(
                minutes=minutes
            )
            entry = next(p for p in selectors.public_point_list("") if p.code == "cl-night")
            assert not opening_state(entry, moment).open_now
            assert not opening_state(point, moment).open_now


@pytest.fixture
def long_route(own: Society) -> list[ServicePoint]:
    points = [
        _public(own, f"mk-r{n}", latitude=Decimal("41") + n, longitude=Decimal("22"))
        for n in range(4)
    ]
    route = Route.objects.create(network=own.society.network, slug="r", name="R")
    for n, point in enumerate(points):
        RouteStop.objects.create(
            route=route, position=n, service_point=point, hours_from_previous=Decimal(n)
        )
    return points


def test_next_along_reads_legs_refreshed_with_the_stops(
    own: Society, long_route: list[ServicePoint]
) -> None:
    start = PublicPoint.of(long_route[0])
    found = selectors.next_along(start, selectors.public_point_list(""))
    assert [(n.point.code, n.hours, n.km) for n in found] == [
        ("mk-r1", Decimal("1.0"), 111),
        ("mk-r2", Decimal("3.0"), 222),
        ("mk-r3", Decimal("6.0"), 334),
    ]
    assert RouteLeg.objects.count() == 4
    # A point moved through its action: the legs on both sides of it are measured again.
    point = long_route[1]
    actions.update_service_point(own.actor("focal_point"), point, latitude=Decimal("43"))
    found = selectors.next_along(start, selectors.public_point_list(""))
    assert [n.km for n in found] == [222, 222, 334]
    assert precomputed.refresh_legs(Route.objects.values_list("pk", flat=True)) == []


def test_next_along_sees_stops_changed_without_signals(long_route: list[ServicePoint]) -> None:
    route = Route.objects.get()
    RouteStop.objects.filter(position=3).delete()
    RouteStop.objects.bulk_create(
        [RouteStop(route=route, position=3, service_point=long_route[3])]
    )  # no signal: its leg is missing
    RouteStop.objects.filter(position=2).update(hours_from_previous=Decimal("0.5"))
    ServicePoint.objects.filter(pk=long_route[3].pk).update(latitude=Decimal("45"))
    start = PublicPoint.of(long_route[0])
    found = selectors.next_along(start, selectors.public_point_list(""))
    assert [(n.point.code, n.hours, n.km) for n in found] == [
        ("mk-r1", Decimal("1.0"), 111),
        ("mk-r2", Decimal("1.5"), 222),
        ("mk-r3", Decimal("1.5"), 445),
    ]
    assert precomputed.refresh_legs([route.pk]) == []


def test_deleting_a_point_deletes_its_entry(own: Society) -> None:
    point = _public(own, "mk-gone")
    assert PublicEntry.objects.filter(service_point=point).exists()
    point.delete()
    assert not PublicEntry.objects.filter(service_point_id=point.pk).exists()
    assert NationalSociety.objects.filter(pk=own.society.pk).exists()


def test_the_bench_route_is_read_from_entries_and_legs(db: None) -> None:
    from routecare.bench.directory import ROUTE_POINTS, ensure_long_route

    start = ensure_long_route()
    assert PublicEntry.objects.count() == ROUTE_POINTS
    assert RouteLeg.objects.count() == ROUTE_POINTS
    assert precomputed.refresh_all() == (0, 0)
    found = selectors.public_next_along(PublicPoint.of(start), service="medicines")
    assert [n.point.code for n in found] == [f"bench-{n:03d}" for n in (5, 10, 15, 20, 25)]


def test_the_bench_fails_its_targets_on_a_slow_directory() -> None:
    from routecare.bench.orchestrate import TARGETS, meets_targets

    fine = {
        "person_lookup_ms": {"p95": 10.0},
        "encounter_writes_per_s": 500.0,
        "served": {"lookup_floor_ratio": 1.0, "write_floor_ratio": 1.0},
        "encounter_write_statements": 8,
    }
    directory = {"public_api_list_ms": {"p95": 12.0}, "public_page_next_along_ms": {"p95": 40.0}}
    assert meets_targets({**fine, "directory": directory}) is True
    slow_list = {
        **directory,
        "public_api_list_ms": {"p95": TARGETS["public_api_list_p95_ms_max"] + 1},
    }
    assert meets_targets({**fine, "directory": slow_list}) is False
    slow_page = {**directory, "public_page_next_along_ms": {"p95": 61.0}}
    assert meets_targets({**fine, "directory": slow_page}) is False
