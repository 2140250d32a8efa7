"""Which service points a reader may see, filtered, and what is next along a route.

Service points hold no personal data, but their visibility matters: `public` points are shown
to people on the move, `network` points to staff of the network, `internal` points to their
own society only. The public side never shows anything else.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Generic, TypeVar

from django.db.models import Q, QuerySet
from django.http import Http404, QueryDict

from routecare.access import Actor
from routecare.core import caching
from routecare.directory import precomputed
from routecare.directory.entries import PublicPoint
from routecare.directory.hours import is_open
from routecare.directory.precomputed import Entry
from routecare.orgs.models import NationalSociety, Role, ServicePoint
from routecare.orgs.taxonomy import Service

Visibility = ServicePoint.Visibility
DIRECTIONS = ("onward", "back")

# The core.caching kind of the public pages (views._public_page), dropped by apps.py when a
# point, route, society or network changes.
PUBLIC_PAGES = caching.PAGE_PREFIX + "public-directory"
# How long a public page or public API answer is served from the cache: "open now" and
# "updated at" are that old at most, and another server process sees a change that late.
PUBLIC_SECONDS = 60


@dataclass(frozen=True)
class Filters:
    country: str = ""
    service: str = ""
    open_now: bool = False
    start: str = ""  # a service point code: "next along my way" from there
    direction: str = "onward"
    ignored: bool = False  # some filter was not understood and was left out


def _clean(value: str, limit: int = 40) -> str | None:
    """A query value, or None when it holds control characters or is far too long."""
    if len(value) > limit or any(not character.isprintable() for character in value):
        return None
    return value.strip()


def parse_filters(query: QueryDict) -> Filters:
    """Filters from a query string; anything not understood is dropped, and flagged."""
    raw = {
        name: _clean(query.get(name, ""))
        for name in ("country", "service", "from", "direction", "open_now")
    }
    ignored = any(value is None for value in raw.values())
    query = QueryDict(mutable=True)
    query.update({name: value for name, value in raw.items() if value})
    countries, codes = _known()
    country = query.get("country", "").strip().upper()
    if country and country not in countries:
        country, ignored = "", True
    service = query.get("service", "").strip()
    if service and service not in Service.values:
        service, ignored = "", True
    start = query.get("from", "").strip().lower()
    if start and start not in codes:
        start, ignored = "", True
    direction = query.get("direction", "onward")
    if direction not in DIRECTIONS:
        direction, ignored = "onward", True
    open_now = query.get("open_now", "") in ("1", "on", "true")
    return Filters(country, service, open_now, start, direction, ignored)


def _points() -> QuerySet[ServicePoint]:
    return ServicePoint.objects.select_related("national_society").order_by(
        "national_society__country_code", "name"
    )


def staff_points(actor: Actor) -> QuerySet[ServicePoint]:
    """Own society's points of every visibility, and the network's public and network ones."""
    shared = Q(visibility__in=[Visibility.PUBLIC, Visibility.NETWORK])
    if actor.role == Role.SYSADMIN:
        return _points()  # they see every point in the Django admin anyway
    if actor.network_id is None:
        return _points().filter(visibility=Visibility.PUBLIC)
    scope = Q(national_society__network_id=actor.network_id) & shared
    if actor.national_society_id is not None and actor.role != Role.PARTNER:
        # Internal points are for the society's own staff, not its partner organisations.
        scope |= Q(national_society_id=actor.national_society_id)
    return _points().filter(scope)


# The core.caching kind of points staff look up by code (a card's issuing point): dropped by
# apps.py when a point, society or network changes; other processes see it within STAFF_SECONDS.
STAFF_POINTS = "staff-points"
STAFF_SECONDS = 60


def staff_point_with_code(actor: Actor, society_id: uuid.UUID, code: str) -> ServicePoint | None:
    """The point of that society with that code, if the actor may see it (``staff_points``);
    kept for a minute for everyone who sees the same points (building the query cost more
    than the rest of a card read)."""
    # Everything staff_points decides by: who sees every point, the network, the own society.
    sees = (
        actor.role == Role.SYSADMIN,
        actor.role == Role.PARTNER,
        str(actor.network_id),
        str(actor.national_society_id),
    )
    return caching.remember(
        STAFF_POINTS,
        (*sees, str(society_id), code),
        STAFF_SECONDS,
        lambda: staff_points(actor).filter(code=code, national_society_id=society_id).first(),
    )


def staff_point(actor: Actor, point_id: str | uuid.UUID) -> ServicePoint:
    try:
        key = point_id if isinstance(point_id, uuid.UUID) else uuid.UUID(str(point_id))
    except ValueError as error:
        raise Http404 from error
    point = staff_points(actor).filter(pk=key).first()
    if point is None:
        raise Http404
    return point


def _known() -> tuple[frozenset[str], frozenset[str]]:
    """Every society's country code and every point's code, for checking addresses."""

    def read() -> tuple[frozenset[str], frozenset[str]]:
        countries = NationalSociety.objects.values_list("country_code", flat=True)
        codes = ServicePoint.objects.values_list("code", flat=True)
        return frozenset(countries), frozenset(codes)

    return caching.remember(PUBLIC_PAGES, ("known",), PUBLIC_SECONDS, read)


def public_point_list(country: str = "") -> list[PublicPoint]:
    """``public_points`` as the pages show them (their precomputed entries), the country's own
    points first (``own_first``), kept like the public pages: every page of a country shares
    it (and the pages of one start, its ``public_next_along``)."""
    return caching.remember(
        PUBLIC_PAGES,
        ("points", country),
        PUBLIC_SECONDS,
        lambda: precomputed.page_points(public_entries(country, page=True)),
        shared=True,
    )


def public_entries(country: str = "", *, api: bool = False, page: bool = False) -> list[Entry]:
    """The precomputed entries of ``public_points``, in ``own_first`` order, with their API
    objects or page fields; kept like the public pages."""

    def read() -> list[Entry]:
        where = "p.visibility = %s AND p.status <> %s"
        params: list[object] = [Visibility.PUBLIC, ServicePoint.Status.CLOSED]
        if country:
            society = (
                NationalSociety.objects.filter(country_code=country)
                .values_list("pk", "network_id", "show_onward_points")
                .first()
            )
            if society is None:
                return []
            pk, network_id, onward = society
            where += " AND s.network_id = %s" if onward else " AND s.id = %s"
            params.append(precomputed.db_id(network_id if onward else pk))
        entries = precomputed.read_entries(where, params, api=api, page=page)
        return sorted(
            entries,
            key=lambda e: (bool(country) and e.country != country, e.country, e.name),
        )

    return caching.remember(
        PUBLIC_PAGES, ("entries", country, api, page), PUBLIC_SECONDS, read, shared=True
    )


Shown = TypeVar("Shown", ServicePoint, PublicPoint)


def country_of(point: ServicePoint | PublicPoint) -> str:
    if isinstance(point, PublicPoint):
        return point.country
    return point.national_society.country_code


def own_first(points: Iterable[Shown], country: str) -> list[Shown]:
    """A country's page starts with its own points; the onward ones (other countries of the
    network) come after, by country and name (issue 19, item 5)."""
    return sorted(
        points,
        key=lambda p: (bool(country) and country_of(p) != country, country_of(p), p.name),
    )


def split_onward(points: Iterable[Shown], country: str) -> tuple[list[Shown], list[Shown]]:
    """The country's own points and, apart (shown under their own heading), the onward ones;
    without a country every point is its own."""
    own: list[Shown] = []
    onward: list[Shown] = []
    for point in own_first(points, country):
        is_own = not country or country_of(point) == country
        (own if is_own else onward).append(point)
    return own, onward


def public_next_along(
    start: PublicPoint, *, service: str = "", direction: str = "onward"
) -> list[NextPoint[PublicPoint]]:
    """``next_along`` among what the public of the start's country may see, kept like the
    public pages (the same for each of the pages' languages)."""
    onward = start.country
    return caching.remember(
        PUBLIC_PAGES,
        ("next", start.pk, onward, service, direction),
        PUBLIC_SECONDS,
        lambda: next_along(start, public_point_list(onward), service=service, direction=direction),
    )


def public_points(country: str = "") -> QuerySet[ServicePoint]:
    """What people on the move see: public points that are not closed for good. For a country,
    its own points, and the other points of its network only if its society allows it."""
    points = (
        _points().filter(visibility=Visibility.PUBLIC).exclude(status=ServicePoint.Status.CLOSED)
    )
    if not country:
        return points
    society = NationalSociety.objects.filter(country_code=country).first()
    if society is None:
        return points.none()
    if society.show_onward_points:
        return points.filter(national_society__network_id=society.network_id)
    return points.filter(national_society=society)


def public_point(code: str, country: str = "") -> ServicePoint:
    point = public_points(country).filter(code=code).first()
    if point is None:
        raise Http404
    return point


def apply_filters(points: Iterable[Shown], filters: Filters, now: dt.datetime) -> list[Shown]:
    """Service and open-now filters (in Python: a directory holds hundreds of points, and the
    JSON list of services cannot be searched the same way on SQLite and PostgreSQL)."""
    kept = []
    for point in points:
        if filters.country and country_of(point) != filters.country:
            continue
        if filters.service and filters.service not in (point.services or []):
            continue
        if filters.open_now and not is_open(point, now):
            continue
        kept.append(point)
    return kept


@dataclass(frozen=True)
class NextPoint(Generic[Shown]):
    point: Shown
    route_name: str
    hours: Decimal
    km: int


def distance_km(a: ServicePoint, b: ServicePoint) -> float:
    """Great-circle distance (haversine), a floor for the distance by road."""
    return km_between(
        (float(a.latitude), float(a.longitude)), (float(b.latitude), float(b.longitude))
    )


def km_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    """``distance_km`` between two (latitude, longitude) pairs."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def next_along(
    start: ServicePoint | PublicPoint,
    allowed: Iterable[Shown],
    *,
    service: str = "",
    direction: str = "onward",
    limit: int = 5,
) -> list[NextPoint[Shown]]:
    """The next points along every route through ``start`` (onward, or back towards where the
    route begins) that offer ``service``, nearest first, among the ``allowed`` ones. Reads
    the routes' precomputed legs (``precomputed.legs_through``): their stops in order, with
    the hours and kilometres from the stop before."""
    allowed_by_id = {point.pk: point for point in allowed}
    found: dict[uuid.UUID, NextPoint[Shown]] = {}
    routes = precomputed.legs_through(start.pk)
    names = precomputed.route_names(routes)
    for route_id, legs in routes.items():
        index = next(i for i, leg in enumerate(legs) if leg.point_id == start.pk)
        hours, km = Decimal(0), 0.0
        step = 1 if direction == "onward" else -1
        previous = legs[index]
        position = index + step
        while 0 <= position < len(legs):
            leg = legs[position]
            # Travel between two stops is stored on the later one of the pair.
            later = leg if step == 1 else previous
            hours += later.hours
            km += later.km
            point = allowed_by_id.get(leg.point_id)
            if (
                point is not None
                and (not service or service in (point.services or []))
                and (leg.point_id not in found or found[leg.point_id].hours > hours)
            ):
                found[leg.point_id] = NextPoint(point, names[route_id], hours, round(km))
            previous = leg
            position += step
    return sorted(found.values(), key=lambda n: (n.hours, n.km))[:limit]


STALE_AFTER = dt.timedelta(days=30)


def is_stale(point: ServicePoint | PublicPoint, today: dt.date) -> bool:
    """Nobody has verified the entry for 30 days (or ever)."""
    return point.last_verified is None or today - point.last_verified > STALE_AFTER


def stale_points(actor: Actor, today: dt.date) -> list[ServicePoint]:
    """The points an editor runs that nobody has verified for 30 days (their reminder)."""
    from routecare.access import may_edit_service_point

    if actor.national_society_id is None:
        return []
    candidates = (
        _points()
        .filter(national_society_id=actor.national_society_id)
        .filter(Q(last_verified__isnull=True) | Q(last_verified__lt=today - STALE_AFTER))
    )
    return [point for point in candidates if may_edit_service_point(actor, point)]


def point_names(codes: Iterable[str], language: str) -> dict[str, str]:
    """The names, in ``language``, of the points with these codes (a card names the points it
    was issued and used at by code; people read their names). Unknown codes are left out."""
    wanted = {code for code in codes if code}
    points = ServicePoint.objects.filter(code__in=wanted) if wanted else []
    return {point.code: point.public_text("name", language) for point in points}
