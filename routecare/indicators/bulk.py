"""Rebuilding rollups in bulk: one grouped ``INSERT … SELECT`` per granularity and scope.

The periodic refresh (``rollups.py``) recomputes the rows of the few point-days that changed,
a handful of queries each. After a bulk load, an import or a change of definition, every row
must be rebuilt; done the same way that would be millions of queries. Here the database
groups every current encounter once per granularity and scope and writes the rows itself, so
no encounter passes through Python. People counted in daily counts (which need the registered
people of their point and day, cell by cell) are then added by the ordinary recompute of the
rows they feed.

Rows of periods that a retention purge made final (``rollups.final_before``) are neither
deleted nor written again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import (
    Case,
    Count,
    DateField,
    Exists,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.sql.compiler import SQLCompiler
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
from routecare.indicators.rollups import (
    CACHE_KIND,
    HEALTH_SERVICES,
    HSP_KINDS,
    NOT_CORRECTED,
    STATE,
    SeenAtPoints,
    final_before,
    recompute,
    targets_of,
)
from routecare.indicators.seen import forget_societies
from routecare.orgs.models import NationalSociety, ServicePoint
from routecare.people.models import Encounter, EncounterService

SQLParts = tuple[str, tuple[Any, ...]]


# SQLite stores timestamps as UTC text; 'weekday 0' moves on to the next Sunday (or stays on
# one), six days back is that week's Monday.
SQLITE_MODIFIERS = {"day": "", "week": ", 'weekday 0', '-6 days'", "month": ", 'start of month'"}


class PeriodStart(Func):
    """The first day of the UTC day, week (Monday) or month a timestamp falls in, as a date
    computed by the database (``rollups.period_start`` in SQL)."""

    output_field = DateField()

    def __init__(self, expression: Any, granularity: str) -> None:
        if granularity not in Granularity.values:
            raise ValueError(f"unknown granularity {granularity!r}")
        self.granularity = granularity
        super().__init__(expression)

    def as_sql(  # type: ignore[override]
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> SQLParts:
        raise NotImplementedError(f"PeriodStart is not written for {connection.vendor}")

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> SQLParts:
        column, params = compiler.compile(self.source_expressions[0])
        # Literal, from the fixed choices above: never user input.
        sql = f"(DATE_TRUNC('{self.granularity}', {column} AT TIME ZONE 'UTC'))::date"
        return sql, tuple(params)

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> SQLParts:
        column, params = compiler.compile(self.source_expressions[0])
        return f"date({column}{SQLITE_MODIFIERS[self.granularity]})", tuple(params)


TEMP_TABLE = "rc_current_encounters"


def final_day(society_ref: str, final: dict[Any, dt.date]) -> Case:
    """The society's first day of periods that are not final (a date long past if none)."""
    return Case(
        *(When(**{society_ref: society}, then=Value(day)) for society, day in final.items()),
        default=Value(dt.date(1, 1, 1)),
        output_field=DateField(),
    )


def current_encounters(societies: Iterable[Any]) -> QuerySet[Any]:
    """Every current encounter (not corrected, not a voiding) of the societies with what the
    rollups group by: its period starts, point, society, whether the point is an HSP, the
    person's cells, and whether it delivered a health service. Written once to a temporary
    table, so the twelve grouped queries read one narrow table instead of joining and testing
    each time."""
    health = EncounterService.objects.filter(
        encounter_id=OuterRef("pk"), service__in=HEALTH_SERVICES
    )
    return (
        Encounter.objects.filter(
            NOT_CORRECTED, service_point__national_society_id__in=list(societies)
        )
        .order_by()
        .annotate(
            rc_day=PeriodStart("occurred_at", Granularity.DAY),
            rc_week=PeriodStart("occurred_at", Granularity.WEEK),
            rc_month=PeriodStart("occurred_at", Granularity.MONTH),
            rc_point=F("service_point_id"),
            rc_society=F("service_point__national_society_id"),
            rc_hsp=Case(When(service_point__kind__in=HSP_KINDS, then=1), default=0),
            rc_person=F("person_id"),
            rc_sex=F("person__sex"),
            rc_band=F("person__age_band"),
            rc_group=F("person__population_group"),
            rc_health=Case(When(Exists(health), then=1), default=0),
            rc_final=final_day("service_point__national_society_id", final_before()),
        )
        .values(
            "rc_day", "rc_week", "rc_month", "rc_point", "rc_society", "rc_hsp", "rc_person",
            "rc_sex", "rc_band", "rc_group", "rc_health", "rc_final",
        )
    )  # fmt: skip


# Per scope: what a row is keyed by, and the join or condition that selects its encounters.
# A route's stops are taken once per point (a point twice on a route counts once).
SCOPES: dict[str, tuple[str, str, str]] = {
    Scope.POINT: ("c.rc_point", "", ""),
    Scope.SOCIETY: ("c.rc_society", "", ""),
    Scope.SOCIETY_HSP: ("c.rc_society", "", "AND c.rc_hsp = 1"),
    Scope.ROUTE: (
        "rs.route_id",
        "JOIN (SELECT DISTINCT route_id, service_point_id FROM orgs_routestop) rs "
        "ON rs.service_point_id = c.rc_point",
        "",
    ),
}


