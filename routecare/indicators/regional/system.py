"""Every view of a block as meanings, and the block's one protected system (see the
package)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from routecare.indicators import disclosure
from routecare.indicators.models import Granularity, Scope
from routecare.indicators.regional.blocks import MAX_BLOCKS, Block, block_of, single_month
from routecare.indicators.regional.cells import (
    GROUPS,
    ON_THE_MOVE,
    PERSON,
    SEXES,
    STAR,
    Cells,
    Data,
    Key,
    Place,
    Places,
    Time,
    load,
    place_of,
)
from routecare.indicators.rollups import period_end
from routecare.indicators.selectors import (
    BANDS,
    Filters,
    View,
)
from routecare.orgs.models import ServicePoint
from routecare.orgs.taxonomy import Service


@dataclass
class Layout:
    """A view's numbers as meanings (None: zero by its filters), in the dashboard's shape."""

    figures: dict[str, Key | None]
    periods: list[dt.date]
    tables: dict[str, list[list[Key | None]]]
    societies: list[Any]
    services: list[str]
    points: list[ServicePoint]
    time: Time
    absent: list[Key]  # services not delivered: known zeros

    def keys(self) -> Iterator[Key]:
        yield from (k for k in self.figures.values() if k is not None)
        for matrix in self.tables.values():
            yield from (k for row in matrix for k in row if k is not None)
        yield from self.absent
        for point in self.points:
            yield ("n", (str(point.pk),), self.time, STAR, STAR, STAR, STAR)


def people_key(place: Place, time: Time, count: str, person: tuple[str, ...]) -> Key | None:
    return ("n", place, time, count, *person) if place else None


def _fix(person: tuple[str, ...], **values: str) -> tuple[str, ...] | None:
    """The person dimensions with more fixed; None when they contradict."""
    fixed = list(person)
    for name, value in values.items():
        index = PERSON.index(name)
        if value == STAR:
            continue
        if fixed[index] not in (STAR, value):
            return None
        fixed[index] = value
    return tuple(fixed)


def layout(cells: Cells, filters: Filters) -> Layout:
    """The meanings of a view of the block (filters as ``normalise`` leaves them)."""
    places, block = cells.places, cells.block
    view = places.view
    month = single_month(filters)
    time: Time = month or STAR
    person = tuple(getattr(filters, name) or STAR for name in PERSON)
    societies = [s for s in view.societies if filters.society in (None, s)]
    points = [p for p in view.points if p.national_society_id in {s.pk for s in societies}]
    if filters.point is not None:
        points = [p for p in points if p.pk == filters.point.pk]
    elif filters.route is not None:
        on_route = places.on_route.get(filters.route.pk, set())
        points = [p for p in points if str(p.pk) in on_route]
    place = place_of(str(p.pk) for p in points)
    periods = [month] if month else list(block.periods)
    tables: dict[str, list[list[Key | None]]] = {}
    tables["periods"] = [
        [people_key(place, t, count, person) for count in ("r", "c", STAR)]
        for t in [*periods, time]
    ]
    sex_age = []
    for sex in [*SEXES, STAR]:
        row = []
        for band in [*BANDS, STAR]:
            fixed = _fix(person, sex=sex, age_band=band)
            row.append(people_key(place, time, STAR, fixed) if fixed else None)
        sex_age.append(row)
    tables["sex-age"] = sex_age
    locations: list[list[Key | None]] = []
    for part in [*(place_of(p for p in place if places.society_of[p] == s.pk) for s in societies),
                 place]:  # fmt: skip
        people = people_key(part, time, STAR, person)
        locations.append([people, ("h", part, time, *person) if part else None])
    tables["locations"] = locations
    codes = [
        code
        for code in Service.values
        if any((point, time, code) in cells.data.services for point in place)
    ]
    tables["services"] = [
        [(kind, place, time, code) if place else None for kind in ("sq", "se")]
        for code in [*codes, STAR]
    ]
    absent = [
        (kind, place, time, code)
        for code in Service.values
        if code not in codes and place
        for kind in ("sq", "se")
    ]
    in_view = [s for s in societies if any(p.national_society_id == s.pk for p in points)]
    hsps = place_of(p for s in in_view for p in places.hsps_of[s.pk])
    on_the_move = _fix(person, population_group=ON_THE_MOVE)
    if on_the_move is None:
        moving: Key | None = None
    elif filters.point is not None:
        routed = any(str(filters.point.pk) in stops for stops in places.on_route.values())
        moving = people_key(place, time, STAR, on_the_move) if routed else None
    elif filters.route is not None:
        moving = people_key(place, time, STAR, on_the_move)
    else:
        moving = ("m", tuple(sorted(str(s.pk) for s in in_view)), time, *person[:2])
        moving = moving if in_view else None
    groups = {code: _fix(person, population_group=group) for code, group in
              (("returnees", "returnee"), ("host-community", "host-community"))}  # fmt: skip
    trained: Key = (
        ("tp", str(filters.point.pk), time)
        if filters.point is not None
        else ("t", tuple(sorted(str(s.pk) for s in societies)), time)
    )
    figures: dict[str, Key | None] = {
        "people-supported": people_key(place, time, STAR, person),
        "people-on-the-move": moving,
        "returnees": people_key(place, time, STAR, fixed)
        if (fixed := groups["returnees"])
        else None,
        "host-community": (
            people_key(place, time, STAR, fixed) if (fixed := groups["host-community"]) else None
        ),
        "people-through-hsps": people_key(hsps, time, STAR, person),
        "trained": trained if place or filters.point is None else None,
        "consultations": ("h", place, time, *person) if place else None,
        "referrals": ("ref", place, time) if place else None,
    }
    located = [
        p
        for p in points
        if cells.data.figures((Scope.POINT, str(p.pk), ""), time, (STAR,) * 3)[:2] != [0, 0]
    ]
    return Layout(figures, periods, tables, [s.pk for s in societies], codes, located, time, absent)


def _views(places: Places, block: Block) -> Iterator[Filters]:
    """Every view regional staff may ask for in the block."""
    view = places.view
    breakdowns: list[dict[str, Any]] = [{}]
    breakdowns += [{"sex": sex} for sex in SEXES]
    breakdowns += [{"age_band": band} for band in BANDS if band]
    breakdowns += [{"population_group": group} for group in GROUPS]
    if block.granularity == Granularity.MONTH:
        breakdowns += [{"start": month, "end": month} for month in block.periods]
    base = Filters(granularity=block.granularity, start=block.periods[0], end=block.periods[-1])
    for society in [None, *view.societies]:
        for route in [None, *view.routes]:
            for breakdown in breakdowns:
                yield replace(base, society=society, route=route, **breakdown)
        for point in view.points:
            if society in (None, point.national_society):
                yield replace(base, society=society, point=point)


# The protected system ----------------------------------------------------------------------


@dataclass
class Protected:
    """A block's cells: their values and which are hidden."""

    cells: Cells
    values: dict[Key, int]
    hidden: set[Key]
    # No figure of the block is small: nothing is hidden and values are read when asked for.
    open: bool = False

    def value(self, key: Key | None) -> int | None:
        """The shown value (None: hidden). Only cells of the system: any other would be shown
        unprotected."""
        if key is None:
            return 0
        if self.open and key not in self.values:
            self.values[key] = self.cells.value(key)
        return None if key in self.hidden else self.values[key]


