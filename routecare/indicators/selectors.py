"""Dashboard figures for the acting user, read from the rollups only (never from encounters).

Who sees what: a coordinator their point, a focal point their society, regional staff their
network. Anything shown to someone outside the society that owns the data (regional staff) is
small-cell protected (``disclosure.py``), all the figures of a dashboard together: the same
total shown in two tables and a headline is hidden in all or none.

One definition, one number: the headline, every table's total, the chart, the exports and the
API read the same rollup rows (``_people_rows``). Distinct people are counted once over the
whole selection: a place table's total is the selection's own count, not the sum of its rows
(a person seen at two points is in both rows and once in the total).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

import pycountry
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
    # False when the columns measure different things (people, consultations): no row total.
    row_totals: bool = True
    # Per row, where it is: (ISO 3166-1 alpha-3 country, ISO 3166-2 admin-1 or ""); empty
    # when the rows are not places of one country (periods of several countries).
    places: list[tuple[str, str]] = field(default_factory=list)
    row_keys: list[Any] = field(default_factory=list)  # the society or point of each row

    @property
    def header(self) -> list[str]:
        return [*self.column_labels, *([str(_("Total"))] if self.row_totals else [])]

    @property
    def rows(self) -> list[tuple[str, list[str]]]:
        """Rows then the totals, as text: a hidden cell is empty."""
        shown = self.protected.shown(disclosure.HIDDEN)
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


def _country(society: NationalSociety) -> str:
    found = pycountry.countries.get(alpha_2=society.country_code)
    return found.alpha_3 if found is not None else ""


def _one_country(view: View, filters: Filters) -> str:
    """The selection's country when it is one society's, else ""."""
    societies = [s for s in view.societies if filters.society in (None, s)]
    return _country(societies[0]) if len(societies) == 1 else ""


def _protect_together(whole: _Draft, parts: dict[Any, _Draft]) -> dict[Any, set[str]]:
    """Suppress the cells of every table and the headline figures of the network's draft
    (key None) and each society's (key: the society's id) as one system: the totals a
    dashboard's tables and figures share are linked, and the network's cells are the sums of
    the societies'. A figure hidden in one place is then hidden everywhere, and no small
    cell is recovered by reading one view against another. Protects the drafts' tables in
    place; returns the hidden figures of each draft."""
    drafts: dict[Any, _Draft] = {None: whole, **parts}
    cells: dict[Any, int] = {}
    equations: list[tuple[Any, list[Any]]] = []
    for board, draft in drafts.items():
        for code, value in draft.values.items():
            if code not in PLACES:
                cells[(board, "figure", code)] = value
        for table in draft.tables.values():
            matrix = table.protected.cells
            for i, row in enumerate(matrix):
                for j, count in enumerate(row):
                    cells[(board, table.name, i, j)] = int(count or 0)
            equations += [
                ((board, table.name, *total), [(board, table.name, *cell) for cell in summed])
                for total, summed in disclosure.table_equations(
                    len(matrix), len(matrix[0]), table.row_totals
                )
            ]
        people = (board, "figure", "people-supported")
        for name in ("periods", "sex-age"):
            last = draft.tables[name].protected.cells[-1]
            equations.append(
                (people, [(board, name, len(draft.tables[name].row_labels), len(last) - 1)])
            )
        last_row = len(draft.tables["locations"].row_labels)
        equations.append((people, [(board, "locations", last_row, 0)]))
        equations.append(((board, "figure", "consultations"), [(board, "locations", last_row, 1)]))
    if parts:
        equations += _between(whole, parts)

    def rank(key: Any) -> int:
        """Headline figures first, then totals, when giving back cells: they are read most."""
        if key[1] == "figure":
            return 0
        return 1 if key[2] == len(drafts[key[0]].tables[key[1]].row_labels) else 2

    hidden = disclosure.suppress(cells, equations, rank=rank)
    for board, draft in drafts.items():
        for table in draft.tables.values():
            table.protected = disclosure.ProtectedTable(
                [
                    [
                        None if (board, table.name, i, j) in hidden else value
                        for j, value in enumerate(row)
                    ]
                    for i, row in enumerate(table.protected.cells)
                ]
            )
    return {
        board: {key[2] for key in hidden if key[0] == board and key[1] == "figure"}
        for board in drafts
    }


def _between(whole: _Draft, parts: dict[Any, _Draft]) -> list[tuple[Any, list[Any]]]:
    """The network's figures and cells as sums of the societies'."""
    equations: list[tuple[Any, list[Any]]] = []
    for code in whole.values:
        if code not in PLACES:
            equations.append(((None, "figure", code), [(s, "figure", code) for s in parts]))
    for name in ("periods", "sex-age"):
        matrix = whole.tables[name].protected.cells
        for i, row in enumerate(matrix):
            for j in range(len(row)):
                equations.append(((None, name, i, j), [(s, name, i, j) for s in parts]))
    places = whole.tables["locations"]
    for r, society in enumerate(places.row_keys):
        if society in parts:
            for j in range(2):
                equations.append(((None, "locations", r, j), [(society, "locations", 0, j)]))
    services = whole.tables["services"]
    for r, code in enumerate(services.row_keys):
        for j in range(2):
            equations.append(
                (
                    (None, "services", r, j),
                    [
                        (s, "services", draft.tables["services"].row_keys.index(code), j)
                        for s, draft in parts.items()
                        if code in draft.tables["services"].row_keys
                    ],
                )
            )
    return equations


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


@dataclass
class _Draft:
    """A dashboard's figures before protection."""

    filters: Filters
    start: dt.date
    end: dt.date
    values: dict[str, int]
    tables: dict[str, Table]
    points: list[ServicePoint]
    located: set[Any]
    by_point: dict[Any, int]


