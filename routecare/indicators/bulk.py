"""Rebuilding rollups in bulk: one grouped ``INSERT … SELECT`` per granularity and scope.

The periodic refresh (``rollups.py``) recomputes the rows of the few point-days that changed,
a handful of queries each. After a bulk load, an import or a change of definition, every row
must be rebuilt; done the same way that would be millions of queries. Here the database
groups every current encounter once per granularity and scope and writes the rows itself, so
no encounter passes through Python. People counted in daily counts (which need the registered
people of their point and day, cell by cell) are then added by the ordinary recompute of the
rows they feed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import (
    Count,
    DateField,
    Exists,
    F,
    Func,
    OuterRef,
    QuerySet,
    Sum,
)
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone

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
    HEALTH_SERVICES,
    HSP_KINDS,
    NOT_CORRECTED,
    STATE,
    recompute,
    targets_of,
)
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


def _scope_key(scope: str) -> F:
    if scope == Scope.POINT:
        return F("service_point_id")
    if scope == Scope.ROUTE:
        return F("service_point__route_stops__route_id")
    return F("service_point__national_society_id")


def people_rows(granularity: str, scope: str, societies: Iterable[Any]) -> QuerySet[Any]:
    """The rollup rows of one granularity and scope, as a grouped query over encounters."""
    encounters = Encounter.objects.filter(
        NOT_CORRECTED, service_point__national_society_id__in=list(societies)
    )
    if scope == Scope.SOCIETY_HSP:
        encounters = encounters.filter(service_point__kind__in=HSP_KINDS)
    if scope == Scope.ROUTE:
        encounters = encounters.filter(service_point__route_stops__isnull=False)
    health = EncounterService.objects.filter(
        encounter_id=OuterRef("pk"), service__in=HEALTH_SERVICES
    )
    # A point twice on one route would join its encounters twice: count them distinct there.
    distinct = scope == Scope.ROUTE
    return (
        encounters.order_by()
        .annotate(
            rc_period=PeriodStart("occurred_at", granularity),
            rc_scope=_scope_key(scope),
            rc_society=F("service_point__national_society_id"),
            rc_sex=F("person__sex"),
            rc_band=F("person__age_band"),
            rc_group=F("person__population_group"),
        )
        .values("rc_period", "rc_scope", "rc_society", "rc_sex", "rc_band", "rc_group")
        .annotate(
            rc_registered=Count("person_id", distinct=True),
            rc_encounters=Count("id", distinct=distinct),
            rc_consultations=Count("id", distinct=distinct, filter=Exists(health)),
        )
    )


def service_rows(societies: Iterable[Any]) -> QuerySet[Any]:
    """Services per point and day, as a grouped query over current encounters' lines."""
    replaced = Encounter.objects.filter(corrects_id=OuterRef("encounter_id"))
    return (
        EncounterService.objects.filter(
            ~Exists(replaced), encounter__service_point__national_society_id__in=list(societies)
        )
        .order_by()
        .annotate(
            rc_day=PeriodStart("encounter__occurred_at", Granularity.DAY),
            rc_point=F("encounter__service_point_id"),
            rc_society=F("encounter__service_point__national_society_id"),
            rc_service=F("service"),
        )
        .values("rc_day", "rc_point", "rc_society", "rc_service")
        .annotate(rc_quantity=Sum("quantity"), rc_encounters=Count("encounter_id", distinct=True))
    )


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


PEOPLE_COLUMNS = {
    "granularity": "%s",
    "scope": "%s",
    "period_start": "rc_period",
    "scope_id": "rc_scope",
    "national_society_id": "rc_society",
    "sex": "rc_sex",
    "age_band": "rc_band",
    "population_group": "rc_group",
    "registered": "rc_registered",
    "counted": "%s",
    "encounters": "rc_encounters",
    "consultations": "rc_consultations",
}
SERVICE_COLUMNS = {
    "day": "rc_day",
    "service_point_id": "rc_point",
    "national_society_id": "rc_society",
    "service": "rc_service",
    "quantity": "rc_quantity",
    "encounters": "rc_encounters",
}


@transaction.atomic
def rebuild_societies(societies: Iterable[NationalSociety]) -> dict[str, int]:
    """Replace every rollup row of these societies; how many rows of each kind were written.
    In one transaction: dashboards read the old rows until the new ones are all there."""
    society_ids = [society.pk for society in societies]
    PeopleRollup.objects.filter(national_society_id__in=society_ids).delete()
    ServiceRollup.objects.filter(national_society_id__in=society_ids).delete()
    written = {"people_rows": 0, "service_rows": 0, "counted_targets": 0}
    for granularity in Granularity.values:
        for scope in Scope.values:
            written["people_rows"] += _insert(
                PeopleRollup._meta.db_table,
                PEOPLE_COLUMNS,
                people_rows(granularity, scope, society_ids),
                [granularity, scope, 0],
            )
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
    for target in targets:
        recompute(target)
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
