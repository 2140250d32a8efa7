"""People seen in a period: the distinct people of a week or a month kept from new encounters.

A rollup's people are distinct: a person seen on five days of a month is one person of the
month. Counting them again over the whole period on each refresh made a refresh on the 28th
cost several times one on the 3rd, for the same new encounters. Instead each rollup keeps the
people it counts (``PeopleSeen``: per person, their current encounters there and the cells
they were counted in), and the refresh of a point and day:

1. reads the point-day's current encounters by person (its people now) and the people its day
   rollup counted (that rollup's ``PeopleSeen`` rows: its people before);
2. rewrites the point's day rollup from its people now (a day is small);
3. in every other rollup the point-day feeds (its week and month; its society, the society's
   HSPs, each route through it) moves each person whose encounters there changed: out of the
   cells they were counted in, into their cells now; added when not seen there yet, removed
   when none of their encounters there is current any more (a correction, a voiding, an
   erasure). People counted in daily counts add up point-day by point-day: the change of the
   point-day's is added as it is.

So a refresh reads the new encounters' days and the rows of their people, never a period's
encounters again, and the figures are those of a recompute from every encounter (the tests
compare them with ``bulk.rebuild_all`` after corrections, voidings and erasures).

A rollup is kept so only once it is complete: ``SeenPeriod`` marks it, with a digest of the
points it covered. One without a mark (built before, or rebuilt in bulk), or whose points
changed since (a stop added to a route, a point that became an HSP), is recomputed from its
encounters once, as every rollup was before, and marked. A marked rollup's point-days with
encounters are all marked too: a point-day without a mark had no current encounter then.

As before, a person whose sex, age band or group changed moves to their new cells in a rollup
when the rollup is next touched by them (today: by an encounter of theirs).

``PeopleSeen`` is personal data (a pseudonymous person linked to places and periods): only
this module reads it, for the refresh; nothing shows it. An erasure takes the person out of
every rollup first (``forget_person``), then the rows go with the person; a retention purge
deletes the rows of the periods it made final (``forget_final``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import Count, Field, Q
from django.db.models.functions import TruncDate

from routecare.flows.models import DailyCount
from routecare.indicators.models import Granularity, PeopleRollup, PeopleSeen, Scope, SeenPeriod
from routecare.indicators.rollups import (
    HEALTH_SERVICES,
    HSP_KINDS,
    NOT_CORRECTED,
    Figures,
    Key,
    RollupRow,
    SeenAtPoints,
    Target,
    _aware,
    _counted,
    _current_encounters,
    add_counted,
    recompute,
    targets_by_pair,
    write_rows,
)
from routecare.orgs.models import RouteStop, ServicePoint
from routecare.people.models import Encounter, Person

Pair = tuple[ServicePoint, dt.date]
PointDay = tuple[Any, dt.date]  # a point's id and a day
CHUNK = 500
# Two refreshes (the periodic job, an erasure) must not both move the same people: on
# PostgreSQL they take turns on this lock; SQLite transactions are IMMEDIATE (one writer).
LOCK = 0x5EE7_0001


class Visits(NamedTuple):
    """A person's current encounters in a rollup, and the cells they are counted in (a named
    tuple: thousands are made a refresh, several times faster than a frozen dataclass)."""

    cells: Key
    encounters: int
    consultations: int


State = dict[Any, Visits]  # by person
Row = tuple[Any, Visits | None]  # a PeopleSeen row's pk (None: new) and what it holds now


def _chunks(values: Iterable[Any]) -> Iterator[list[Any]]:
    values = list(values)
    for first in range(0, len(values), CHUNK):
        yield values[first : first + CHUNK]


def _day_target(point_id: Any, society_id: Any, day: dt.date) -> Target:
    return Target(Granularity.DAY, day, Scope.POINT, point_id, society_id)


def _target_fields(target: Target) -> dict[str, Any]:
    return {
        "granularity": target.granularity,
        "period_start": target.start,
        "scope": target.scope,
        "scope_id": target.scope_id,
        "national_society_id": target.society_id,
    }


def _digest(points: Iterable[Any]) -> str:
    return hashlib.sha256(",".join(sorted(str(point) for point in points)).encode()).hexdigest()


def members(targets: set[Target]) -> dict[Target, str]:
    """What each rollup covers, as a digest: the society's HSPs, the society's points on a
    route; a point and a whole society always cover the same."""
    points: dict[tuple[str, Any, Any], set[Any]] = defaultdict(set)
    societies = {t.society_id for t in targets if t.scope == Scope.SOCIETY_HSP}
    if societies:
        for society, point in ServicePoint.objects.filter(
            national_society_id__in=societies, kind__in=HSP_KINDS
        ).values_list("national_society_id", "pk"):
            points[(Scope.SOCIETY_HSP, society, society)].add(point)
    routes = {t.scope_id for t in targets if t.scope == Scope.ROUTE}
    if routes:
        for route, society, point in RouteStop.objects.filter(route_id__in=routes).values_list(
            "route_id", "service_point__national_society_id", "service_point_id"
        ):
            points[(Scope.ROUTE, route, society)].add(point)
    return {
        t: _digest(points[(t.scope, t.scope_id, t.society_id)])
        if t.scope in (Scope.SOCIETY_HSP, Scope.ROUTE)
        else ""
        for t in targets
    }


def _marks(targets: set[Target]) -> dict[Target, str]:
    found: dict[Target, str] = {}
    for ids in _chunks({t.scope_id for t in targets}):
        rows = SeenPeriod.objects.filter(
            scope_id__in=ids, period_start__in={t.start for t in targets}
        ).values_list(
            "granularity", "period_start", "scope", "scope_id", "national_society_id", "members"
        )
        for granularity, start, scope, scope_id, society, digest in rows:
            target = Target(granularity, start, scope, scope_id, society)
            if target in targets:
                found[target] = digest
    return found


def _mark(target: Target, digest: str) -> None:
    SeenPeriod.objects.update_or_create(**_target_fields(target), defaults={"members": digest})


def _visits_by_day(point_days: set[PointDay], without: Any) -> dict[PointDay, State]:
    """The people of each point-day now: their current encounters there, by person."""
    found: dict[PointDay, State] = {pair: {} for pair in point_days}
    points_by_day: dict[dt.date, set[Any]] = defaultdict(set)
    for point, day in point_days:
        points_by_day[day].add(point)
    for day, points in points_by_day.items():
        encounters = Encounter.objects.filter(
            NOT_CORRECTED,
            service_point_id__in=points,
            occurred_at__gte=_aware(day),
            occurred_at__lt=_aware(day + dt.timedelta(days=1)),
        )
        if without is not None:
            encounters = encounters.exclude(person_id=without)
        for point, person, sex, band, group, n, health in _by_person(
            encounters, "service_point_id"
        ):
            found[(point, day)][person] = Visits((sex, band, group), n, health)
    return found


def _by_person(encounters: Any, *first: str) -> Any:
    return (
        encounters.order_by()
        .values_list(
            *first, "person_id", "person__sex", "person__age_band", "person__population_group"
        )
        .annotate(
            n=Count("id", distinct=True),
            health=Count("id", distinct=True, filter=Q(services__service__in=HEALTH_SERVICES)),
        )
    )


def _seen_rows(needed: Mapping[Target, set[Any]]) -> dict[tuple[Target, Any], Row]:
    """The ``PeopleSeen`` rows of the people who changed in each of these rollups (weeks and
    months), asked by their whole unique key (the rollup's five columns and the person): each
    is one probe of the unique index, so the rows read follow the refresh's new work, not the
    month's. Asking for every row of the people in the period also fetched their rows at every
    other point they had visited that month; asking by (scope, person) alone let SQLite scan
    the whole table and PostgreSQL read every person of a rollup (a refresh on the 28th cost
    1.2–1.3 times one on the 3rd). In SQL of its own, matched on the values as stored:
    thousands of rows a refresh, whose conversion back to ids and dates took most of its
    time."""
    found: dict[tuple[Target, Any], Row] = {}
    if not needed:
        return found
    stored = {target: _stored(target) for target in needed}
    by_key = {_comparable(key): target for target, key in stored.items()}
    person_field = _field("person")
    as_stored: dict[Any, Any] = {}
    people: dict[Any, Any] = {}
    keys: list[tuple[Any, ...]] = []
    for target, persons in needed.items():
        for person in persons:
            value = as_stored.get(person)
            if value is None:
                value = as_stored[person] = person_field.get_db_prep_save(person, connection)
                people[value] = person
            keys.append((*stored[target], value))
    quote = connection.ops.quote_name
    table = quote(PeopleSeen._meta.db_table)
    key_columns = [quote(_field(name).column or "") for name in SEEN_COLUMNS[:6]]
    columns = ", ".join(
        f"seen.{quote(_field(name).column or '')}" for name in ("id", *SEEN_COLUMNS)
    )
    for chunk in _chunks(keys):
        rows = ", ".join(["(" + ", ".join(["%s"] * len(key_columns)) + ")"] * len(chunk))
        if connection.vendor == "postgresql":
            statement = (
                f"SELECT {columns} FROM {table} seen "  # noqa: S608
                f"WHERE ({', '.join(f'seen.{c}' for c in key_columns)}) IN ({rows})"
            )
        else:
            # SQLite scans the table for a row value IN a list; joined with the keys as a
            # table of values, it probes the unique index once a key.
            names = ", ".join(f"k{n}" for n in range(len(key_columns)))
            matched = " AND ".join(f"seen.{c} = wanted.k{n}" for n, c in enumerate(key_columns))
            statement = (
                f"WITH wanted ({names}) AS (VALUES {rows}) "  # noqa: S608
                f"SELECT {columns} FROM wanted JOIN {table} seen ON {matched}"
            )
        with connection.cursor() as cursor:
            cursor.execute(statement, [value for key in chunk for value in key])
            for pk, *key, person, sex, band, group, n, health in cursor.fetchall():
                rollup = by_key.get(_comparable(key))
                if rollup is not None and people[person] in needed[rollup]:
                    visits = Visits((sex, band, group), n, health)
                    found[(rollup, people[person])] = (pk, visits)
    return found


def _comparable(key: Sequence[Any]) -> tuple[Any, ...]:
    """A rollup's five columns with its date as text: SQLite's driver gives dates back as
    dates, written as text."""
    granularity, start, scope, scope_id, society = key
    if isinstance(start, dt.date):
        start = start.isoformat()
    return granularity, start, scope, scope_id, society


def _stored(target: Target) -> tuple[Any, ...]:
    """A rollup's five columns as the database stores them (and returns them)."""
    return tuple(
        _field(name).get_db_prep_save(value, connection)
        for name, value in zip(SEEN_COLUMNS[:5], _target_fields(target).values(), strict=True)
    )


def _day_rows(targets: set[Target]) -> dict[Target, dict[Any, Row]]:
    """The ``PeopleSeen`` rows of point-day rollups, by rollup and person."""
    found: dict[Target, dict[Any, Row]] = defaultdict(dict)
    for ids in _chunks({t.scope_id for t in targets}):
        rows = PeopleSeen.objects.filter(
            granularity=Granularity.DAY,
            scope=Scope.POINT,
            scope_id__in=ids,
            period_start__in={t.start for t in targets},
        ).values_list(
            "pk", "period_start", "scope_id", "national_society_id", "person_id",
            "sex", "age_band", "population_group", "encounters", "consultations",
        )  # fmt: skip
        for pk, day, point, society, person, sex, band, group, n, health in rows:
            target = _day_target(point, society, day)
            if target in targets:
                found[target][person] = (pk, Visits((sex, band, group), n, health))
    return found


def _rollup_rows(targets: set[Target]) -> dict[Target, list[RollupRow]]:
    found: dict[Target, list[RollupRow]] = defaultdict(list)
    for ids in _chunks({t.scope_id for t in targets}):
        rows = PeopleRollup.objects.filter(
            scope_id__in=ids, period_start__in={t.start for t in targets}
        ).values_list(
            "pk", "granularity", "period_start", "scope", "scope_id", "national_society_id",
            "sex", "age_band", "population_group",
            "registered", "counted", "encounters", "consultations",
        )  # fmt: skip
        for row in rows:
            pk, granularity, start, scope, scope_id, society = row[:6]
            target = Target(granularity, start, scope, scope_id, society)
            if target in targets:
                sex, band, group, registered, counted, n, health = row[6:]
                found[target].append((pk, (sex, band, group), (registered, counted, n, health)))
    return found


def _write_seen(rows: dict[tuple[Target, Any], Row]) -> None:
    """Write what changed: rows of people no longer there deleted, the others written over
    (an upsert on the rollup and person), in SQL of its own: thousands of rows a refresh,
    which model instances made several times slower."""
    gone = [pk for pk, now in rows.values() if pk is not None and now is None]
    for chunk in _chunks(gone):
        PeopleSeen.objects.filter(pk__in=chunk).delete()
    stored: dict[Target, tuple[Any, ...]] = {}
    people: dict[Any, Any] = {}
    person = _field("person")
    values = []
    for (target, person_id), (_pk, now) in rows.items():
        if now is None:
            continue
        if target not in stored:
            stored[target] = _stored(target)
        if person_id not in people:
            people[person_id] = person.get_db_prep_save(person_id, connection)
        values.append(
            (
                *stored[target],
                people[person_id],
                *now.cells,
                now.encounters,
                now.consultations,
            )
        )
    if not values:
        return
    quote = connection.ops.quote_name
    names = [quote(_field(name).column or "") for name in SEEN_COLUMNS]
    marks = ", ".join(["%s"] * len(names))
    updated = ", ".join(f"{name} = excluded.{name}" for name in names[6:])
    statement = (
        f"INSERT INTO {quote(PeopleSeen._meta.db_table)} ({', '.join(names)}) "  # noqa: S608
        f"VALUES ({marks}) ON CONFLICT ({names[3]}, {names[0]}, {names[1]}, {names[2]}, "
        f"{names[4]}, {names[5]}) DO UPDATE SET {updated}"
    )
    with connection.cursor() as cursor:
        cursor.executemany(statement, values)


def _field(name: str) -> Field[Any, Any]:
    field = PeopleSeen._meta.get_field(name)
    assert isinstance(field, Field)  # noqa: S101 - the model's own columns
    return field


# In the order _write_seen writes them: the rollup's five, the person, the cells, figures.
SEEN_COLUMNS = (
    "granularity", "period_start", "scope", "scope_id", "national_society",
    "person", "sex", "age_band", "population_group", "encounters", "consultations",
)  # fmt: skip


def _day_figures(
    state: State, counts: list[tuple[int, Any]]
) -> tuple[dict[Key, Figures], dict[Key, int]]:
    """A point-day rollup's figures from its people, and its people counted beyond them."""
    figures: dict[Key, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    known: dict[tuple[str, str], int] = defaultdict(int)
    for visits in state.values():
        cell = figures[visits.cells]
        cell[0] += 1
        cell[2] += visits.encounters
        cell[3] += visits.consultations
        known[visits.cells[:2]] += 1
    extra: dict[Key, int] = defaultdict(int)
    for people, breakdown in counts:
        add_counted(extra, people, breakdown, known)
    for key, number in extra.items():
        figures[key][1] += number
    return {key: (f[0], f[1], f[2], f[3]) for key, f in figures.items()}, dict(extra)


@dataclass
class Change:
    """A person whose encounters at a point-day changed."""

    pair: Pair
    person: Any
    before: Visits | None
    now: Visits | None


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK])


