"""Rollups: the counts dashboards read, recomputed from encounters and daily counts.

``refresh`` (the periodic job, every 30 seconds) finds the encounters and daily counts
recorded since its last run — a few minutes more, for transactions that committed late —
marks their points and days dirty, and recomputes every row those feed: the point's, its
society's (all points, and humanitarian service points only) and those of each route through
it, for the day, its week and its month. Nothing is added to the recording of an encounter.
The distinct people of a week or a month are kept from the new encounters' people only
(``seen.py``), so a refresh on the 28th of a month costs what one on the 3rd does.
``bulk.rebuild_all`` rebuilds everything at once (after bulk loads and imports).

Days are UTC days here (encounters are stored in UTC); daily counts are the day their
coordinator entered.

Rows of periods that start before a society's ``aggregates_final_before`` (set by a retention
purge, see ``retention``) are final: the encounters they count may have been deleted, so they
are never recomputed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from routecare.core import caching
from routecare.flows.models import DailyCount
from routecare.indicators.models import (
    Granularity,
    PeopleRollup,
    RollupDirty,
    RollupState,
    Scope,
    ServiceRollup,
)
from routecare.orgs.models import RouteStop, ServicePoint
from routecare.orgs.taxonomy import Service
from routecare.people.models import Encounter, EncounterService, PopulationGroup, is_current
from routecare.retention.models import RetentionPolicy

HEALTH_SERVICES = (
    Service.FIRST_AID,
    Service.HEALTH_PRIMARY,
    Service.HEALTH_MATERNAL_CHILD,
    Service.MEDICINES,
    Service.TRANSPORT_MEDICAL,
)
# The core.caching kind of what is computed from rollups (dashboards): rebuilding drops it.
CACHE_KIND = "indicators"
HSP_KINDS = (ServicePoint.Kind.FIXED_HSP, ServicePoint.Kind.MOBILE_HSP)
# Current encounters only: no later encounter corrects them and they withdraw no other (a
# voiding encounter is no visit). The name is older than voiding encounters.
NOT_CORRECTED = is_current()
UNKNOWN_SEX = "undisclosed"


def period_start(day: dt.date, granularity: str) -> dt.date:
    if granularity == Granularity.WEEK:
        return day - dt.timedelta(days=day.weekday())
    if granularity == Granularity.MONTH:
        return day.replace(day=1)
    return day


def period_end(start: dt.date, granularity: str) -> dt.date:
    if granularity == Granularity.WEEK:
        return start + dt.timedelta(days=7)
    if granularity == Granularity.MONTH:
        return (start + dt.timedelta(days=32)).replace(day=1)
    return start + dt.timedelta(days=1)


def _aware(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), dt.UTC)


@dataclass(frozen=True)
class Target:
    granularity: str
    start: dt.date
    scope: str
    scope_id: Any
    society_id: Any

    @property
    def end(self) -> dt.date:
        return period_end(self.start, self.granularity)


def _scope_points(target: Target) -> Q:
    """Which encounters and counts the row covers, by their service point."""
    if target.scope == Scope.POINT:
        return Q(service_point_id=target.scope_id)
    in_society = Q(service_point__national_society_id=target.society_id)
    if target.scope == Scope.SOCIETY_HSP:
        return in_society & Q(service_point__kind__in=HSP_KINDS)
    if target.scope == Scope.ROUTE:
        on_route = RouteStop.objects.filter(route_id=target.scope_id).values("service_point_id")
        return in_society & Q(service_point_id__in=on_route)
    return in_society


def _current_encounters(target: Target) -> QuerySet[Encounter]:
    """Encounters of the period that no later correction replaced or withdrew."""
    return Encounter.objects.filter(
        _scope_points(target),
        NOT_CORRECTED,
        occurred_at__gte=_aware(target.start),
        occurred_at__lt=_aware(target.end),
    )


Key = tuple[str, str, str]  # sex, age band, population group


def _registered(target: Target, without: Any = None) -> dict[Key, dict[str, int]]:
    encounters = _current_encounters(target)
    if without is not None:
        encounters = encounters.exclude(person_id=without)
    rows = encounters.values_list(
        "person__sex", "person__age_band", "person__population_group"
    ).annotate(
        people=Count("person_id", distinct=True),
        encounters=Count("id", distinct=True),
        consultations=Count("id", distinct=True, filter=Q(services__service__in=HEALTH_SERVICES)),
    )
    return {
        (sex, band, group): {"registered": people, "encounters": n, "consultations": health}
        for sex, band, group, people, n, health in rows
    }


# Registered people per point and day, by sex and age band: what daily counts are compared with.
Seen = dict[tuple[Any, dt.date], dict[tuple[str, str], int]]


class SeenAtPoints:
    """``Seen`` for the point-days a rebuild's targets ask about, read once for all of them: a
    point-day's registrations are the same whichever row (day, week, month; point, society,
    route) its daily count feeds. Before, every target read them again over its whole period."""

    def __init__(self, without: Any = None) -> None:
        self.known: Seen = {}
        self.read: set[tuple[Any, dt.date]] = set()
        self.without = without  # a person being erased: counted as if already gone

    def of(self, pairs: set[tuple[Any, dt.date]]) -> Seen:
        missing = pairs - self.read
        if missing:
            self._read(missing)
        return {pair: self.known[pair] for pair in pairs if pair in self.known}

    def _read(self, pairs: set[tuple[Any, dt.date]]) -> None:
        days = [day for _point, day in pairs]
        encounters = Encounter.objects.filter(
            NOT_CORRECTED,
            service_point_id__in={point for point, _day in pairs},
            occurred_at__gte=_aware(min(days)),
            occurred_at__lt=_aware(max(days) + dt.timedelta(days=1)),
        )
        if self.without is not None:
            encounters = encounters.exclude(person_id=self.without)
        seen = (
            encounters.annotate(day=TruncDate("occurred_at"))
            .values_list("service_point_id", "day", "person__sex", "person__age_band")
            .annotate(people=Count("person_id", distinct=True))
        )
        for point_id, day, sex, band, people in seen:
            self.known.setdefault((point_id, day), {})[(sex, band)] = people
        # Read over the whole span: the point-days in between are known now too.
        self.read |= pairs | set(self.known)


def _counted(target: Target, seen: SeenAtPoints) -> dict[Key, int]:
    """People entered in daily counts beyond those registered at the point that day: only
    they are added, so a point that registers everyone and also counts is not doubled."""
    counts = list(
        DailyCount.objects.filter(
            _scope_points(target), day__gte=target.start, day__lt=target.end
        ).values_list("service_point_id", "day", "people", "by_sex_and_age")
    )
    if not counts:
        return {}
    registered = seen.of({(point_id, day) for point_id, day, *_rest in counts})
    extra: dict[Key, int] = defaultdict(int)
    for point_id, day, people, breakdown in counts:
        add_counted(extra, people, breakdown, registered.get((point_id, day), {}))
    return dict(extra)


def add_counted(
    extra: dict[Key, int], people: int, breakdown: Any, known: dict[tuple[str, str], int]
) -> None:
    """Add one point-day's count beyond ``known``, its registered people by sex and band."""
    group = PopulationGroup.ON_THE_MOVE
    if breakdown:
        for sex, bands in breakdown.items():
            for band, number in bands.items():
                missing = number - known.get((sex, band), 0)
                if missing > 0:
                    extra[(sex, band, group)] += missing
    else:
        missing = people - sum(known.values())
        if missing > 0:
            extra[(UNKNOWN_SEX, "", group)] += missing