# Numbers of places are not about anyone: never suppressed.
PLACES = {"active-points", "locations"}


def build(view: View, filters: Filters, today: dt.date) -> Dashboard:
    """The dashboard. For regional staff every society's own dashboard (what the society
    filter shows) and the network's are protected as one system, so no small cell is
    recovered by setting a society's figures against the network's or another's."""
    if not view.outsider:
        return _finish(view, _draft(view, filters, today), set())
    whole = _draft(view, replace(filters, society=None), today)
    parts = {}
    if len(view.societies) > 1:
        parts = {
            society.pk: _draft(view, replace(filters, society=society), today)
            for society in view.societies
        }
    hidden = _protect_together(whole, parts)
    if filters.society is None or filters.society.pk not in parts:
        return _finish(view, whole, hidden.get(None, set()))
    return _finish(view, parts[filters.society.pk], hidden.get(filters.society.pk, set()))


def _draft(view: View, filters: Filters, today: dt.date) -> _Draft:
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
        training__national_society__in=[s for s in view.societies if filters.society in (None, s)],
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
    country = _one_country(view, filters)
    tables = {
        "periods": _periods_table(people_rows, filters, start, end, country),
        "sex-age": _sex_age_table(people_rows, country),
        "locations": _locations_table(view, filters, people_rows, point_rows, points, values),
        "services": _services_table(point_ids, day_from, day_to, country),
    }
    by_point = dict(
        supported.values_list("scope_id").annotate(n=Sum("registered") + Sum("counted"))
    )
    return _Draft(filters, start, end, values, tables, points, located, by_point)


