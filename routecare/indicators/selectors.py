"""Dashboard figures for the acting user, read from the rollups only (never from encounters).

Who sees what: a coordinator their point, a focal point their society, regional staff their
network. Anything shown to someone outside the society that owns the data (regional staff) is
small-cell protected (``disclosure.py``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet, Sum
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from routecare.access import Actor
from routecare.core import caching
from routecare.indicators import disclosure
from routecare.indicators.definitions import BY_CODE, Indicator
from routecare.indicators.models import (
    Granularity,
    PeopleRollup,
    Scope,
    ServiceRollup,
    TrainingAttendance,
)
from routecare.indicators.rollups import CACHE_KIND, period_end, period_start
from routecare.orgs.models import NationalSociety, Role, Route, RouteStop, ServicePoint
from routecare.orgs.taxonomy import AgeBand, Service, Sex
from routecare.people.models import PopulationGroup
from routecare.referrals.models import Referral


@dataclass(frozen=True)
class Filters:
    granularity: str = Granularity.MONTH
    start: dt.date | None = None
    end: dt.date | None = None
    society: NationalSociety | None = None
    route: Route | None = None
    point: ServicePoint | None = None
    sex: str = ""
    age_band: str = ""
    population_group: str = ""


@dataclass(frozen=True)
class View:
    """What the actor may look at, and whether small cells are suppressed for them."""

    societies: list[NationalSociety]
    points: list[ServicePoint]
    routes: list[Route]
    outsider: bool
    level: str  # "point", "society" or "network"


def view_for(actor: Actor) -> View | None:
    if actor.role == Role.REGIONAL and actor.network_id is not None:
        societies = list(NationalSociety.objects.filter(network_id=actor.network_id))
        level, outsider = "network", True
    elif actor.role in (Role.FOCAL_POINT, Role.COORDINATOR) and actor.national_society_id:
        societies = list(NationalSociety.objects.filter(pk=actor.national_society_id))
        level, outsider = "society", False
        if actor.role == Role.COORDINATOR:
            if actor.service_point is None:
                return None
            return View(societies, [actor.service_point], [], False, "point")
    else:
        return None
    points = list(
        ServicePoint.objects.filter(national_society__in=societies).select_related(
            "national_society"
        )
    )
    routes = list(Route.objects.filter(stops__service_point__in=points).distinct().order_by("name"))
    return View(societies, points, routes, outsider, level)


@dataclass(frozen=True)
class Figure:
    indicator: Indicator
    value: int | None  # None: suppressed


@dataclass
class Table:
    name: str
    title: Promise
    row_labels: list[str]
    column_labels: list[str]
    protected: disclosure.ProtectedTable
    hxl: list[str] = field(default_factory=list)  # one tag per column, the label column first

    @property
    def rows(self) -> list[tuple[str, list[str]]]:
        shown = self.protected.shown()
        return list(zip([*self.row_labels, str(_("Total"))], shown, strict=True))


@dataclass
class Dashboard:
    view: View
    filters: Filters
    start: dt.date
    end: dt.date
    figures: list[Figure]
    tables: dict[str, Table]
    series: list[tuple[str, int | None]]
    locations: list[dict[str, Any]]


def _range(filters: Filters, today: dt.date) -> tuple[dt.date, dt.date]:
    granularity = filters.granularity
    end = period_start(filters.end or today, granularity)
    default_back = {"day": 30, "week": 12 * 7, "month": 365}[granularity]
    start = period_start(filters.start or (end - dt.timedelta(days=default_back)), granularity)
    return start, end


def _people_rows(view: View, filters: Filters, start: dt.date, end: dt.date) -> QuerySet[Any]:
    """The rollup rows the people figures come from: the chosen point's, route's or the
    societies' own rows (where each person is counted once)."""
    rows = PeopleRollup.objects.filter(
        granularity=filters.granularity, period_start__gte=start, period_start__lte=end
    )
    society_ids = [s.pk for s in view.societies]
    if filters.society is not None:
        society_ids = [s for s in society_ids if s == filters.society.pk]
    rows = rows.filter(national_society_id__in=society_ids)
    if view.level == "point":
        rows = rows.filter(scope=Scope.POINT, scope_id=view.points[0].pk)
    elif filters.point is not None:
        rows = rows.filter(scope=Scope.POINT, scope_id=filters.point.pk)
    elif filters.route is not None:
        rows = rows.filter(scope=Scope.ROUTE, scope_id=filters.route.pk)
    else:
        rows = rows.filter(scope=Scope.SOCIETY)
    return _person_filters(rows, filters)


