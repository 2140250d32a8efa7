"""A regional dashboard: each block's view a slice of its protected system; several blocks
add up (see the package)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from routecare.indicators import disclosure
from routecare.indicators.definitions import INDICATORS
from routecare.indicators.regional.blocks import blocks, normalise, problem
from routecare.indicators.regional.cells import STAR, Places
from routecare.indicators.regional.store import read
from routecare.indicators.regional.system import Protected, layout, people_key
from routecare.indicators.selectors import (
    Dashboard,
    Draft,
    Filters,
    View,
    finish,
    locations_table,
    one_country,
    periods_table,
    services_table,
    sex_age_table,
    society_rows,
)
from routecare.orgs.models import ServicePoint
from routecare.orgs.taxonomy import Service


@dataclass
class Shown:
    """A view's numbers in one block: None where hidden."""

    figures: dict[str, int | None]
    true: dict[str, int]
    periods: list[dt.date]
    tables: dict[str, list[list[int | None]]]
    societies: list[Any]
    services: dict[str, list[int | None]]  # by service code
    by_point: dict[Any, int | None]
    located: set[Any]
    active: set[Any]


def _shown(system: Protected, filters: Filters) -> Shown:
    found = layout(system.cells, filters)
    tables = {
        name: [[system.value(key) for key in row] for row in matrix]
        for name, matrix in found.tables.items()
    }
    services = {code: tables["services"][i] for i, code in enumerate([*found.services, STAR])}
    figures = {code: system.value(key) for code, key in found.figures.items()}
    true = {code: system.cells.value(key) if key else 0 for code, key in found.figures.items()}
    by_point = {
        p.pk: system.value(people_key((str(p.pk),), found.time, STAR, (STAR,) * 3))
        for p in found.points
    }
    time = found.time
    in_view = {str(p.pk) for p in _points(system.cells.places, filters)}
    active = {
        point
        for point in in_view
        if system.cells.data.active.get(point)
        and (time == STAR or time in system.cells.data.active[point])
    }
    return Shown(
        figures, true, found.periods, tables, found.societies, services, by_point,
        {p.pk for p in found.points}, active,
    )  # fmt: skip


def _points(places: Places, filters: Filters) -> list[ServicePoint]:
    view = places.view
    points = [p for p in view.points if filters.society in (None, p.national_society)]
    if filters.point is not None:
        return [p for p in points if p.pk == filters.point.pk]
    if filters.route is not None:
        on_route = places.on_route.get(filters.route.pk, set())
        points = [p for p in points if str(p.pk) in on_route]
    return points


def _add(parts: list[int | None]) -> int | None:
    """A sum over blocks: shown only when every part is."""
    return None if any(part is None for part in parts) else sum(p or 0 for p in parts)


def build(view: View, filters: Filters, today: dt.date) -> Dashboard:
    """The regional dashboard of ``filters`` (widened to whole blocks): each block's view is a
    slice of the block's protected system; a view over several blocks adds them."""
    if (reason := problem(filters, today)) is not None:
        raise ValueError(reason)  # the forms and the API refuse these filters first
    filters = normalise(filters, today)
    covered = blocks(filters, today)
    reads = read(view, covered)
    systems = [read.protected for read in reads]
    shown = [
        _shown(
            system,
            filters if len(covered) == 1 else replace(
                filters, start=system.cells.block.periods[0], end=system.cells.block.periods[-1]
            ),
        )
        for system in systems
    ]  # fmt: skip
    first = shown[0]
    periods = [p for part in shown for p in part.periods]

    def added(name: str) -> list[list[int | None]]:
        return [
            [_add([part.tables[name][i][j] for part in shown]) for j in range(len(row))]
            for i, row in enumerate(first.tables[name])
        ]

    period_rows = [row for part in shown for row in part.tables["periods"][:-1]]
    # The blocks' totals added (blocks may have different numbers of periods: months by
    # day, quarters by week).
    period_rows.append([_add([part.tables["periods"][-1][j] for part in shown]) for j in range(3)])
    codes = [c for c in Service.values if any(c in part.services for part in shown)]
    zero: list[int | None] = [0, 0]
    service_rows = [
        [_add([part.services.get(code, zero)[j] for part in shown]) for j in range(2)]
        for code in [*codes, STAR]
    ]
    figures = {code: _add([part.figures[code] for part in shown]) for code in first.figures}
    true = {code: sum(part.true[code] for part in shown) for code in first.true}
    located = set().union(*(part.located for part in shown))
    active = set().union(*(part.active for part in shown))
    figures["active-points"] = true["active-points"] = len(active)
    figures["locations"] = true["locations"] = len(located)
    by_point = {point: _add([part.by_point.get(point, 0) for part in shown]) for point in located}
    country = one_country(view, filters)
    rows = society_rows(view, filters)
    tables = {
        "periods": periods_table(disclosure.ProtectedTable(period_rows), periods, country),
        "sex-age": sex_age_table(disclosure.ProtectedTable(added("sex-age")), country),
        "locations": locations_table(view, disclosure.ProtectedTable(added("locations")), rows),
        "services": services_table(disclosure.ProtectedTable(service_rows), codes, country),
    }
    points = _points(systems[0].cells.places, filters)
    values = {indicator.code: true[indicator.code] for indicator in INDICATORS}
    draft = Draft(filters, periods[0], periods[-1], values, tables, points, located, by_point)
    board = finish(view, draft, {code for code, value in figures.items() if value is None})
    board.computed_at = min(read.computed_at for read in reads)
    return board