def _finish(view: View, draft: _Draft, hidden: set[str]) -> Dashboard:
    """Figures, chart and map from a (protected) draft; ``hidden``: the figures hidden."""
    tables, by_point, points, located = draft.tables, draft.by_point, draft.points, draft.located
    figures = [
        Figure(BY_CODE[code], None if code in hidden else value)
        for code, value in draft.values.items()
    ]
    periods = tables["periods"]
    # The chart plots the table's people supported (its total column), hidden cells as gaps.
    series = [
        (label, values_row[-1])
        for label, values_row in zip(periods.row_labels, periods.protected.cells, strict=False)
    ]
    # A point's figure would give away its society's when that is hidden (one point), so
    # regional staff see no figure for the points of a society whose figure is hidden.
    locations_table = tables["locations"]
    covered = {
        key
        for key, row in zip(locations_table.row_keys, locations_table.protected.cells, strict=False)
        if row[0] is None
    }
    locations = [
        {
            "name": point.name,
            "lat": float(point.latitude),
            "lon": float(point.longitude),
            "people": None
            if view.outsider
            and (
                0 < by_point.get(point.pk, 0) < disclosure.THRESHOLD
                or point.national_society_id in covered
            )
            else by_point.get(point.pk, 0),
        }
        for point in points
        if point.pk in located
    ]
    return Dashboard(
        view, draft.filters, draft.start, draft.end, figures, tables, series, locations
    )


def _period_labels(filters: Filters, start: dt.date, end: dt.date) -> list[dt.date]:
    periods, cursor = [], start
    while cursor <= end:
        periods.append(cursor)
        cursor = period_end(cursor, filters.granularity)
    return periods


def _periods_table(
    rows: QuerySet[Any], filters: Filters, start: dt.date, end: dt.date, country: str
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
        disclosure.open_table(cells, 2),
        ["#date", "#reached+registered", "#reached+counted", "#reached+total"],
        places=[(country, "")] * len(periods) if country else [],
    )


AGE_HXL = {"0-4": "infants", "5-11": "children", "12-17": "adolescents", "18-59": "adults",
           "60+": "elderly", "": "unknown_age"}  # fmt: skip


def _sex_age_table(rows: QuerySet[Any], country: str) -> Table:
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
        disclosure.open_table(cells, len(bands)),
        ["#group+sex", *[f"#reached+{AGE_HXL[band]}" for band in bands], "#reached+total"],
        places=[(country, "")] * len(cells) if country else [],
    )


def _locations_table(
    view: View,
    filters: Filters,
    people_rows: QuerySet[Any],
    point_rows: QuerySet[Any],
    points: list[ServicePoint],
    values: dict[str, int],
) -> Table:
    """Regional staff: one row per National Society (its own distinct count, from the same
    rows as the headline, so it follows every filter); a society's staff: one row per point
    (a person seen at two points counts in both rows). The total is the selection's own:
    the headline's people and consultations, never a sum of distinct counts."""
    if view.level == "network":
        societies = {s.pk: s for s in view.societies}
        group = "national_society_id"
        keys: list[Any] = [s.pk for s in view.societies if filters.society in (None, s)]
        labels = [societies[key].name for key in keys]
        places = [(_country(societies[key]), "") for key in keys]
        rows = people_rows
    else:
        group = "scope_id"
        keys = [p.pk for p in points]
        labels = [p.name for p in points]
        places = [(_country(p.national_society), p.admin1_code) for p in points]
        rows = _person_filters(point_rows, filters)
    sums = {
        key: (int(registered or 0) + int(counted or 0), int(consultations or 0))
        for key, registered, counted, consultations in rows.values_list(group).annotate(
            r=Sum("registered"), c=Sum("counted"), h=Sum("consultations")
        )
    }
    cells = [list(sums.get(key, (0, 0))) for key in keys]
    protected = disclosure.open_table(cells, 2, row_totals=False)
    protected.cells[-1][:] = [values["people-supported"], values["consultations"]]
    return Table(
        "locations",
        _("People supported and health consultations by place"),
        labels,
        [str(_("People supported")), str(_("Health consultations"))],
        protected,
        ["#org+name" if view.level == "network" else "#loc+name", "#reached+total",
         "#activity+consultations"],
        row_totals=False,
        places=places,
        row_keys=keys,
    )  # fmt: skip


def _services_table(
    point_ids: list[uuid.UUID], day_from: dt.date, day_to: dt.date, country: str
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
        disclosure.open_table([list(sums[code]) for code in services], 2, row_totals=False),
        ["#sector", "#output+quantity", "#activity+encounters"],
        row_totals=False,
        places=[(country, "")] * len(services) if country else [],
        row_keys=services,
    )
