"""The public directory's precomputed entries (``PublicEntry``, one per service point) and
route legs (``RouteLeg``, one per route stop).

An entry holds what the public API and pages show of a point but for what depends on the
clock ("open now"): its API object as JSON text, its page fields (``entries.PublicPoint``), its
hours as each weekday's opening windows (``hours.WeeklyHours``). A leg holds a stop's hours and
kilometres from the stop before it. Both are refreshed in the transaction that changes their
source: a point, its society, a route or a stop saved or deleted through the ORM (actions, the
admin, imports, the demo loader, the sync's rows; ``apps.py`` connects the signals).

Paths that send no signal (a queryset ``update()``, ``bulk_create``, raw SQL) are caught when
read: every read of entries or legs reads what they were computed from too (the source columns
as text; on PostgreSQL the rows' versions, xmin and ctid, which every write changes) and
compares each entry's digest of it (and each leg's source), and recomputes, stores and uses
what differs. So a
public answer never shows a point other than it is in the database; the ``refresh_directory``
command recomputes everything at once (after a restore, say).
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterable, Sequence
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple

from django.db import DatabaseError, connection, transaction

from routecare.directory.entries import PublicPoint, hours_to_json
from routecare.directory.models import PublicEntry, RouteLeg
from routecare.orgs.models import NationalSociety, Route, RouteStop, ServicePoint

logger = logging.getLogger(__name__)

# Part of every digest: a change of what an entry holds (a new field, another format) makes
# every stored entry differ, and each is recomputed when next read.
FORMAT = "directory-entry-1"

# The source columns an entry is computed from, as text (the same on SQLite and PostgreSQL
# for one database: each digest is compared with one computed on the same database).
_POINT_COLUMNS = (
    "code",
    "name",
    "address",
    "directions",
    "translations",
    "kind",
    "latitude",
    "longitude",
    "services",
    "opening_hours",
    "languages",
    "status",
    "visibility",
    "phone",
    "whatsapp",
    "last_verified",
)
_SOCIETY_COLUMNS = ("country_code", "time_zone", "network_id", "names", "name")


def _table(model: Any) -> str:
    return str(connection.ops.quote_name(model._meta.db_table))


def _text(alias: str, column: str) -> str:
    return f"CAST({alias}.{connection.ops.quote_name(column)} AS TEXT)"


def _version(alias: str) -> str:
    """A PostgreSQL row's version: its transaction and place (``_entries_sql``)."""
    return f"CAST({alias}.xmin AS TEXT) || CAST({alias}.ctid AS TEXT)"


def _entries_sql(where: str, columns: Sequence[str]) -> str:
    """Each point's id, country, name and status, the ``columns`` (of the entry, ``e``), the
    point's source columns as one text and the entry's digest of it."""
    if connection.vendor == "postgresql":
        # Every write of a row, however made, makes a new version of it: another transaction
        # (xmin) or, within one, another place (ctid). The point's and society's versions say
        # whether the entry's source changed, without reading and printing their JSON columns
        # (most of the query's time).
        source = f"{_version('p')} || '|' || {_version('s')}"
    else:
        # NULL (a date not given) reads as a word no text column holds alone.
        source = " || '|' || ".join(
            [f"COALESCE({_text('p', column)}, '~')" for column in _POINT_COLUMNS]
            + [f"COALESCE({_text('s', column)}, '~')" for column in _SOCIETY_COLUMNS]
        )
    kept = "".join(f", {column}" for column in columns)
    # Names and conditions are this module's own; values travel as parameters.
    return (
        f"SELECT p.id, s.country_code, p.name, p.status{kept}, {source}, e.digest"  # noqa: S608
        f" FROM {_table(ServicePoint)} p"
        f" JOIN {_table(NationalSociety)} s ON s.id = p.national_society_id"
        f" LEFT JOIN {_table(PublicEntry)} e ON e.service_point_id = p.id WHERE {where}"
    )


@lru_cache(maxsize=8192)  # a point's source row read again and again while it is unchanged
def _digest(source: str) -> str:
    return hashlib.blake2b(source.encode(), digest_size=16, key=FORMAT.encode()).hexdigest()