def recompute(target: Target, seen: SeenAtPoints | None = None, without: Any = None) -> int:
    """Bring the target's rows up to date; the number of rows it holds. Only rows whose
    figures changed are written (most of a month's rows do not change in 30 seconds).
    ``seen``: shared by the targets of one rebuild. ``without``: a person being erased."""
    registered = _registered(target, without)
    counted = _counted(target, seen or SeenAtPoints(without))
    wanted = {
        key: (
            registered.get(key, {}).get("registered", 0),
            counted.get(key, 0),
            registered.get(key, {}).get("encounters", 0),
            registered.get(key, {}).get("consultations", 0),
        )
        for key in set(registered) | set(counted)
    }
    return write_rows(target, wanted)


# A rollup row's figures: registered, counted, encounters, consultations.
Figures = tuple[int, int, int, int]
RollupRow = tuple[Any, Key, Figures]  # pk, cells, figures


def existing_rows(target: Target) -> list[RollupRow]:
    rows = PeopleRollup.objects.filter(
        granularity=target.granularity,
        period_start=target.start,
        scope=target.scope,
        scope_id=target.scope_id,
        national_society_id=target.society_id,
    ).values_list(
        "pk", "sex", "age_band", "population_group",
        "registered", "counted", "encounters", "consultations",
    )  # fmt: skip
    return [
        (pk, (sex, band, group), (registered, counted, encounters, consultations))
        for pk, sex, band, group, registered, counted, encounters, consultations in rows
    ]


