"""Rollups kept from new encounters only (``seen.py``): the figures of a recompute from every
encounter after each refresh, through revisits, corrections, voidings, daily counts, a stop
added to a route and an erasure; a refresh that never reads a month's encounters again; and
the people kept for it, gone with an erasure and with a retention purge."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from routecare.conftest import Society, register
from routecare.flows.actions import record_daily_count
from routecare.indicators import bulk, rollups
from routecare.indicators.models import (
    Granularity,
    PeopleRollup,
    PeopleSeen,
    RollupState,
    Scope,
    SeenPeriod,
)
from routecare.orgs.models import Route, RouteStop
from routecare.people import actions as people_actions
from routecare.people.models import Person
from routecare.retention.actions import erase_person, purge_society, seen_before, set_policy

NOW = timezone.now()
# The 15th of last month: days before it in its month, and refreshed after them.
MID_MONTH = (NOW.replace(day=1) - dt.timedelta(days=1)).replace(day=15, hour=12)


def _snapshot() -> list[Any]:
    return sorted(
        PeopleRollup.objects.values_list(
            "granularity", "period_start", "scope", "scope_id", "national_society_id", "sex",
            "age_band", "population_group", "registered", "counted", "encounters",
            "consultations",
        )
    )  # fmt: skip


class _UndoError(Exception):
    pass


def _rebuilt() -> list[Any]:
    """The rows a recompute from every encounter writes, without keeping them."""
    try:
        with transaction.atomic():
            bulk.rebuild_all()
            rows = _snapshot()
            raise _UndoError
    except _UndoError:
        return rows


def _seen(own: Society, person: Person, when: dt.datetime, **kwargs: Any) -> Any:
    point = kwargs.pop("point", own.point)
    services = kwargs.pop("services", [("water", 1)])
    return people_actions.record_encounter(
        own.actor(point=point), person, services=services, occurred_at=when, **kwargs
    )


def test_refreshes_through_a_month_agree_with_a_recompute_from_every_encounter(
    own: Society,
) -> None:
    route = Route.objects.create(network=own.society.network, slug="r", name="R")
    RouteStop.objects.create(route=route, position=0, service_point=own.point)
    ana, ben = register(own), register(own, sex="male", age_band="0-4")
    cleo = register(own, population_group="returnee")
    day = MID_MONTH - dt.timedelta(days=10)
    first = _seen(own, ana, day)
    _seen(own, ben, day, services=[("health-primary", 1)])
    wrong = _seen(own, cleo, day)
    rollups.refresh()
    assert SeenPeriod.objects.filter(granularity=Granularity.MONTH, scope=Scope.SOCIETY).exists()
    assert _snapshot() == _rebuilt()

    # Revisits on later days, at the other point too, a new person, a daily count.
    dan = register(own, sex="male")
    for later in (day + dt.timedelta(days=1), MID_MONTH):
        _seen(own, ana, later, point=own.second_point, services=[("health-primary", 1)])
        _seen(own, dan, later)
    _seen(own, ben, MID_MONTH)
    record_daily_count(own.actor("coordinator"), day=MID_MONTH.date(), people=9)
    rollups.refresh()
    assert _snapshot() == _rebuilt()

    # A correction and a voiding of encounters days back; a stop added to the route.
    _seen(own, cleo, day, corrects=wrong, services=[("health-primary", 1)])
    people_actions.void_encounter(own.actor(), first, reason="recorded twice")
    RouteStop.objects.create(route=route, position=1, service_point=own.second_point)
    _seen(own, dan, MID_MONTH, point=own.second_point)
    rollups.refresh()
    assert _snapshot() == _rebuilt()
    month = PeopleRollup.objects.filter(
        granularity=Granularity.MONTH, scope=Scope.ROUTE, scope_id=route.pk
    )
    assert sum(row.registered for row in month) == 4  # Ana still, at the second point

    rollups.refresh()  # nothing new: nothing changes
    assert _snapshot() == _rebuilt()


def test_a_person_whose_sex_or_group_changes_moves_to_their_new_cells_at_once(
    own: Society,
) -> None:
    ana = register(own)
    for n in range(3):
        _seen(own, ana, MID_MONTH - dt.timedelta(days=n), services=[("health-primary", 1)])
    _seen(own, ana, NOW, point=own.second_point)
    rollups.refresh()
    month = PeopleRollup.objects.filter(granularity=Granularity.MONTH, scope=Scope.SOCIETY)
    assert set(month.filter(registered__gt=0).values_list("sex", flat=True)) == {"female"}
    # As if read long ago: the next refresh reads none of her encounters again (it re-reads
    # the last few minutes before the last run, rollups.OVERLAP).
    ahead = timezone.now() + rollups.OVERLAP * 2
    RollupState.objects.filter(name=rollups.STATE).update(until=ahead)

    people_actions.update_person(own.actor(), ana, {"sex": "male", "population_group": "returnee"})
    rollups.refresh()  # no new encounter of hers: the change alone moves her
    assert set(month.filter(registered__gt=0).values_list("sex", flat=True)) == {"male"}
    assert _snapshot() == _rebuilt()

    people_actions.update_person(own.actor(), ana, {"languages": ["es"]})
    rollups.refresh()
    assert _snapshot() == _rebuilt()


def test_an_erased_person_leaves_every_rollup_as_if_never_seen(own: Society) -> None:
    ana, ben = register(own), register(own)
    for n in range(3):
        _seen(own, ana, MID_MONTH - dt.timedelta(days=n), services=[("health-primary", 1)])
        _seen(own, ben, MID_MONTH - dt.timedelta(days=n), point=own.second_point)
    record_daily_count(own.actor("coordinator"), day=MID_MONTH.date(), people=3)
    rollups.refresh()
    assert PeopleSeen.objects.filter(person=ben).exists()
    society_month = PeopleRollup.objects.filter(granularity=Granularity.MONTH, scope=Scope.SOCIETY)
    assert sum(society_month.values_list("registered", flat=True)) == 2

    erase_person(own.actor("focal_point"), ben, typed_code=ben.short_code)

    assert not PeopleSeen.objects.filter(person_id=ben.pk).exists()
    assert sum(society_month.values_list("registered", flat=True)) == 1
    assert _snapshot() == _rebuilt()


def test_a_refresh_never_reads_the_months_encounters_again(own: Society) -> None:
    people = [register(own) for _ in range(3)]
    for n in range(1, 14):
        _seen(own, people[n % 3], MID_MONTH - dt.timedelta(days=n))
    _seen(own, people[1], MID_MONTH, point=own.second_point)
    rollups.refresh()
    _seen(own, people[0], MID_MONTH)
    _seen(own, register(own), MID_MONTH)
    with CaptureQueriesContext(connection) as queries:
        rollups.rebuild([(own.point, MID_MONTH.date())])
    read = [q["sql"] for q in queries.captured_queries if "people_encounter" in q["sql"]]
    days = {day for sql in read for day in re.findall(r"occurred_at\W* >= '([0-9-]{10})", sql)}
    # The new encounters' day only: not the days before it in its week and month.
    assert days == {MID_MONTH.date().isoformat()}
    assert _snapshot() == _rebuilt()


def test_the_purge_deletes_the_people_kept_for_periods_it_made_final(own: Society) -> None:
    long_ago = NOW - dt.timedelta(days=270)
    person = register(own)
    Person.objects.filter(pk=person.pk).update(created_at=long_ago - dt.timedelta(days=1))
    _seen(own, person, long_ago)
    _seen(own, person, NOW)
    rollups.refresh()
    final = seen_before(6, NOW).date()
    assert PeopleSeen.objects.filter(person=person, period_start__lt=final).exists()
    set_policy(own.actor("focal_point"), inactive_months=6, purge_enabled=True)

    purge_society(own.society, apply=True)

    assert Person.objects.filter(pk=person.pk).exists()  # seen this month: kept
    assert not PeopleSeen.objects.filter(period_start__lt=final).exists()
    assert not SeenPeriod.objects.filter(period_start__lt=final).exists()
    assert PeopleSeen.objects.filter(person=person, period_start__gte=final).exists()
