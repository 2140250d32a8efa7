"""Rollups: people once per society and period, counted-only people added without doubling
registered ones, corrected encounters once, and kept current as encounters arrive."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from typing import Any

from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone

from routecare.conftest import Society, register
from routecare.core import periodic
from routecare.flows.actions import record_daily_count
from routecare.indicators import bulk, rollups
from routecare.indicators.models import Granularity, PeopleRollup, RollupDirty, Scope, ServiceRollup
from routecare.orgs.models import Route, RouteStop
from routecare.people import actions as people_actions


def _total(scope: str, scope_id: uuid.UUID, granularity: str = Granularity.MONTH) -> int:
    rows = PeopleRollup.objects.filter(scope=scope, scope_id=scope_id, granularity=granularity)
    totals = rows.aggregate(r=Sum("registered"), c=Sum("counted"))
    return int(totals["r"] or 0) + int(totals["c"] or 0)


def test_a_person_at_two_points_is_one_person_of_the_society(own: Society) -> None:
    person = register(own)
    people_actions.record_encounter(own.actor(), person, services=[("water", 1)])
    people_actions.record_encounter(
        own.actor(point=own.second_point), person, services=[("health-primary", 1)]
    )
    # Both points today: each point's, the society's and its HSPs' rows, by day, week, month.
    assert rollups.refresh() == "2 point-days refreshed, 12 rows"
    assert not RollupDirty.objects.exists()
    assert _total(Scope.SOCIETY, own.society.pk) == 1
    assert _total(Scope.POINT, own.point.pk) == 1
    assert _total(Scope.POINT, own.second_point.pk) == 1
    society = PeopleRollup.objects.get(
        scope=Scope.SOCIETY, granularity=Granularity.DAY, scope_id=own.society.pk
    )
    assert (society.encounters, society.consultations) == (2, 1)
    assert (society.sex, society.age_band, society.population_group) == (
        "female", "18-59", "on-the-move",
    )  # fmt: skip
    water = ServiceRollup.objects.get(service="water")
    assert (water.quantity, water.encounters) == (1, 1)


def test_counted_people_are_added_beyond_the_registered_ones(own: Society) -> None:
    for _ in range(3):
        person = register(own)
        people_actions.record_encounter(own.actor(), person, services=[("water", 1)])
    # The coordinator counted 10 people today, the 3 registered among them.
    record_daily_count(own.actor("coordinator"), day=timezone.localdate(), people=10)
    rollups.refresh()
    rows = PeopleRollup.objects.filter(
        scope=Scope.POINT, scope_id=own.point.pk, granularity=Granularity.DAY
    )
    assert sum(row.registered for row in rows) == 3
    assert sum(row.counted for row in rows) == 7
    assert _total(Scope.SOCIETY, own.society.pk, Granularity.DAY) == 10


def test_counts_on_several_days_and_points_read_the_registrations_once(
    own: Society, django_assert_max_num_queries: Any
) -> None:
    today = timezone.localdate()
    yesterday = today - dt.timedelta(days=1)
    for point, day, registered in ((own.point, today, 2), (own.second_point, yesterday, 1)):
        for _ in range(registered):
            people_actions.record_encounter(
                own.actor(point=point), register(own), services=[("water", 1)],
                occurred_at=timezone.now() - dt.timedelta(days=(today - day).days),
            )  # fmt: skip
        record_daily_count(own.actor("coordinator", point=point), day=day, people=6)
    pairs = {(own.point.pk, today), (own.second_point.pk, yesterday)}
    seen = rollups.SeenAtPoints()
    assert {pair: sum(cells.values()) for pair, cells in seen.of(pairs).items()} == {
        (own.point.pk, today): 2,
        (own.second_point.pk, yesterday): 1,
    }
    with django_assert_max_num_queries(0):  # known now, for any row that asks
        seen.of({(own.point.pk, today)})
    rollups.refresh()
    # Every row (day, week, month; point, society, HSPs) added the same counted-only people.
    assert _total(Scope.POINT, own.point.pk, Granularity.DAY) == 6
    assert _total(Scope.SOCIETY, own.society.pk, Granularity.DAY) == 12


def test_a_recompute_writes_only_the_rows_that_changed(own: Society) -> None:
    woman, man = register(own), register(own, sex="male")
    for person in (woman, man):
        people_actions.record_encounter(own.actor(), person, services=[("water", 1)])
    rollups.refresh()
    before = dict(PeopleRollup.objects.values_list("pk", "encounters"))
    rollups.rebuild([(own.point, timezone.now().date())])  # nothing new: nothing rewritten
    assert dict(PeopleRollup.objects.values_list("pk", "encounters")) == before
    people_actions.record_encounter(own.actor(), man, services=[("water", 1)])
    rollups.rebuild([(own.point, timezone.now().date())])
    after = PeopleRollup.objects.filter(scope=Scope.POINT, granularity=Granularity.DAY)
    by_sex = {row.sex: row for row in after}
    assert by_sex["female"].pk in before  # unchanged, kept
    assert by_sex["male"].pk not in before  # changed, replaced
    assert (by_sex["male"].registered, by_sex["male"].encounters) == (1, 2)
    assert len(after) == 2


def test_a_breakdown_adds_only_the_missing_cells(own: Society) -> None:
    person = register(own, sex="male")
    people_actions.record_encounter(own.actor(), person, services=[("water", 1)])
    record_daily_count(
        own.actor("coordinator"), day=timezone.localdate(), people=5,
        by_sex_and_age={"male": {"18-59": 2}, "female": {"0-4": 3}},
    )  # fmt: skip
    rollups.refresh()
    counted = {
        (row.sex, row.age_band): row.counted
        for row in PeopleRollup.objects.filter(
            scope=Scope.POINT, granularity=Granularity.DAY, counted__gt=0
        )
    }
    assert counted == {("male", "18-59"): 1, ("female", "0-4"): 3}


def test_a_corrected_encounter_counts_once(own: Society) -> None:
    person = register(own)
    wrong = people_actions.record_encounter(own.actor(), person, services=[("water", 5)])
    people_actions.record_encounter(own.actor(), person, services=[("water", 2)], corrects=wrong)
    rollups.refresh()
    society = PeopleRollup.objects.get(
        scope=Scope.SOCIETY, granularity=Granularity.DAY, scope_id=own.society.pk
    )
    assert society.encounters == 1
    assert ServiceRollup.objects.get(service="water").quantity == 2


def _snapshot() -> tuple[list[Any], list[Any]]:
    people = sorted(
        PeopleRollup.objects.values_list(
            "granularity", "period_start", "scope", "scope_id", "national_society_id", "sex",
            "age_band", "population_group", "registered", "counted", "encounters",
            "consultations",
        )
    )  # fmt: skip
    services = sorted(
        ServiceRollup.objects.values_list(
            "day", "service_point_id", "national_society_id", "service", "quantity", "encounters"
        )
    )
    return people, services


def test_the_bulk_rebuild_writes_what_the_refresh_wrote(own: Society) -> None:
    """Every row, at every granularity and scope: people at two points, on a route, a point
    on the route twice, a correction, health services, days a week and a month apart, other
    groups and a daily count with more people than were registered."""
    route = Route.objects.create(network=own.society.network, slug="r", name="R")
    RouteStop.objects.create(route=route, position=0, service_point=own.point)
    RouteStop.objects.create(route=route, position=1, service_point=own.second_point)
    RouteStop.objects.create(route=route, position=2, service_point=own.point)
    now = timezone.now()
    moments = [
        now,
        now - dt.timedelta(days=1),
        now - dt.timedelta(days=8),
        now - dt.timedelta(days=40),
    ]
    for n, (sex, band, group) in enumerate(
        [("female", "18-59", "on-the-move"), ("male", "0-4", "returnee"),
         ("male", "60+", "host-community"), ("female", "18-59", "on-the-move")]
    ):  # fmt: skip
        person = register(own, sex=sex, age_band=band, population_group=group)
        for when in moments[: n + 1]:
            people_actions.record_encounter(
                own.actor(), person, services=[("water", 1), ("health-primary", 1)],
                occurred_at=when,
            )  # fmt: skip
        wrong = people_actions.record_encounter(
            own.actor(point=own.second_point), person, services=[("food", 3)], occurred_at=now
        )
        people_actions.record_encounter(
            own.actor(point=own.second_point), person, services=[("food", 1)], corrects=wrong
        )
    record_daily_count(own.actor("coordinator"), day=timezone.localdate(), people=30)
    rollups.refresh()
    before = _snapshot()
    today = PeopleRollup.objects.filter(
        scope=Scope.ROUTE, granularity=Granularity.DAY, period_start=timezone.now().date()
    ).aggregate(r=Sum("registered"), c=Sum("counted"), e=Sum("encounters"))
    # A point twice on the route counts its people and encounters once.
    assert today == {"r": 4, "c": 26, "e": 4 + 4}

    assert bulk.rebuild_all().endswith("rows with daily counts recomputed")

    assert _snapshot() == before
    assert not RollupDirty.objects.exists()
    call_command("indicators-rebuild", stdout=io.StringIO())
    assert _snapshot() == before


def test_periods_start_on_mondays_and_first_days() -> None:
    wednesday = dt.date(2026, 11, 18)
    assert rollups.period_start(wednesday, Granularity.WEEK) == dt.date(2026, 11, 16)
    assert rollups.period_start(wednesday, Granularity.MONTH) == dt.date(2026, 11, 1)
    assert rollups.period_end(dt.date(2026, 12, 1), Granularity.MONTH) == dt.date(2027, 1, 1)


def test_the_periodic_job_brings_an_encounter_to_the_dashboards(own: Society) -> None:
    person = register(own)
    people_actions.record_encounter(own.actor(), person, services=[("water", 1)])
    assert _total(Scope.SOCIETY, own.society.pk, Granularity.DAY) == 0  # not yet
    call_command("periodic", "--once", stdout=io.StringIO())
    assert _total(Scope.SOCIETY, own.society.pk, Granularity.DAY) == 1
    assert not RollupDirty.objects.exists()
    # Within its interval (30 s) the job does not run again; after it, it reads again from
    # a few minutes before where it stopped (a late commit is not missed), harmlessly.
    assert "indicators.refresh" not in periodic.run_due(timezone.now())
    later = timezone.now() + dt.timedelta(seconds=31)
    assert periodic.run_due(later)["indicators.refresh"].startswith("1 point-days refreshed")
    assert _total(Scope.SOCIETY, own.society.pk, Granularity.DAY) == 1