@lru_cache(maxsize=65536)
def _uuid(value: Any) -> uuid.UUID:
    """An id as the database gives it (text on SQLite) as a UUID (each parsed once)."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def db_id(value: uuid.UUID) -> Any:
    return ServicePoint._meta.pk.get_db_prep_value(value, connection)


class Entry(NamedTuple):
    """A point's entry as read, after checking it against its point: ``country`` and ``name``
    order a list; ``api`` and ``page`` are there when asked for."""

    id: Any  # the point's, as the database gives it
    country: str
    name: str
    status: str
    services: str
    hours: str
    api: str | None = None
    page: str | None = None


_ENTRY_COLUMNS = ("services", "hours", "api", "page")


def read_entries(where: str, params: Sequence[Any], *, api: bool, page: bool) -> list[Entry]:
    """The entries of the points ``where`` selects (a condition on ``p``, the point, and
    ``s``, its society), each checked against its source row and recomputed if it differs."""
    asked = ("e.services", "e.hours", "e.api" if api else "NULL", "e.page" if page else "NULL")
    sql = _entries_sql(where, asked)
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        rows = cursor.fetchall()
    found: list[Entry] = []
    stale: dict[uuid.UUID, str] = {}
    for row in rows:
        digest = _digest(row[8])
        if row[9] == digest:
            found.append(Entry._make(row[:8]))
        else:
            stale[_uuid(row[0])] = digest
    if stale:
        fresh = {entry.service_point_id: entry for entry in _recompute(stale)}
        for row in rows:
            entry = fresh.get(_uuid(row[0]))
            if entry is not None:
                found.append(
                    Entry(
                        row[0],
                        row[1],
                        row[2],
                        row[3],
                        entry.services,
                        entry.hours,
                        entry.api if api else None,
                        entry.page if page else None,
                    )
                )
    return found


def _recompute(digests: dict[uuid.UUID, str]) -> list[PublicEntry]:
    """The entries of these points computed afresh (``digests``: of the source rows read),
    stored when the database allows it (the answer uses them either way)."""
    points = ServicePoint.objects.select_related("national_society").filter(pk__in=digests)
    entries = [compute_entry(point, digests[point.pk]) for point in points]
    try:
        with transaction.atomic():
            PublicEntry.objects.bulk_create(
                entries,
                update_conflicts=True,
                unique_fields=["service_point"],
                update_fields=["digest", *_ENTRY_COLUMNS],
            )
    except DatabaseError as error:  # a point deleted meanwhile: its entry is not needed
        logger.warning("directory entries not stored: %s", error)
    return entries


def compute_entry(point: ServicePoint, digest: str) -> PublicEntry:
    from routecare.directory.api import PUBLIC_CLOCK_FIELDS, PublicPointOut, render_json

    public = PublicPoint.of(point)
    fields = PublicPointOut.from_orm(point).model_dump(exclude=set(PUBLIC_CLOCK_FIELDS))
    return PublicEntry(
        service_point=point,
        digest=digest,
        services="," + ",".join(public.services) + ",",
        hours=hours_to_json(public.hours),
        api=render_json(fields)[:-1],
        page=public.to_json(),
    )


def refresh_points(where: str, params: Sequence[Any]) -> int:
    """Check and recompute the entries of the points ``where`` selects; how many were."""
    with connection.cursor() as cursor:
        cursor.execute(_entries_sql(where, ()), list(params))
        rows = cursor.fetchall()
    stale = {_uuid(row[0]): digest for row in rows if row[5] != (digest := _digest(row[4]))}
    if stale:
        _recompute(stale)
    return len(stale)


def refresh_point(point_id: uuid.UUID) -> None:
    refresh_points("p.id = %s", [db_id(point_id)])


def refresh_society(society_id: uuid.UUID) -> None:
    refresh_points("p.national_society_id = %s", [db_id(society_id)])


def refresh_all() -> tuple[int, int]:
    """Every entry and leg checked and recomputed where they differ: how many of each."""
    entries = refresh_points("1 = 1", [])
    legs = sum(
        len(refresh_legs([route_id]))
        for route_id in Route.objects.values_list("pk", flat=True).iterator()
    )
    return entries, legs


# --- Route legs -------------------------------------------------------------------------


class Leg(NamedTuple):
    stop_id: int
    position: int
    point_id: uuid.UUID
    hours: Decimal
    km: float


def _legs_sql(where: str) -> str:
    """Each stop's id, route, position, point and hours, what its leg depends on of the stop
    and of its point (their row versions on PostgreSQL, as for entries; else the hours
    and the coordinates), the leg's source and kilometres."""
    if connection.vendor == "postgresql":
        hours = "st.hours_from_previous"
        stop, point = _version("st"), _version("p")
    else:
        hours = stop = _text("st", "hours_from_previous")
        point = f"{_text('p', 'latitude')} || ',' || {_text('p', 'longitude')}"
    return (
        "SELECT st.id, st.route_id, st.position, st.service_point_id,"  # noqa: S608
        f" {hours}, {stop}, {point}, l.source, l.km_from_previous"
        f" FROM {_table(RouteStop)} st JOIN {_table(ServicePoint)} p"
        " ON p.id = st.service_point_id"
        f" LEFT JOIN {_table(RouteLeg)} l ON l.route_stop_id = st.id WHERE {where}"
        " ORDER BY st.route_id, st.position"
    )