def apply(pairs: Iterable[Pair], without: Any = None) -> int:
    """Bring every rollup these points and days feed up to date (in the caller's transaction);
    how many rows they hold. ``without``: a person being erased, counted as already gone."""
    by_pair = {pair: targets for pair, targets in targets_by_pair(set(pairs)).items() if targets}
    if not by_pair:
        return 0
    _lock()
    day_of = {
        pair: _day_target(pair[0].pk, pair[0].national_society_id, pair[1]) for pair in by_pair
    }
    days = set(day_of.values())
    everything: set[Target] = set().union(*by_pair.values())
    digests = members(everything)
    marks = _marks(everything)
    complete = {t for t in everything if t in marks and marks[t] == digests[t]}
    # A day's rollups above its points are recomputed from the day's encounters: what a day
    # holds does not grow through the month, and keeping their people would cost more.
    higher = {t for t in complete if t.granularity != Granularity.DAY}
    rows = _rollup_rows(everything)
    now = _visits_by_day({(p.pk, day) for p, day in by_pair}, without)
    day_rows = _day_rows(days)
    counts: dict[PointDay, list[tuple[int, Any]]] = defaultdict(list)
    for point, day, people, breakdown in DailyCount.objects.filter(
        service_point_id__in={p.pk for p, _day in by_pair}, day__in={day for _p, day in by_pair}
    ).values_list("service_point_id", "day", "people", "by_sex_and_age"):
        counts[(point, day)].append((people, breakdown))

    held = 0
    changes: list[Change] = []
    counted_change: dict[Pair, dict[Key, int]] = {}
    for pair, target in day_of.items():
        point_day = (pair[0].pk, pair[1])
        state = now[point_day]
        figures, extra = _day_figures(state, counts[point_day])
        before_counted: dict[Key, int] = defaultdict(int)
        for _pk, key, old in rows[target]:
            before_counted[key] += old[1]
        counted_change[pair] = {
            key: extra.get(key, 0) - before_counted.get(key, 0)
            for key in set(extra) | set(before_counted)
        }
        held += write_rows(target, figures, rows[target])
        stored = day_rows.get(target, {})
        before = {person: visits for person, (_pk, visits) in stored.items() if visits}
        if target not in complete:
            before = {}  # never counted: its people were not in any complete rollup
        for person in set(before) | set(state):
            if before.get(person) != state.get(person):
                changes.append(Change(pair, person, before.get(person), state.get(person)))
        written = {
            (target, person): (stored.get(person, (None, None))[0], state.get(person))
            for person in set(stored) | set(state)
            if stored.get(person, (None, None))[1] != state.get(person)
        }
        _write_seen(written)
        if target not in marks:
            _mark(target, "")

    moved, broken = _move(changes, counted_change, by_pair, higher, rows)
    held += moved
    seen_at_points = SeenAtPoints(without)
    for target in (everything - days - higher) | broken:
        if target.granularity == Granularity.DAY:
            held += recompute(target, seen_at_points, without)
        else:
            held += _recompute(target, digests[target], without, seen_at_points)
    return held