def _insert_people(granularity: str, scope: str) -> int:
    key, join, where = SCOPES[scope]
    period = f"c.rc_{granularity}"
    statement = f"""
        INSERT INTO {PeopleRollup._meta.db_table} (granularity, scope, period_start, scope_id,
            national_society_id, sex, age_band, population_group, registered, counted,
            encounters, consultations)
        SELECT %s, %s, {period}, {key}, c.rc_society, c.rc_sex, c.rc_band, c.rc_group,
            COUNT(DISTINCT c.rc_person), 0, COUNT(*), SUM(c.rc_health)
        FROM {TEMP_TABLE} c {join} WHERE {period} >= c.rc_final {where}
        GROUP BY {period}, {key}, c.rc_society, c.rc_sex, c.rc_band, c.rc_group
    """  # noqa: S608 - names and fragments are the fixed ones above
    with connection.cursor() as cursor:
        cursor.execute(statement, [granularity, scope])
        return int(cursor.rowcount)


def service_rows(societies: Iterable[Any]) -> QuerySet[Any]:
    """Services per point and day, as a grouped query over current encounters' lines."""
    replaced = Encounter.objects.filter(corrects_id=OuterRef("encounter_id"))
    final = final_before()
    lines = EncounterService.objects.filter(
        ~Exists(replaced), encounter__service_point__national_society_id__in=list(societies)
    ).annotate(rc_day=PeriodStart("encounter__occurred_at", Granularity.DAY))
    if final:
        society = "encounter__service_point__national_society_id"
        lines = lines.filter(rc_day__gte=final_day(society, final))
    return (
        lines.order_by()
        .annotate(
            rc_point=F("encounter__service_point_id"),
            rc_society=F("encounter__service_point__national_society_id"),
            rc_service=F("service"),
        )
        .values("rc_day", "rc_point", "rc_society", "rc_service")
        .annotate(rc_quantity=Sum("quantity"), rc_encounters=Count("encounter_id", distinct=True))
    )


def _execute(statement: str, params: list[Any] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or None)


def _insert(table: str, columns: dict[str, str], rows: QuerySet[Any], constants: list[Any]) -> int:
    """``INSERT INTO table (columns) SELECT … FROM (rows)``: ``columns`` maps each column to
    the select alias or ``%s`` (the next of ``constants``) that fills it."""
    sql, params = rows.query.sql_with_params()
    quote = connection.ops.quote_name
    names = ", ".join(quote(name) for name in columns)
    values = ", ".join(
        source if source == "%s" else f"rows.{quote(source)}" for source in columns.values()
    )
    statement = f"INSERT INTO {quote(table)} ({names}) SELECT {values} FROM ({sql}) rows"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(statement, [*constants, *params])
        return int(cursor.rowcount)


SERVICE_COLUMNS = {
    "day": "rc_day",
    "service_point_id": "rc_point",
    "national_society_id": "rc_society",
    "service": "rc_service",
    "quantity": "rc_quantity",
    "encounters": "rc_encounters",
}


def _final_rows(day_field: str, final: dict[Any, dt.date]) -> Q:
    rows = Q()
    for society, day in final.items():
        rows |= Q(national_society_id=society, **{f"{day_field}__lt": day})
    return rows


@transaction.atomic
def rebuild_societies(societies: Iterable[NationalSociety]) -> dict[str, int]:
    """Replace every rollup row of these societies; how many rows of each kind were written.
    In one transaction: dashboards read the old rows until the new ones are all there."""
    society_ids = [society.pk for society in societies]
    caching.changed_with_transaction(CACHE_KIND)
    final = final_before()
    old_people = PeopleRollup.objects.filter(national_society_id__in=society_ids)
    old_services = ServiceRollup.objects.filter(national_society_id__in=society_ids)
    if final:
        old_people = old_people.exclude(_final_rows("period_start", final))
        old_services = old_services.exclude(_final_rows("day", final))
    old_people.delete()
    old_services.delete()
    # The people kept for the refresh (``seen``) are rebuilt by it, rollup by rollup.
    forget_societies(society_ids)
    written = {"people_rows": 0, "service_rows": 0, "counted_targets": 0}
    if connection.vendor == "postgresql":
        # Room to sort millions of rows in memory, for this transaction only.
        _execute("SET LOCAL work_mem = '256MB'")
    sql, params = current_encounters(society_ids).query.sql_with_params()
    _execute(f"DROP TABLE IF EXISTS {TEMP_TABLE}")
    _execute(f"CREATE TEMPORARY TABLE {TEMP_TABLE} AS {sql}", list(params))
    for granularity in Granularity.values:
        for scope in Scope.values:
            written["people_rows"] += _insert_people(granularity, scope)
    _execute(f"DROP TABLE {TEMP_TABLE}")
    written["service_rows"] = _insert(
        ServiceRollup._meta.db_table, SERVICE_COLUMNS, service_rows(society_ids), []
    )
    counts = DailyCount.objects.filter(service_point__national_society_id__in=society_ids)
    points = {
        point.pk: point
        for point in ServicePoint.objects.filter(national_society_id__in=society_ids)
    }
    targets = targets_of(
        (points[point_id], day)
        for point_id, day in counts.values_list("service_point_id", "day").distinct()
    )
    seen = SeenAtPoints()
    for target in targets:
        recompute(target, seen)
    written["counted_targets"] = len(targets)
    RollupDirty.objects.filter(service_point_id__in=list(points)).delete()
    return written


def rebuild_all() -> str:
    """Every rollup of every society (after bulk loads, imports, a change of definition)."""
    began = timezone.now()
    written = rebuild_societies(NationalSociety.objects.all())
    # What was recorded while rebuilding is read again by the next refresh.
    RollupState.objects.update_or_create(name=STATE, defaults={"until": began})
    return (
        f"{written['people_rows']} people rows, {written['service_rows']} service rows, "
        f"{written['counted_targets']} rows with daily counts recomputed"
    )