def _person_filters(rows: QuerySet[Any], filters: Filters) -> QuerySet[Any]:
    if filters.sex:
        rows = rows.filter(sex=filters.sex)
    if filters.age_band:
        rows = rows.filter(age_band=filters.age_band)
    if filters.population_group:
        rows = rows.filter(population_group=filters.population_group)
    return rows


def _people(rows: QuerySet[Any]) -> int:
    totals = rows.aggregate(registered=Sum("registered"), counted=Sum("counted"))
    return int(totals["registered"] or 0) + int(totals["counted"] or 0)


def _points_in_view(view: View, filters: Filters) -> list[ServicePoint]:
    points = view.points
    if filters.society is not None:
        points = [p for p in points if p.national_society_id == filters.society.pk]
    if filters.point is not None:
        points = [p for p in points if p.pk == filters.point.pk]
    if filters.route is not None:
        on_route = set(
            RouteStop.objects.filter(route=filters.route).values_list("service_point_id", flat=True)
        )
        points = [p for p in points if p.pk in on_route]
    return points


def _protect(view: View, cells: list[list[int]], columns: int) -> disclosure.ProtectedTable:
    if view.outsider:
        return disclosure.protect(cells, columns)
    return disclosure.open_table(cells, columns)


# Dashboards are cached (core.caching kind rollups.CACHE_KIND): a change of what they count
# drops them (apps.py, rollups.rebuild, bulk.rebuild_societies); other processes see it within
# DASHBOARD_SECONDS, the dashboards' own refresh interval.
DASHBOARD_SECONDS = 30


def dashboard(view: View, filters: Filters, today: dt.date) -> Dashboard:
    """``build``, shared for ``DASHBOARD_SECONDS`` by everyone with the same view and filters
    in the same language (the pages and API refresh dashboards this often)."""
    parts = (
        view.level,
        view.outsider,
        sorted(str(society.pk) for society in view.societies),
        sorted(str(point.pk) for point in view.points),
        filters.granularity, filters.start, filters.end,
        *(str(item.pk) if item else "" for item in (filters.society, filters.route, filters.point)),
        filters.sex, filters.age_band, filters.population_group,
        today,
        translation.get_language(),
    )  # fmt: skip
    # Shared, not copied: unpickling a dashboard cost 5 ms; pages and API only read it.
    return caching.remember(
        CACHE_KIND, parts, DASHBOARD_SECONDS, lambda: build(view, filters, today), shared=True
    )