def _rank(key: Key) -> int:
    """Given back first: the least specific, then the widest place (headline figures and
    totals are read most)."""
    fixed = sum(1 for part in key[2:] if part != STAR)
    return fixed * 100_000 - (len(key[1]) if key[0] != "tp" else 1)


@dataclass
class System:
    """A block's cells, how they add up, and what ``suppress`` needs of them."""

    cells: Cells
    values: dict[Key, int]
    equations: dict[tuple[Key, tuple[Key, ...]], None]
    unknown: set[Key]  # in the system, shown by no view: always hidden
    headlines: set[Key]


def system(
    view: View, block: Block, places: Places | None = None, data: Data | None = None
) -> System:
    """Every view of the block as one system: its cells and how they add up. Cells no view
    shows but that a sum of shown ones fixes (people of no known age in a period: all of them
    less the five bands) are in the system, always hidden, so a small one among them is
    protected too."""
    places = places or Places.of(view)
    cells = Cells(places, data or load(view, block))
    # Dicts, not sets: the same order in every process, so every process draws one pattern.
    published: dict[Key, None] = {}
    for filters in _views(places, block):
        published.update(dict.fromkeys(layout(cells, filters).keys()))
    values = {key: cells.value(key) for key in published}
    # Zeros are shown (they identify nobody) and never hidden: constants, left out of the
    # equations. A cell no view shows but one sum fixes (the one part a sum leaves) is
    # in the system, always hidden; when it is 0 it is taken as known, as if the reader
    # knew more than they can.
    equations: dict[tuple[Key, tuple[Key, ...]], None] = {}
    unpublished: dict[Key, None] = {}

    def add(total: Key, parts: list[Key]) -> None:
        positive = tuple(part for part in parts if values[part])
        if values[total] or positive:
            equations[(total, positive)] = None

    for key in [k for k, value in values.items() if value]:
        for total, parts in cells.relations(key):
            missing = [part for part in parts if part not in published]
            if len(missing) <= 1:  # the one missing part is what the others leave
                for part in missing:
                    if part not in values:
                        values[part] = cells.value(part)
                        unpublished[part] = None
                add(total, parts)
    for key in [k for k in unpublished if values[k]]:
        for total, parts in cells.relations(key):
            if all(part in values for part in parts):
                add(total, parts)
    unknown = {key for key in unpublished if values[key]}
    # Headlines: people and consultations of a society, a route or the network, all of them.
    wholes = set(places.points_of.values())
    headlines = {
        key
        for key in published
        if key[0] in ("n", "h")
        and all(part == STAR for part in key[2:])
        and (len(key[1]) > 1 or key[1] in wholes)
    }
    return System(cells, values, equations, unknown, headlines)


