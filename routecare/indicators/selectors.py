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
from dataclasses import dataclass, field
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
    return _view(societies, outsider, level)


def _view(societies: list[NationalSociety], outsider: bool, level: str) -> View:
    points = list(
        ServicePoint.objects.filter(national_society__in=societies).select_related(
            "national_society"
        )
    )
    routes = list(Route.objects.filter(stops__service_point__in=points).distinct().order_by("name"))
    return View(societies, points, routes, outsider, level)


def network_view(network_id: Any) -> View | None:
    """What the network's regional staff look at (None: a network without societies)."""
    societies = list(NationalSociety.objects.filter(network_id=network_id))
    return _view(societies, True, "network") if societies else None


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
    # When the figures were read, where they are kept computed ahead (regional staff's).
    computed_at: dt.datetime | None = None


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


def one_country(view: View, filters: Filters) -> str:
    """The selection's country when it is one society's, else ""."""
    societies = [s for s in view.societies if filters.society in (None, s)]
    return _country(societies[0]) if len(societies) == 1 else ""


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
class Draft:
    """A dashboard's figures before protection."""

    filters: Filters
    start: dt.date
    end: dt.date
    values: dict[str, int]
    tables: dict[str, Table]
    points: list[ServicePoint]
    located: set[Any]
    by_point: dict[Any, int | None]  # None: hidden (regional staff)


# Numbers of places are not about anyone: never suppressed.
PLACES = {"active-points", "locations"}


def build(view: View, filters: Filters, today: dt.date) -> Dashboard:
    """The dashboard. Regional staff's dashboards are slices of one protected system of every
    view they may ask for (``regional``): no small cell is recovered by setting one view
    against another."""
    if view.outsider:
        # It builds on this module.
        from routecare.indicators import regional

        return regional.build(view, filters, today)
    return finish(view, _draft(view, filters, today), set())


def _draft(view: View, filters: Filters, today: dt.date) -> Draft:
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
    country = one_country(view, filters)
    periods = period_labels(filters.granularity, start, end)
    by_period = _period_sums(people_rows)
    places = _place_rows(view, filters, people_rows, point_rows, points)
    place_cells = disclosure.open_table(places.cells, 2, row_totals=False)
    # The total is the selection's own distinct count, never the sum of its rows.
    place_cells.cells[-1][:] = [values["people-supported"], values["consultations"]]
    services = _service_sums(point_ids, day_from, day_to)
    codes = [code for code in Service.values if code in services]
    tables = {
        "periods": periods_table(
            disclosure.open_table([list(by_period[p]) for p in periods], 2), periods, country
        ),
        "sex-age": sex_age_table(
            disclosure.open_table(_sex_age_cells(people_rows), len(BANDS)), country
        ),
        "locations": locations_table(view, place_cells, places),
        "services": services_table(
            disclosure.open_table([list(services[c]) for c in codes], 2, row_totals=False),
            codes,
            country,
        ),
    }
    by_point = dict(
        supported.values_list("scope_id").annotate(n=Sum("registered") + Sum("counted"))
    )
    return Draft(filters, start, end, values, tables, points, located, by_point)


def finish(view: View, draft: Draft, hidden: set[str]) -> Dashboard:
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
    # Regional staff's drafts hold None for a point whose figure is hidden (``regional``).
    locations = [
        {
            "name": point.name,
            "lat": float(point.latitude),
            "lon": float(point.longitude),
            "people": by_point.get(point.pk, 0),
        }
        for point in points
        if point.pk in located
    ]
    return Dashboard(
        view, draft.filters, draft.start, draft.end, figures, tables, series, locations
    )


def period_labels(granularity: str, start: dt.date, end: dt.date) -> list[dt.date]:
    periods, cursor = [], start
    while cursor <= end:
        periods.append(cursor)
        cursor = period_end(cursor, granularity)
    return periods


def _period_sums(rows: QuerySet[Any]) -> dict[dt.date, tuple[int, int]]:
    sums: dict[dt.date, tuple[int, int]] = defaultdict(lambda: (0, 0))
    for period, registered, counted in rows.values_list("period_start").annotate(
        r=Sum("registered"), c=Sum("counted")
    ):
        sums[period] = (int(registered or 0), int(counted or 0))
    return sums


def periods_table(
    protected: disclosure.ProtectedTable, periods: list[dt.date], country: str
) -> Table:
    """People by period: registered, counted (not registered), total; a row per period."""
    return Table(
        "periods",
        _("People supported by period"),
        [p.isoformat() for p in periods],
        [str(_("Registered")), str(_("Counted, not registered"))],
        protected,
        ["#date", "#reached+registered", "#reached+counted", "#reached+total"],
        places=[(country, "")] * len(periods) if country else [],
    )