def _move(
    changes: list[Change],
    counted_change: dict[Pair, dict[Key, int]],
    by_pair: dict[Pair, set[Target]],
    higher: set[Target],
    rows: dict[Target, list[RollupRow]],
) -> tuple[int, set[Target]]:
    """Move the people who changed in the complete rollups above their point-days; how many
    rows those hold, and the rollups found inconsistent (recomputed instead)."""
    figures: dict[Target, dict[Key, list[int]]] = {}
    for target in higher:
        figures[target] = defaultdict(lambda: [0, 0, 0, 0])
        for _pk, key, old in rows[target]:
            figures[target][key] = [a + b for a, b in zip(figures[target][key], old, strict=True)]
    gone = {change.person for change in changes if change.now is None}
    cells_now: dict[Any, Key] = {}
    for chunk in _chunks(gone):
        for person, sex, band, group in Person.objects.filter(pk__in=chunk).values_list(
            "pk", "sex", "age_band", "population_group"
        ):
            cells_now[person] = (sex, band, group)
    needed: dict[Target, set[Any]] = defaultdict(set)
    for change in changes:
        for target in by_pair[change.pair] & higher:
            needed[target].add(change.person)
    seen = _seen_rows(needed)
    touched: dict[tuple[Target, Any], Row] = {}
    broken: set[Target] = set()
    for change in changes:
        encounters = (change.now.encounters if change.now else 0) - (
            change.before.encounters if change.before else 0
        )
        health = (change.now.consultations if change.now else 0) - (
            change.before.consultations if change.before else 0
        )
        fallback = change.before.cells if change.before else ("", "", "")
        cells = change.now.cells if change.now else cells_now.get(change.person, fallback)
        for target in by_pair[change.pair] & higher:
            pk, had = seen.get((target, change.person), (None, None))
            cell = figures[target]
            if had is not None:
                _add(cell[had.cells], -1, -had.encounters, -had.consultations)
            n = (had.encounters if had else 0) + encounters
            h = (had.consultations if had else 0) + health
            if n < 0 or h < 0 or (n == 0 and h != 0):
                broken.add(target)
            after = Visits(cells, n, h) if n > 0 else None
            if after is not None:
                _add(cell[cells], 1, n, h)
            seen[(target, change.person)] = (pk, after)
            touched[(target, change.person)] = (pk, after)
    for pair, change_of in counted_change.items():
        for key, number in change_of.items():
            for target in by_pair[pair] & higher:
                if number:
                    figures[target][key][1] += number
    held = 0
    for target in higher:
        wanted = {key: (f[0], f[1], f[2], f[3]) for key, f in figures[target].items() if any(f)}
        if any(value < 0 for f in wanted.values() for value in f):
            broken.add(target)
        if target not in broken:
            held += write_rows(target, wanted, rows[target])
    _write_seen({key: row for key, row in touched.items() if key[0] not in broken})
    return held, broken


