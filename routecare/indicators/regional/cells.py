"""The network's places, a block's figures read once, and the cells of every view: what
each number means and how the numbers add up (see the package)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate

from routecare.indicators import disclosure
from routecare.indicators.models import (
    Granularity,
    PeopleRollup,
    Scope,
    ServiceRollup,
    TrainingAttendance,
)
from routecare.indicators.regional.blocks import Block
from routecare.indicators.rollups import HSP_KINDS
from routecare.indicators.selectors import BANDS, View
from routecare.orgs.models import RouteStop
from routecare.orgs.taxonomy import Service, Sex
from routecare.people.models import PopulationGroup
from routecare.referrals.models import Referral

STAR = "*"  # all values of a dimension (a total)
SEXES = tuple(Sex.values)
SERVICES = tuple(Service.values)
GROUPS = tuple(PopulationGroup.values)
ON_THE_MOVE = str(PopulationGroup.ON_THE_MOVE)

# A cell's meaning, as a tuple (see ``Cells``); None: zero by its filters (men among women).
Key = tuple[Any, ...]
Time = Any  # a period's first day, or STAR: the whole block
PERSON = ("sex", "age_band", "population_group")


# The network's places -----------------------------------------------------------------------

Place = tuple[str, ...]  # sorted point ids: a society's part of it counts its people once


@dataclass
class Places:
    view: View
    society_of: dict[str, Any] = field(default_factory=dict)
    points_of: dict[Any, Place] = field(default_factory=dict)
    hsps_of: dict[Any, Place] = field(default_factory=dict)
    on_route: dict[Any, set[str]] = field(default_factory=dict)
    # A society's part of a place: the rollup rows that count it (scope, scope id, society).
    sources: dict[Place, tuple[str, str, str]] = field(default_factory=dict)
    parts: dict[Place, dict[Any, Place]] = field(default_factory=dict)  # ``split``, kept
    insides: dict[Place, list[tuple[Place, Place]]] = field(default_factory=dict)  # kept

    @classmethod
    def of(cls, view: View) -> Places:
        places = cls(view)
        for point in view.points:
            places.society_of[str(point.pk)] = point.national_society_id
        for society in view.societies:
            mine = [p for p in view.points if p.national_society_id == society.pk]
            places.points_of[society.pk] = place_of(str(p.pk) for p in mine)
            places.hsps_of[society.pk] = place_of(str(p.pk) for p in mine if p.kind in HSP_KINDS)
        for route_id, point_id in RouteStop.objects.filter(route__in=view.routes).values_list(
            "route_id", "service_point_id"
        ):
            places.on_route.setdefault(route_id, set()).add(str(point_id))
        # The richest rows first: a point that is its society's only one is the society.
        for point in view.points:
            places.sources[(str(point.pk),)] = (Scope.POINT, str(point.pk), "")
        for society in view.societies:
            s = str(society.pk)
            places.sources[places.hsps_of[society.pk]] = (Scope.SOCIETY_HSP, s, s)
            for route in view.routes:
                part = places.route_part(route.pk, society.pk)
                if part:
                    places.sources[part] = (Scope.ROUTE, str(route.pk), s)
            places.sources[places.points_of[society.pk]] = (Scope.SOCIETY, s, s)
        places.sources.pop((), None)
        return places

    def within(self, place: Place) -> list[Place]:
        """The places rollups count that hold ``place`` and more, in its society."""
        points = set(place)
        return [
            whole
            for whole in self.sources
            if len(whole) > len(place)
            and points < set(whole)
            and self.split(whole).keys() == self.split(place).keys()
        ]

    def inside(self, place: Place) -> list[tuple[Place, Place]]:
        """The places rollups count inside ``place`` (one society's), each point too, each
        with what it leaves of ``place``."""
        found = self.insides.get(place)
        if found is None:
            points = set(place)
            found = self.insides[place] = [
                (part, tuple(p for p in place if p not in part))
                for part in self.sources
                if len(part) < len(place) and points.issuperset(part)
            ]
        return found

    def route_part(self, route: Any, society: Any) -> Place:
        return place_of(p for p in self.points_of[society] if p in self.on_route.get(route, ()))

    def split(self, place: Place) -> dict[Any, Place]:
        """A place's part in each society."""
        found = self.parts.get(place)
        if found is None:
            parts: dict[Any, list[str]] = defaultdict(list)
            for point in place:
                parts[self.society_of[point]].append(point)
            found = self.parts[place] = {s: tuple(points) for s, points in parts.items()}
        return found


def place_of(points: Iterable[str]) -> Place:
    return tuple(sorted(set(points)))


# The block's figures, read once ------------------------------------------------------------

Figures = list[int]  # registered, counted, consultations


@dataclass
class Data:
    """A block's rollups, summed by the database in the groupings views use. ``people`` is
    keyed by (scope, scope id, society, time, sex, age band, group), STAR for a total;
    ``patterns`` says which of those groupings were read (anything else is a mistake)."""

    block: Block
    people: dict[Key, Figures] = field(default_factory=dict)
    patterns: set[tuple[str, bool, bool, bool, bool]] = field(default_factory=set)
    active: dict[str, set[dt.date]] = field(default_factory=lambda: defaultdict(set))
    services: dict[tuple[str, Time, str], list[int]] = field(default_factory=dict)
    trained: dict[tuple[str, str, Time], int] = field(default_factory=dict)
    referrals: dict[tuple[str, Time], int] = field(default_factory=dict)

    def add(self, key: Key, figures: Iterable[int]) -> None:
        found = self.people.setdefault(key, [0, 0, 0])
        for index, value in enumerate(figures):
            found[index] += int(value or 0)

    def figures(self, source: tuple[str, str, str], time: Time, person: tuple[str, ...]) -> Figures:
        scope = Scope.POINT if source[0] == Scope.POINT else "rich"
        pattern = (scope, time != STAR, *(value != STAR for value in person))
        if pattern not in self.patterns:
            raise LookupError(f"no figures read by {pattern}")
        return self.people.get((*source, time, *person), [0, 0, 0])

    def empty(self) -> bool:
        """Whether the block has no figure at all (every cell is 0)."""
        return not (self.people or self.services or self.trained or self.referrals)

    def small(self) -> bool:
        """Whether any figure read is 1 to 4: if none is, no sum of them is either."""
        values = [v for figures in self.people.values() for v in figures]
        values += [v for pair in self.services.values() for v in pair]
        values += [*self.trained.values(), *self.referrals.values()]
        return any(0 < value < disclosure.THRESHOLD for value in values)


def load(view: View, block: Block) -> Data:
    data = Data(block)
    months = block.granularity == Granularity.MONTH
    rows = PeopleRollup.objects.filter(
        granularity=block.granularity,
        period_start__gte=block.periods[0],
        period_start__lte=block.periods[-1],
        national_society__in=view.societies,
    )
    rich = rows.filter(scope__in=[Scope.SOCIETY, Scope.ROUTE, Scope.SOCIETY_HSP])
    sums = {"r": Sum("registered"), "c": Sum("counted"), "h": Sum("consultations")}
    source = ("scope", "scope_id", "national_society_id")
    # By period with at most one person dimension; over the block with any; by month and
    # sex and age band (the sex-age table of one month).
    groupings: list[tuple[bool, tuple[str, ...]]] = [(True, ()), *((True, (d,)) for d in PERSON)]
    groupings.append((False, PERSON))
    if months:
        groupings.append((True, ("sex", "age_band")))
    for by_period, dims in groupings:
        columns = [*source, *(["period_start"] if by_period else []), *dims]
        for found in rich.values_list(*columns).annotate(**sums):
            scope, scope_id, society = found[0], str(found[1]), str(found[2])
            time = found[3] if by_period else STAR
            values = dict(zip(dims, found[3 + by_period : 3 + by_period + len(dims)], strict=True))
            figures = found[-3:]
            for person in _margins(values, totals=not by_period):
                data.add((scope, scope_id, society, time, *person), figures)
                if by_period and not dims:
                    data.add((scope, scope_id, society, STAR, *person), figures)
        data.patterns |= _patterns("rich", by_period, dims, totals=not by_period)
    points = rows.filter(scope=Scope.POINT)
    for by_period, dims in [
        (True, ()),
        (False, ("sex", "age_band")),
        (False, ("population_group",)),
    ]:
        columns = ["scope_id", *(["period_start"] if by_period else []), *dims]
        for found in points.values_list(*columns).annotate(**sums):
            point = str(found[0])
            time = found[1] if by_period else STAR
            values = dict(zip(dims, found[1 + by_period : 1 + by_period + len(dims)], strict=True))
            for person in _margins(values, totals=True):
                data.add((Scope.POINT, point, "", time, *person), found[-3:])
                if by_period:
                    data.add((Scope.POINT, point, "", STAR, *person), found[-3:])
            if by_period:
                data.active[point].add(found[1])
        data.patterns |= _patterns(Scope.POINT, by_period, dims, totals=True)
    _load_events(view, data, months)
    return data


def _margins(values: dict[str, str], totals: bool) -> Iterator[tuple[str, ...]]:
    """The person dimensions of a grouped row: as read, and (``totals``) every total over some
    but not all of them (the grand total is read by period, with its own sum)."""
    chosen = [values.get(d, STAR) for d in PERSON]
    fixed = [i for i, value in enumerate(chosen) if value != STAR]
    for mask in range((1 << len(fixed)) if totals else 1):
        person = list(chosen)
        for bit, index in enumerate(fixed):
            if mask >> bit & 1:
                person[index] = STAR
        if not fixed or person != [STAR] * len(PERSON):
            yield tuple(person)


def _patterns(
    scope: str, by_period: bool, dims: tuple[str, ...], totals: bool
) -> set[tuple[str, bool, bool, bool, bool]]:
    """The groupings a query read: (scope, by period, sex, age band, group fixed)."""
    found = set()
    for time in (True, False) if by_period and not dims else (by_period,):
        fixed = [d in dims for d in PERSON]
        options = [(True, False) if f and totals else (f,) for f in fixed]
        for sex in options[0]:
            for age in options[1]:
                for group in options[2]:
                    found.add((scope, time, sex, age, group))
    return found


def _month(day: dt.date, months: bool) -> Time:
    return day.replace(day=1) if months else STAR


def _load_events(view: View, data: Data, months: bool) -> None:
    """Services, trainings and referrals of the block: over it, and by month when it is a
    year of months (a view of one month shows them)."""
    block = data.block
    services = (
        ServiceRollup.objects.filter(
            national_society__in=view.societies, day__gte=block.day_from, day__lt=block.day_to
        )
        .values_list("service_point_id", "service", "day")
        .annotate(q=Sum("quantity"), e=Sum("encounters"))
    )
    for point, code, day, quantity, encounters in services:
        for time in {STAR, _month(day, months)}:
            found = data.services.setdefault((str(point), time, code), [0, 0])
            found[0] += int(quantity or 0)
            found[1] += int(encounters or 0)
    trained = (
        TrainingAttendance.objects.filter(
            training__national_society__in=view.societies,
            training__day__gte=block.day_from,
            training__day__lt=block.day_to,
        )
        .values_list("training__national_society_id", "training__service_point_id", "training__day")
        .annotate(n=Sum("people"))
    )
    for society, point, day, people in trained:
        for time in {STAR, _month(day, months)}:
            key = (str(society), str(point or ""), time)
            data.trained[key] = data.trained.get(key, 0) + int(people or 0)
    referrals = (
        Referral.objects.filter(
            from_point__in=view.points,
            created_at__date__gte=block.day_from,
            created_at__date__lt=block.day_to,
        )
        .annotate(day=TruncDate("created_at"))
        .values_list("from_point_id", "day")
        .annotate(n=Count("id"))
    )
    for point, day, count in referrals:
        for time in {STAR, _month(day, months)}:
            data.referrals[(str(point), time)] = data.referrals.get((str(point), time), 0) + count


# Cells ---------------------------------------------------------------------------------------


class Cells:
    """Meanings and their values over one block. A meaning is a tuple:

    - ``("n", place, time, count, sex, age band, group)``: people, ``count`` "r" registered,
      "c" counted (not registered) or STAR both;
    - ``("h", place, time, sex, age band, group)``: health consultations;
    - ``("m", societies, time, sex, age band)``: people on the move added over the routes;
    - ``("t", societies, time)``, ``("tp", point, time)``: people trained;
    - ``("ref", place, time)``: referrals; ``("sq"|"se", place, time, service)``: quantities
      and encounters of a service (STAR: all).
    """

    def __init__(self, places: Places, data: Data) -> None:
        self.places = places
        self.data = data
        self.block = data.block

    def value(self, key: Key) -> int:
        kind, data = key[0], self.data
        if kind in ("n", "h"):
            place, time, *rest = key[1:]
            count = rest.pop(0) if kind == "n" else "h"
            return sum(
                self._people(part, time, count, tuple(rest))
                for part in self.places.split(place).values()
            )
        if kind == "m":
            _m, societies, time, sex, age = key
            return sum(
                self.value(("n", part, time, STAR, sex, age, ON_THE_MOVE))
                for part in self.route_parts(societies)
            )
        if kind == "t":
            return sum(n for (s, _p, t), n in data.trained.items() if s in key[1] and t == key[2])
        if kind == "tp":
            return sum(n for (_s, p, t), n in data.trained.items() if p == key[1] and t == key[2])
        if kind == "ref":
            return sum(data.referrals.get((point, key[2]), 0) for point in key[1])
        if kind in ("sq", "se"):
            column = 0 if kind == "sq" else 1
            codes = SERVICES if key[3] == STAR else (key[3],)
            return sum(
                data.services.get((point, key[2], code), [0, 0])[column]
                for point in key[1]
                for code in codes
            )
        raise LookupError(key)

    def _people(self, part: Place, time: Time, count: str, person: tuple[str, ...]) -> int:
        """People (or consultations, ``count`` "h") at one society's part of a place. A part
        no rollup counts (what a route leaves of its society) is only asked for what adds
        up point by point (counted people, consultations): the points' sum, or, by sex, age
        band or group, a counted part less another."""
        column = {"r": 0, "c": 1, "h": 2}
        source = self.places.sources.get(part)
        if source is not None:
            figures = self.data.figures(source, time, person)
            return figures[0] + figures[1] if count == STAR else figures[column[count]]
        if count not in ("c", "h"):
            raise LookupError(f"people of {part} are not counted")
        if all(value == STAR for value in person):
            return sum(self._people((point,), time, count, person) for point in part)
        for whole in self.places.within(part):
            rest = place_of(p for p in whole if p not in part)
            if rest in self.places.sources:
                return self._people(whole, time, count, person) - self._people(
                    rest, time, count, person
                )
        raise LookupError(f"no figures for {part}")

    def route_parts(self, societies: tuple[str, ...]) -> list[Place]:
        parts = []
        for route in self.places.view.routes:
            points = [
                p
                for s in self.places.view.societies
                if str(s.pk) in societies
                for p in self.places.route_part(route.pk, s.pk)
            ]
            if points:
                parts.append(place_of(points))
        return parts

    def relations(self, key: Key) -> list[tuple[Key, list[Key]]]:
        """Every way ``key`` is a sum of others."""
        kind = key[0]
        found: list[tuple[Key, list[Key]]] = []

        def over(index: int, values: Iterable[Any]) -> None:
            if key[index] == STAR:
                found.append((key, [(*key[:index], v, *key[index + 1 :]) for v in values]))

        if kind in ("n", "h", "m", "t", "tp", "ref", "sq", "se"):
            times = self.block.periods
            if kind not in ("n", "h") and self.block.granularity != Granularity.MONTH:
                times = ()  # events are read over the block only
            if times:
                over(2, times)
        if kind in ("n", "h"):
            first = 4 if kind == "n" else 3
            if kind == "n":
                over(3, ("r", "c"))
            for index, values in zip(range(first, first + 3), (SEXES, BANDS, GROUPS), strict=True):
                over(index, values)
        if kind in ("n", "h", "ref", "sq", "se"):
            parts = self.places.split(key[1])
            if len(parts) > 1:
                found.append((key, [(kind, part, *key[2:]) for part in parts.values()]))
            elif len(key[1]) > 1 and (kind != "n" or key[3] == "c"):
                # Events and counted people are counted at each point: they add up, over the
                # points and over any place inside and what it leaves.
                found.append((key, [(kind, (point,), *key[2:]) for point in key[1]]))
                for part, rest in self.places.inside(key[1]):
                    found.append((key, [(kind, part, *key[2:]), (kind, rest, *key[2:])]))
        if kind == "m":
            over(3, SEXES)
            over(4, BANDS)
            if len(key[1]) > 1:
                found.append((key, [("m", (s,), *key[2:]) for s in key[1]]))
            found.append(
                (key, [("n", part, key[2], STAR, key[3], key[4], ON_THE_MOVE)
                       for part in self.route_parts(key[1])])
            )  # fmt: skip
        if kind == "t" and len(key[1]) > 1:
            found.append((key, [("t", (s,), key[2]) for s in key[1]]))
        if kind in ("sq", "se"):
            over(3, SERVICES)
        return [(total, parts) for total, parts in found if parts]