AGE_HXL = {"0-4": "infants", "5-11": "children", "12-17": "adolescents", "18-59": "adults",
           "60+": "elderly", "": "unknown_age"}  # fmt: skip
BANDS = [*AgeBand.values, ""]  # the sex-age table's columns: the bands, then age not known


def _sex_age_cells(rows: QuerySet[Any]) -> list[list[int]]:
    sums = {
        (sex, band): int(registered or 0) + int(counted or 0)
        for sex, band, registered, counted in rows.values_list("sex", "age_band").annotate(
            r=Sum("registered"), c=Sum("counted")
        )
    }
    return [[sums.get((sex, band), 0) for band in BANDS] for sex in Sex.values]


def sex_age_table(protected: disclosure.ProtectedTable, country: str) -> Table:
    """People by sex (rows) and age band (columns), with their totals."""
    labels = dict(AgeBand.choices)
    return Table(
        "sex-age",
        _("People supported by sex and age band"),
        [str(label) for label in Sex.labels],
        [str(labels.get(band, _("Age not known"))) for band in BANDS],
        protected,
        ["#group+sex", *[f"#reached+{AGE_HXL[band]}" for band in BANDS], "#reached+total"],
        places=[(country, "")] * len(Sex.values) if country else [],
    )


@dataclass
class PlaceRows:
    """The rows of the places table: a society or point each, its name, where it is, and its
    people and consultations."""

    keys: list[Any]
    labels: list[str]
    places: list[tuple[str, str]]
    cells: list[list[int]]


def society_rows(view: View, filters: Filters) -> PlaceRows:
    """Regional staff's places: a row per National Society of the selection."""
    societies = [s for s in view.societies if filters.society in (None, s)]
    return PlaceRows(
        [s.pk for s in societies],
        [s.name for s in societies],
        [(_country(s), "") for s in societies],
        [],
    )


def _place_rows(
    view: View,
    filters: Filters,
    people_rows: QuerySet[Any],
    point_rows: QuerySet[Any],
    points: list[ServicePoint],
) -> PlaceRows:
    """Regional staff: one row per National Society (its own distinct count, from the same
    rows as the headline, so it follows every filter); a society's staff: one row per point
    (a person seen at two points counts in both rows)."""
    if view.level == "network":
        found = society_rows(view, filters)
        group, rows = "national_society_id", people_rows
    else:
        found = PlaceRows(
            [p.pk for p in points],
            [p.name for p in points],
            [(_country(p.national_society), p.admin1_code) for p in points],
            [],
        )
        group, rows = "scope_id", _person_filters(point_rows, filters)
    sums = {
        key: (int(registered or 0) + int(counted or 0), int(consultations or 0))
        for key, registered, counted, consultations in rows.values_list(group).annotate(
            r=Sum("registered"), c=Sum("counted"), h=Sum("consultations")
        )
    }
    found.cells = [list(sums.get(key, (0, 0))) for key in found.keys]
    return found


def locations_table(view: View, protected: disclosure.ProtectedTable, rows: PlaceRows) -> Table:
    """People supported and consultations by place; the total row is the selection's own
    (the headline's people and consultations), never a sum of distinct counts."""
    return Table(
        "locations",
        _("People supported and health consultations by place"),
        rows.labels,
        [str(_("People supported")), str(_("Health consultations"))],
        protected,
        ["#org+name" if view.level == "network" else "#loc+name", "#reached+total",
         "#activity+consultations"],
        row_totals=False,
        places=rows.places,
        row_keys=rows.keys,
    )  # fmt: skip


def _service_sums(
    point_ids: list[uuid.UUID], day_from: dt.date, day_to: dt.date
) -> dict[str, tuple[int, int]]:
    return {
        service: (int(quantity or 0), int(encounters or 0))
        for service, quantity, encounters in ServiceRollup.objects.filter(
            service_point_id__in=point_ids, day__gte=day_from, day__lt=day_to
        )
        .values_list("service")
        .annotate(q=Sum("quantity"), e=Sum("encounters"))
    }


def services_table(protected: disclosure.ProtectedTable, codes: list[str], country: str) -> Table:
    """Quantities and encounters by service (a row per service delivered)."""
    labels = dict(Service.choices)
    return Table(
        "services",
        _("Services delivered by type"),
        [str(labels[code]) for code in codes],
        [str(_("Quantity")), str(_("Encounters"))],
        protected,
        ["#sector", "#output+quantity", "#activity+encounters"],
        row_totals=False,
        places=[(country, "")] * len(codes) if country else [],
        row_keys=codes,
    )