def _add(cell: list[int], registered: int, encounters: int, consultations: int) -> None:
    cell[0] += registered
    cell[2] += encounters
    cell[3] += consultations


def _recompute(target: Target, digest: str, without: Any, seen_at_points: SeenAtPoints) -> int:
    """Recompute a rollup from its encounters, keep its people and mark it complete, with
    the people of its point-days not marked yet (a complete rollup's point-days are)."""
    encounters = _current_encounters(target)
    if without is not None:
        encounters = encounters.exclude(person_id=without)
    by_day: dict[PointDay, State] = defaultdict(dict)
    people: dict[Any, list[Any]] = {}
    rows = _by_person(
        encounters.annotate(rc_day=TruncDate("occurred_at", tzinfo=dt.UTC)),
        "service_point_id",
        "rc_day",
    )
    for point, day, person, sex, band, group, n, health in rows:
        by_day[(point, day)][person] = Visits((sex, band, group), n, health)
        seen = people.setdefault(person, [(sex, band, group), 0, 0])
        seen[1] += n
        seen[2] += health
    figures: dict[Key, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for cells, n, health in people.values():
        _add(figures[cells], 1, n, health)
    for key, number in _counted(target, seen_at_points).items():
        figures[key][1] += number
    held = write_rows(target, {key: (f[0], f[1], f[2], f[3]) for key, f in figures.items()})
    PeopleSeen.objects.filter(**_target_fields(target)).delete()
    _write_seen(
        {
            (target, person): (None, Visits(cells, n, health))
            for person, (cells, n, health) in people.items()
        }
    )
    _mark(target, digest)
    if target.granularity == Granularity.DAY and target.scope == Scope.POINT:
        return held
    societies = dict(
        ServicePoint.objects.filter(pk__in={point for point, _day in by_day}).values_list(
            "pk", "national_society_id"
        )
    )
    days = {_day_target(point, societies[point], day): (point, day) for point, day in by_day}
    for day_target in set(days) - set(_marks(set(days))):
        state = by_day[days[day_target]]
        PeopleSeen.objects.filter(**_target_fields(day_target)).delete()
        _write_seen({(day_target, person): (None, visits) for person, visits in state.items()})
        _mark(day_target, "")
    return held


def forget_person(person: Person) -> None:
    """Take a person out of every rollup that is not final, as if their encounters were gone
    (before an erasure deletes them; their ``PeopleSeen`` rows go with them)."""
    from routecare.indicators import rollups

    encounters = Encounter.objects.filter(person=person).values_list(
        "service_point_id", "occurred_at"
    )
    point_days = {(point, moment.astimezone(dt.UTC).date()) for point, moment in encounters}
    points = ServicePoint.objects.in_bulk({point for point, _day in point_days})
    rollups.rebuild([(points[point], day) for point, day in point_days], without=person.pk)


def forget_final(society_id: Any, final: dt.date) -> None:
    """Delete what is kept of people for periods a retention purge made final: their rollups
    are never recomputed again."""
    PeopleSeen.objects.filter(national_society_id=society_id, period_start__lt=final).delete()
    SeenPeriod.objects.filter(national_society_id=society_id, period_start__lt=final).delete()


def forget_societies(society_ids: Iterable[Any]) -> None:
    """Before a bulk rebuild: its rollups are complete again only once recomputed here."""
    society_ids = list(society_ids)
    PeopleSeen.objects.filter(national_society_id__in=society_ids).delete()
    SeenPeriod.objects.filter(national_society_id__in=society_ids).delete()