def build(view: View, filters: Filters, today: dt.date) -> Dashboard:
    start, end = _range(filters, today)
    people_rows = _people_rows(view, filters, start, end)
    points = _points_in_view(view, filters)
    point_ids = [p.pk for p in points]
    day_from, day_to = start, period_end(end, filters.granularity)
    # The points' rows of the chosen periods (they cover the same days as their day rows,
    # in a thirtieth of the rows for months): active points, places and the map.
    point_rows = PeopleRollup.objects.filter(
        scope=Scope.POINT,
        granularity=filters.granularity,
        period_start__gte=start,
        period_start__lte=end,
        scope_id__in=point_ids,
    )
    by_group = {
        group: _people(people_rows.filter(population_group=group))
        for group in PopulationGroup.values
    }
    hsp_rows = _person_filters(
        PeopleRollup.objects.filter(
            scope=Scope.SOCIETY_HSP,
            granularity=filters.granularity,
            period_start__gte=start,
            period_start__lte=end,
            national_society_id__in={p.national_society_id for p in points},
        ),
        filters,
    )
    route_rows = _person_filters(
        PeopleRollup.objects.filter(
            scope=Scope.ROUTE,
            granularity=filters.granularity,
            period_start__gte=start,
            period_start__lte=end,
            national_society_id__in={p.national_society_id for p in points},
            population_group=PopulationGroup.ON_THE_MOVE,
        ),
        filters,
    )
    if filters.route is not None:
        route_rows = route_rows.filter(scope_id=filters.route.pk)
    if view.level == "point" or filters.point is not None:
        # One point: its own people on the move, when it is on a route.
        on_route = RouteStop.objects.filter(service_point_id__in=point_ids).exists()
        route_rows = people_rows.filter(population_group=PopulationGroup.ON_THE_MOVE)
        if not on_route:
            route_rows = route_rows.none()
    active = point_rows.values("scope_id").distinct().count()
    supported = point_rows.filter(Q(registered__gt=0) | Q(counted__gt=0))
    located = set(supported.values_list("scope_id", flat=True))
    trained = TrainingAttendance.objects.filter(
        training__national_society__in=view.societies,
        training__day__gte=day_from,
        training__day__lt=day_to,
    )
    if view.level == "point" or filters.point is not None:
        trained = trained.filter(training__service_point_id__in=point_ids)
    referrals = Referral.objects.filter(
        from_point_id__in=point_ids,
        created_at__date__gte=day_from,
        created_at__date__lt=day_to,
    ).count()
    values = {
        "people-supported": _people(people_rows),
        "people-on-the-move": _people(route_rows),
        "returnees": by_group[PopulationGroup.RETURNEE],
        "host-community": by_group[PopulationGroup.HOST_COMMUNITY],
        "people-through-hsps": _people(hsp_rows),
        "active-points": active,
        "trained": int(trained.aggregate(n=Sum("people"))["n"] or 0),
        "consultations": int(people_rows.aggregate(n=Sum("consultations"))["n"] or 0),
        "referrals": referrals,
        "locations": len(located),
    }
    # Outside the owning society every count of people or of what was done for them is
    # protected; numbers of places are not about anyone.
    places = {"active-points", "locations"}
    figures = [
        Figure(
            BY_CODE[code],
            None
            if view.outsider and code not in places and 0 < value < disclosure.THRESHOLD
            else value,
        )
        for code, value in values.items()
    ]
    tables = {
        "periods": _periods_table(view, people_rows, filters, start, end),
        "sex-age": _sex_age_table(view, people_rows),
        "locations": _locations_table(view, filters, points, start, end),
        "services": _services_table(view, point_ids, day_from, day_to),
    }
    periods = tables["periods"]
    series = [
        (label, values_row[0])
        for label, values_row in zip(periods.row_labels, periods.protected.cells, strict=False)
    ]
    by_point = dict(
        supported.values_list("scope_id").annotate(n=Sum("registered") + Sum("counted"))
    )
    locations = [
        {
            "name": point.name,
            "lat": float(point.latitude),
            "lon": float(point.longitude),
            "people": None
            if view.outsider and 0 < by_point.get(point.pk, 0) < disclosure.THRESHOLD
            else by_point.get(point.pk, 0),
        }
        for point in points
        if point.pk in located
    ]
    return Dashboard(view, filters, start, end, figures, tables, series, locations)


def _period_labels(filters: Filters, start: dt.date, end: dt.date) -> list[dt.date]:
    periods, cursor = [], start
    while cursor <= end:
        periods.append(cursor)
        cursor = period_end(cursor, filters.granularity)
    return periods


def _periods_table(
    view: View, rows: QuerySet[Any], filters: Filters, start: dt.date, end: dt.date
) -> Table:
    sums: dict[dt.date, list[int]] = defaultdict(lambda: [0, 0])
    for period, registered, counted in rows.values_list("period_start").annotate(
        r=Sum("registered"), c=Sum("counted")
    ):
        sums[period] = [int(registered or 0), int(counted or 0)]
    periods = _period_labels(filters, start, end)
    cells = [[sums[p][0], sums[p][1]] for p in periods]
    return Table(
        "periods",
        _("People supported by period"),
        [p.isoformat() for p in periods],
        [str(_("Registered")), str(_("Counted, not registered"))],
        _protect(view, cells, 2),
        ["#date", "#reached+registered", "#reached+counted", "#reached+total"],
    )