def write_rows(
    target: Target, wanted: dict[Key, Figures], existing: list[RollupRow] | None = None
) -> int:
    """Make the target's rows ``wanted``, writing only the rows whose figures changed; the
    number of rows it holds. ``existing``: its rows as read already."""
    if existing is None:
        existing = existing_rows(target)
    kept: set[Key] = set()
    stale = []
    for pk, key, figures in existing:
        if wanted.get(key) == figures and key not in kept:
            kept.add(key)
        else:
            stale.append(pk)
    if stale:
        PeopleRollup.objects.filter(pk__in=stale).delete()
    PeopleRollup.objects.bulk_create(
        PeopleRollup(
            granularity=target.granularity,
            period_start=target.start,
            scope=target.scope,
            scope_id=target.scope_id,
            national_society_id=target.society_id,
            sex=key[0],
            age_band=key[1],
            population_group=key[2],
            registered=figures[0],
            counted=figures[1],
            encounters=figures[2],
            consultations=figures[3],
        )
        for key, figures in wanted.items()
        if key not in kept
    )
    return len(wanted)


def recompute_services(point: ServicePoint, day: dt.date, without: Any = None) -> None:
    # The point's encounters of the day first (their index), then their service lines: a
    # join from the service lines makes SQLite scan them all.
    encounters = Encounter.objects.filter(
        NOT_CORRECTED,
        service_point=point,
        occurred_at__gte=_aware(day),
        occurred_at__lt=_aware(day + dt.timedelta(days=1)),
    )
    if without is not None:
        encounters = encounters.exclude(person_id=without)
    lines = (
        EncounterService.objects.filter(encounter_id__in=encounters.values("pk"))
        .values_list("service")
        .annotate(quantity=Sum("quantity"), encounters=Count("encounter_id", distinct=True))
    )
    ServiceRollup.objects.filter(service_point=point, day=day).delete()
    ServiceRollup.objects.bulk_create(
        ServiceRollup(
            day=day,
            service_point=point,
            national_society_id=point.national_society_id,
            service=service,
            quantity=quantity,
            encounters=encounters,
        )
        for service, quantity, encounters in lines
    )


def final_before() -> dict[Any, dt.date]:
    """Per society, the day before which rollup periods are final (after a purge)."""
    policies = RetentionPolicy.objects.filter(aggregates_final_before__isnull=False)
    return {
        society: day
        for society, day in policies.values_list("national_society_id", "aggregates_final_before")
        if day is not None
    }


def targets_of(pairs: Iterable[tuple[ServicePoint, dt.date]]) -> set[Target]:
    """Every row a point and day feed, but final ones."""
    return set().union(*targets_by_pair(pairs).values())


def targets_by_pair(
    pairs: Iterable[tuple[ServicePoint, dt.date]],
) -> dict[tuple[ServicePoint, dt.date], set[Target]]:
    """The rows each point and day feed, but final ones."""
    pairs = list(pairs)
    final = final_before()
    routes: dict[Any, set[Any]] = defaultdict(set)
    for route_id, point_id in RouteStop.objects.filter(
        service_point_id__in={point.pk for point, _ in pairs}
    ).values_list("route_id", "service_point_id"):
        routes[point_id].add(route_id)
    targets: dict[tuple[ServicePoint, dt.date], set[Target]] = {}
    for point, day in pairs:
        of_pair = targets.setdefault((point, day), set())
        society = point.national_society_id
        for granularity in Granularity.values:
            start = period_start(day, granularity)
            if society in final and start < final[society]:
                continue
            of_pair.add(Target(granularity, start, Scope.POINT, point.pk, society))
            of_pair.add(Target(granularity, start, Scope.SOCIETY, society, society))
            if point.kind in HSP_KINDS:
                of_pair.add(Target(granularity, start, Scope.SOCIETY_HSP, society, society))
            for route_id in routes[point.pk]:
                of_pair.add(Target(granularity, start, Scope.ROUTE, route_id, society))
    return targets