def protect(view: View, block: Block) -> Protected:
    """One block protected alone: its views as one system (``system``), and the cells to hide
    (``disclosure.suppress``)."""
    places = Places.of(view)
    found = system(view, block, places)
    if not found.cells.data.small():
        return Protected(found.cells, {}, set(), open=True)
    hidden = disclosure.suppress(
        {key: value for key, value in found.values.items() if value},
        [(t, list(p)) for t, p in found.equations],
        forced=found.unknown,
        rank=_rank,
        headlines=found.headlines,
    )
    return Protected(found.cells, found.values, hidden - found.unknown)


# Granularities protected together ----------------------------------------------------------

# Counted the same at any granularity (a month's is the sum of its days'): events, trainings,
# consultations, and counted people (not registered: those are distinct people).
EVENTS = ("h", "sq", "se", "ref", "t", "tp")
# Counted day by day (the day views show them by day).
DAILY = ("h",)

Namespace = tuple[str, dt.date]  # a block: its granularity and first day


def _additive(key: Key, kinds: tuple[str, ...]) -> bool:
    return key[0] in kinds or (key[0] == "n" and key[3] == "c")


def unit_blocks(year: int) -> list[Block]:
    """The blocks protected together: the year by month, its quarters by week (a quarter's
    weeks are those whose Thursday is in it) and its months by day."""
    found = [block_of(dt.date(year, 1, 1), Granularity.MONTH)]
    found += [block_of(dt.date(year, month, 15), Granularity.WEEK) for month in (2, 5, 8, 11)]
    found += [block_of(dt.date(year, month, 1), Granularity.DAY) for month in range(1, 13)]
    return found


def _links(systems: dict[Namespace, System]) -> list[tuple[Any, list[Any]]]:
    """How the granularities add up: a month's figure is its day block's over the month, a
    week's and a month's are the sums of their days'. Only between blocks of the unit."""
    links: list[tuple[Any, list[Any]]] = []
    day_blocks = {first: found for (g, first), found in systems.items() if g == Granularity.DAY}
    for (granularity, first), found in systems.items():
        if granularity == Granularity.DAY:
            continue
        for key in found.values:
            time = key[2]
            if time == STAR or not _additive(key, EVENTS):
                continue
            if granularity == Granularity.MONTH:
                days = day_blocks.get(time)
                whole = (key[0], key[1], STAR, *key[3:])
                if days is not None and whole in days.values:
                    links.append(((granularity, first, key), [(Granularity.DAY, time, whole)]))
            if not _additive(key, DAILY):
                continue
            last = period_end(time, granularity)
            parts = []
            for n in range((last - time).days):
                day = time + dt.timedelta(days=n)
                days = day_blocks.get(day.replace(day=1))
                part = (key[0], key[1], day, *key[3:])
                if days is None or part not in days.values:
                    break
                parts.append((Granularity.DAY, day.replace(day=1), part))
            else:
                links.append(((granularity, first, key), parts))
    return links