def legs_through(point_id: uuid.UUID) -> dict[uuid.UUID, list[Leg]]:
    """The legs of every route through the point, by route, each in the order of its stops
    (checked against their stops and points, recomputed where they differ)."""
    routes = f"SELECT route_id FROM {_table(RouteStop)} WHERE service_point_id = %s"  # noqa: S608
    where = f"st.route_id IN ({routes})"
    return _read_legs(where, [db_id(point_id)])


def refresh_legs(route_ids: Iterable[Any]) -> list[int]:
    """Check and recompute the legs of these routes; the stops whose leg was."""
    ids = [db_id(_uuid(route_id)) for route_id in route_ids]
    if not ids:
        return []
    stale: list[int] = []
    _read_legs(f"st.route_id IN ({', '.join(['%s'] * len(ids))})", ids, stale)
    return stale


_TENTH = Decimal("0.1")


@lru_cache(maxsize=4096)
def _hours(value: Any) -> Decimal:
    """Stored hours with their one decimal, as the ORM reads them (2.0, never 2)."""
    return Decimal(str(value)).quantize(_TENTH)


def _read_legs(
    where: str, params: Sequence[Any], stale: list[int] | None = None
) -> dict[uuid.UUID, list[Leg]]:
    with connection.cursor() as cursor:
        cursor.execute(_legs_sql(where), list(params))
        rows = cursor.fetchall()
    routes: dict[uuid.UUID, list[Leg]] = {}
    changed: dict[int, str] = {}
    previous: tuple[Any, str] | None = None  # (route, point source) of the stop before
    for stop_id, route, position, point, hours, stop, point_source, source, km in rows:
        before = previous[1] if previous is not None and previous[0] == route else ""
        expected = f"{stop}|{before}>{point_source}"
        previous = (route, point_source)
        if source != expected:
            changed[stop_id] = expected
        leg = Leg(stop_id, position, _uuid(point), _hours(hours), km or 0.0)
        routes.setdefault(_uuid(route), []).append(leg)
    if changed:
        kilometres = _recompute_legs(changed)
        for route_id, legs in routes.items():
            routes[route_id] = [
                Leg(leg.stop_id, leg.position, leg.point_id, leg.hours, kilometres[leg.stop_id])
                if leg.stop_id in kilometres
                else leg
                for leg in legs
            ]
        if stale is not None:
            stale.extend(changed)
    return routes


def _recompute_legs(sources: dict[int, str]) -> dict[int, float]:
    """The kilometres of these stops' legs (by ``distance_km`` between the two points, as
    ``next_along`` always measured them), stored when the database allows it."""
    from routecare.directory.selectors import distance_km

    routes = RouteStop.objects.filter(pk__in=sources).values("route_id")
    stops = RouteStop.objects.filter(route_id__in=routes).select_related("service_point")
    kilometres: dict[int, float] = {}
    rows = []
    before: RouteStop | None = None
    for stop in stops.order_by("route_id", "position"):
        if stop.pk in sources:
            km = 0.0
            if before is not None and before.route_id == stop.route_id:
                km = distance_km(before.service_point, stop.service_point)
            kilometres[stop.pk] = km
            rows.append(RouteLeg(route_stop=stop, source=sources[stop.pk], km_from_previous=km))
        before = stop
    try:
        with transaction.atomic():
            RouteLeg.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["route_stop"],
                update_fields=["source", "km_from_previous"],
            )
    except DatabaseError as error:  # a stop deleted meanwhile: its leg is not needed
        logger.warning("route legs not stored: %s", error)
    return kilometres


def route_names(route_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    return dict(Route.objects.filter(pk__in=list(route_ids)).values_list("pk", "name"))


def page_points(entries: Iterable[Entry]) -> list[PublicPoint]:
    return [public_point(entry.page, entry.hours) for entry in entries if entry.page]


@lru_cache(maxsize=4096)
def public_point(page: str, hours: str) -> PublicPoint:
    """An entry's page fields read: each distinct entry once per process (keyed by its very
    text, so a changed entry is read afresh; a PublicPoint is never changed)."""
    return PublicPoint.from_json(page, hours)