@transaction.atomic
def rebuild(pairs: Iterable[tuple[ServicePoint, dt.date]], without: Any = None) -> int:
    """Bring the rows these points and days feed up to date; how many rows they hold. The
    people of a week or a month are kept from new encounters only (``seen.py``): a refresh
    late in a month costs what it costs early in it. ``without``: a person being erased,
    taken out of every row as if already gone."""
    from routecare.indicators import seen  # it builds on this module
    from routecare.indicators.regional import store

    pairs = list(pairs)
    caching.changed_with_transaction(CACHE_KIND)
    store.changed(
        {day for _point, day in pairs}, {point.national_society_id for point, _day in pairs}
    )
    final = final_before()
    for point, day in set(pairs):
        if point.national_society_id not in final or day >= final[point.national_society_id]:
            recompute_services(point, day, without)
    return seen.apply(pairs, without)


# What a person's rollup cells are made of (``seen``): a change to one recounts them.
CELL_FIELDS = frozenset({"sex", "age_band", "population_group"})


def person_changed(sender: object, person: Any, fields: Iterable[str], **kwargs: object) -> None:
    """A person's sex, age band or group changed (``people.signals.person_changed``): every
    point and day of theirs is recounted at the next refresh, so they move to their new cells
    in every rollup not final, at once rather than at their next encounter."""
    if CELL_FIELDS.isdisjoint(fields):
        return
    pairs = set(
        Encounter.objects.filter(person=person)
        .annotate(day=TruncDate("occurred_at"))
        .values_list("service_point_id", "day")
    )
    RollupDirty.objects.bulk_create(
        (RollupDirty(service_point_id=point, day=day) for point, day in pairs),
        ignore_conflicts=True,
    )


# Read again on each run: a transaction that began before the last run may commit after it.
OVERLAP = dt.timedelta(minutes=5)
STATE = "rollups"


def _collect(since: dt.datetime) -> None:
    recorded = Encounter.objects.filter(recorded_at__gte=since)
    pairs = set(
        recorded.annotate(day=TruncDate("occurred_at")).values_list("service_point_id", "day")
    )
    # A correction (or a voiding) changes the day of the encounter it replaces too.
    pairs |= set(
        recorded.filter(corrects__isnull=False)
        .annotate(day=TruncDate("corrects__occurred_at"))
        .values_list("corrects__service_point_id", "day")
    )
    pairs |= set(
        DailyCount.objects.filter(updated_at__gte=since).values_list("service_point_id", "day")
    )
    RollupDirty.objects.bulk_create(
        (RollupDirty(service_point_id=point, day=day) for point, day in pairs),
        ignore_conflicts=True,
    )


def refresh(now: dt.datetime | None = None) -> str:
    """Recompute what was recorded since the last run (the periodic job)."""
    now = now or timezone.now()
    state = RollupState.objects.filter(name=STATE).first()
    _collect((state.until if state else now) - OVERLAP)
    RollupState.objects.update_or_create(name=STATE, defaults={"until": now})
    return _rebuild_dirty()


def refresh_since(since: dt.datetime) -> str:
    """Recompute what was recorded since a moment (after loading the demo, say)."""
    _collect(since)
    return _rebuild_dirty()


def _rebuild_dirty() -> str:
    dirty = list(RollupDirty.objects.select_related("service_point")[:5000])
    if not dirty:
        return "nothing to refresh"
    rows = rebuild((entry.service_point, entry.day) for entry in dirty)
    RollupDirty.objects.filter(pk__in=[entry.pk for entry in dirty]).delete()
    return f"{len(dirty)} point-days refreshed, {rows} rows"