AGE_HXL = {"0-4": "infants", "5-11": "children", "12-17": "adolescents", "18-59": "adults",
           "60+": "elderly", "": "unknown_age"}  # fmt: skip


def _sex_age_table(view: View, rows: QuerySet[Any]) -> Table:
    bands = [*AgeBand.values, ""]
    sums = {
        (sex, band): int(registered or 0) + int(counted or 0)
        for sex, band, registered, counted in rows.values_list("sex", "age_band").annotate(
            r=Sum("registered"), c=Sum("counted")
        )
    }
    cells = [[sums.get((sex, band), 0) for band in bands] for sex in Sex.values]
    labels = dict(AgeBand.choices)
    return Table(
        "sex-age",
        _("People supported by sex and age band"),
        [str(label) for label in Sex.labels],
        [str(labels.get(band, _("Age not known"))) for band in bands],
        _protect(view, cells, len(bands)),
        ["#group+sex", *[f"#reached+{AGE_HXL[band]}" for band in bands], "#reached+total"],
    )


def _locations_table(
    view: View, filters: Filters, points: list[ServicePoint], start: dt.date, end: dt.date
) -> Table:
    """Regional staff: one row per National Society (its own unique count); a society's
    staff: one row per point (a person seen at two points counts in both rows)."""
    if view.level == "network":
        rows = _person_filters(
            PeopleRollup.objects.filter(
                scope=Scope.SOCIETY,
                granularity=filters.granularity,
                period_start__gte=start,
                period_start__lte=end,
                national_society__in=view.societies,
            ),
            filters,
        )
        keys: list[Any] = [s.pk for s in view.societies]
        labels = [f"{s.country_code} · {s.name}" for s in view.societies]
        group = "national_society_id"
    else:
        rows = _person_filters(
            PeopleRollup.objects.filter(
                scope=Scope.POINT,
                granularity=filters.granularity,
                period_start__gte=start,
                period_start__lte=end,
                scope_id__in=[p.pk for p in points],
            ),
            filters,
        )
        keys = [p.pk for p in points]
        labels = [p.name for p in points]
        group = "scope_id"
    sums = {
        key: (int(registered or 0) + int(counted or 0), int(consultations or 0))
        for key, registered, counted, consultations in rows.values_list(group).annotate(
            r=Sum("registered"), c=Sum("counted"), h=Sum("consultations")
        )
    }
    cells = [list(sums.get(key, (0, 0))) for key in keys]
    return Table(
        "locations",
        _("People supported and health consultations by place"),
        labels,
        [str(_("People supported")), str(_("Health consultations"))],
        _protect(view, cells, 2),
        ["#org+name" if view.level == "network" else "#loc+name", "#reached+total",
         "#activity+consultations", "#meta+row_total"],
    )  # fmt: skip


def _services_table(
    view: View, point_ids: list[uuid.UUID], day_from: dt.date, day_to: dt.date
) -> Table:
    sums = {
        service: (int(quantity or 0), int(encounters or 0))
        for service, quantity, encounters in ServiceRollup.objects.filter(
            service_point_id__in=point_ids, day__gte=day_from, day__lt=day_to
        )
        .values_list("service")
        .annotate(q=Sum("quantity"), e=Sum("encounters"))
    }
    services = [code for code in Service.values if code in sums]
    labels = dict(Service.choices)
    return Table(
        "services",
        _("Services delivered by type"),
        [str(labels[code]) for code in services],
        [str(_("Quantity")), str(_("Encounters"))],
        _protect(view, [list(sums[code]) for code in services], 2),
        ["#sector", "#output+quantity", "#activity+encounters", "#meta+row_total"],
    )