def _sums(
    blocks: list[Block], values: dict[Any, int]
) -> tuple[dict[Any, int], list[tuple[Any, list[Any]]]]:
    """The small sums a view over consecutive blocks of the unit shows (``board`` adds each
    block's figure over the block), as cells no view shows on their own, with their
    equations: a sum shown is the sum of its parts shown, but two hidden parts that can only
    move together (one up, the other down) give their sum away. A sum of one positive part
    is that part, already protected; a sum of 5 or more needs no protection."""
    found: dict[Any, int] = {}
    equations: list[tuple[Any, list[Any]]] = []
    by_key: dict[Any, dict[dt.date, int]] = {}
    for granularity, first, key in values:
        if key[2] == STAR and granularity != Granularity.MONTH:
            by_key.setdefault((granularity, key), {})[first] = values[(granularity, first, key)]
    for (granularity, key), by_block in by_key.items():
        firsts = [b.first for b in blocks if b.granularity == granularity]
        for i in range(len(firsts)):
            total = 0
            parts: list[Any] = []
            # From a positive part to a positive part: a zero at either end adds nothing.
            for last in firsts[i : i + MAX_BLOCKS[granularity]] if firsts[i] in by_block else ():
                value = by_block.get(last, 0)
                total += value
                if total >= disclosure.THRESHOLD:
                    break
                if value:
                    parts.append((granularity, last, key))
                if value and len(parts) > 1:
                    cell = ("sum", (granularity, firsts[i], last), key)
                    found[cell] = total
                    equations.append((cell, list(parts)))
    return found, equations


def protect_unit(view: View, year: int) -> dict[Namespace, Protected]:
    """The blocks of a year protected as one system (``protect_years`` of the year alone:
    right when no week of its edges holds figures of the year beside it)."""
    return protect_years(view, [year])


def protect_years(
    view: View,
    years: Sequence[int],
    places: Places | None = None,
    data: dict[Namespace, Data] | None = None,
) -> dict[Namespace, Protected]:
    """The blocks of consecutive years (``unit_blocks`` of each) protected as one system: each
    block's cells and equations, the equations between granularities (``_links``), so that a
    cell hidden at one granularity is not given away by another, and the small sums over
    consecutive blocks that views show (``_sums``). A week that straddles two years (29
    December to 4 January, say) is one year's, and its days are in both: its link to them ties
    the two years' patterns, so years whose straddling week holds figures are protected
    together (``store.chain`` finds them)."""
    unit = [block for year in years for block in unit_blocks(year)]
    places = places or Places.of(view)
    systems: dict[Namespace, System] = {}
    found: dict[Namespace, Protected] = {}
    for block in unit:
        space = (block.granularity, block.first)
        figures = data[space] if data is not None else load(view, block)
        if figures.empty():
            found[space] = Protected(Cells(places, figures), {}, set(), open=True)
        else:
            systems[space] = system(view, block, places, figures)
    if not any(s.cells.data.small() for s in systems.values()):
        for space, s in systems.items():
            found[space] = Protected(s.cells, {}, set(), open=True)
        return found
    values: dict[Any, int] = {}
    equations: list[tuple[Any, list[Any]]] = []
    unknown: set[Any] = set()
    start: set[Any] = set()
    for (granularity, first), s in systems.items():
        if s.cells.data.small():
            # Each block protected alone first: the whole then needs few more rounds.
            alone = disclosure.suppress(
                {key: value for key, value in s.values.items() if value},
                [(t, list(p)) for t, p in s.equations],
                forced=s.unknown,
                rank=_rank,
                headlines=s.headlines,
            )
            start |= {(granularity, first, k) for k in alone}
        values.update({(granularity, first, k): v for k, v in s.values.items() if v})
        equations += [
            ((granularity, first, t), [(granularity, first, p) for p in parts])
            for t, parts in s.equations
        ]
        unknown |= {(granularity, first, k) for k in s.unknown}
    for total, parts in _links(systems):
        positive = [part for part in parts if part in values]
        if total in values or positive:  # zeros are constants (a sum of zeros is zero)
            equations.append((total, positive))
    sums, over_blocks = _sums(unit, values)
    values.update(sums)
    equations += over_blocks
    unknown |= set(sums)
    # Headlines were spared block by block (``start``); sparing them again over the whole
    # would try a pattern per hidden headline of the year: far too slow, little gained.
    hidden = disclosure.suppress(
        values, equations, forced=unknown, rank=lambda key: _rank(key[2]), start=start
    )
    for (granularity, first), s in systems.items():
        mine = {k[2] for k in hidden if k[0] == granularity and k[1] == first}
        found[(granularity, first)] = Protected(s.cells, s.values, mine - s.unknown)
    return found
