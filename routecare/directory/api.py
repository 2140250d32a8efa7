"""The directory over the API: public reads (no token), staff reads and edits."""

import datetime as dt
import json
import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.renderers import JSONRenderer
from pydantic import ConfigDict

from routecare.access import Actor, Rule, api_rule
from routecare.core import caching, fields
from routecare.core.fields import InputSchema
from routecare.directory import actions, selectors
from routecare.directory.entries import hours_from_json
from routecare.directory.hours import OpeningState, opening_state, state_of
from routecare.directory.precomputed import Entry
from routecare.orgs.models import (
    POINT_ADDRESS,
    POINT_DIRECTIONS,
    POINT_NAME,
    ServicePoint,
    valid_period,
)
from routecare.orgs.taxonomy import Service

router = Router(tags=["directory"])
JSON = JSONRenderer()


def _actor(request: HttpRequest) -> Actor:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    return actor


class Period(Schema):
    day: int = Field(..., ge=0, le=6)
    opens: str = Field(..., pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    closes: str = Field(..., pattern=r"^([01]\d|2[0-3]):[0-5]\d$")


class PublicPointOut(Schema):
    code: str
    name: str
    # Where it is in words, and the name, address and directions in the public pages'
    # languages ({"es": {"name": "…", "address": "…"}}; a missing one: use the default).
    address: str
    directions: str
    translations: dict[str, dict[str, str]]
    country: str
    kind: str
    status: str
    latitude: float
    longitude: float
    services: list[str]
    languages: list[str]
    opening_hours: list[Period]
    phone: str
    whatsapp: str
    last_verified: dt.date | None
    # From hours.opening_state, as on the public pages: open now and until when (None: open
    # through the week), or when it next opens (None: not operating, or no hours known); in
    # the point's local time with its offset.
    open_now: bool
    open_until: dt.datetime | None
    next_opening: dt.datetime | None

    @staticmethod
    def resolve_country(point: ServicePoint) -> str:
        return point.national_society.country_code

    @staticmethod
    def resolve_opening_hours(point: ServicePoint) -> list[dict[str, Any]]:
        # A period saved before hours were validated is left out rather than break the list.
        return [period for period in point.opening_hours or [] if valid_period(period)]

    @staticmethod
    def resolve_open_now(point: ServicePoint) -> bool:
        return opening_state(point, timezone.now()).open_now

    @staticmethod
    def resolve_open_until(point: ServicePoint) -> dt.datetime | None:
        return opening_state(point, timezone.now()).until

    @staticmethod
    def resolve_next_opening(point: ServicePoint) -> dt.datetime | None:
        return opening_state(point, timezone.now()).next_opens


# The fields of PublicPointOut that follow the clock, last in each object: the precomputed
# entry keeps the others (directory.precomputed), these are added when it is served.
PUBLIC_CLOCK_FIELDS = ("open_now", "open_until", "next_opening")


def render_json(data: Any) -> str:
    """``data`` as the API renders it."""
    return json.dumps(data, cls=JSON.encoder_class, **JSON.json_dumps_params)


def _clock_fields(state: OpeningState) -> str:
    """The end of a point's object: its PUBLIC_CLOCK_FIELDS, as ``render_json`` writes them."""
    values = (state.open_now, state.until, state.next_opens)
    return (
        "".join(
            f", {render_json(name)}: {render_json(value)}"
            for name, value in zip(PUBLIC_CLOCK_FIELDS, values, strict=True)
        )
        + "}"
    )


def _states(entries: list[Entry], now: dt.datetime) -> list[OpeningState]:
    """What the clock says of each point: the same for points with the same hours and status
    (most of a network's), so worked out once for each."""
    known: dict[tuple[str, str], OpeningState] = {}
    states = []
    for entry in entries:
        state = known.get((entry.hours, entry.status))
        if state is None:
            state = state_of(hours_from_json(entry.hours), entry.status, now)
            known[(entry.hours, entry.status)] = state
        states.append(state)
    return states


class StaffPointOut(PublicPointOut):
    id: uuid.UUID
    national_society: str
    visibility: str
    capacity: int | None

    @staticmethod
    def resolve_national_society(point: ServicePoint) -> str:
        return point.national_society.name


class NextOut(Schema):
    point: StaffPointOut
    route: str
    hours: Decimal
    km: int


class DirectoryQuery(InputSchema):
    country: str = Field("", pattern=r"^([A-Za-z]{2})?$")
    service: Service | None = None
    open_now: bool = False


# The languages of the public pages (orgs.models.PUBLIC_LANGUAGES).
PublicLanguage = Literal["en", "es", "fr", "ar", "fa", "ps", "ur", "ht"]


class PointTexts(InputSchema):
    """A point's public name, address and directions in one language ("" or left out: the
    default ones are shown)."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, POINT_NAME] = ""
    address: Annotated[str, POINT_ADDRESS] = ""
    directions: Annotated[str, POINT_DIRECTIONS] = ""


class PointChanges(InputSchema):
    model_config = ConfigDict(extra="forbid")

    status: ServicePoint.Status | None = None
    visibility: ServicePoint.Visibility | None = None
    opening_hours: list[Period] | None = Field(None, max_length=50)
    services: list[Service] | None = Field(None, max_length=30)
    languages: list[Annotated[str, fields.LANGUAGE]] | None = Field(None, max_length=20)
    phone: Annotated[str, fields.PHONE] | None = None
    whatsapp: Annotated[str, fields.PHONE] | None = None
    capacity: int | None = Field(None, ge=0, le=1_000_000)
    latitude: Decimal | None = Field(None, ge=-90, le=90, decimal_places=5)
    longitude: Decimal | None = Field(None, ge=-180, le=180, decimal_places=5)
    last_verified: dt.date | None = None
    address: Annotated[str, POINT_ADDRESS] | None = None
    directions: Annotated[str, POINT_DIRECTIONS] | None = None
    # Replaces every translation: send the ones to keep.
    translations: dict[PublicLanguage, PointTexts] | None = Field(None, max_length=8)


def _filters(query: DirectoryQuery) -> selectors.Filters:
    return selectors.Filters(
        country=query.country.upper(),
        service=query.service.value if query.service else "",
        open_now=query.open_now,
    )


@router.get("/public/service-points", response=list[PublicPointOut], auth=None)
@api_rule(Rule.PUBLIC)
def public_service_points(request: HttpRequest, query: Query[DirectoryQuery]) -> HttpResponse:
    """What people on the move see: public points, for a country with its onward setting."""
    filters = _filters(query)
    now = timezone.now()
    # The points' precomputed objects, with what the clock says of each added.
    entries = selectors.public_entries(filters.country, api=True)
    states = _states(entries, now)

    def draw() -> bytes:
        ends: dict[OpeningState, str] = {}
        objects = [
            (entry.api or "") + (ends.get(state) or ends.setdefault(state, _clock_fields(state)))
            for entry, state in zip(entries, states, strict=True)
            if (not filters.service or f",{filters.service}," in entry.services)
            and (not filters.open_now or state.open_now)
        ]
        return ("[" + ", ".join(objects) + "]").encode()

    # The same for everyone who asks, like the public pages (selectors.PUBLIC_SECONDS), and
    # never after one of the points opens or closes.
    # Over the distinct states (``_states`` shares one per hours and status): 500 points
    # are a handful of states.
    distinct = {id(state): state for state in states}.values()
    change = min((c for s in distinct if (c := s.next_change) is not None), default=None)
    parts = ("api", filters.country, filters.service, filters.open_now, change)
    body = caching.remember(selectors.PUBLIC_PAGES, parts, selectors.PUBLIC_SECONDS, draw)
    return HttpResponse(body, content_type=f"{JSON.media_type}; charset={JSON.charset}")


@router.get("/directory/service-points", response=list[StaffPointOut])
@api_rule(Rule.SIGNED_IN)
def service_points(request: HttpRequest, query: Query[DirectoryQuery]) -> list[ServicePoint]:
    """Every point the caller may see: their society's, and the network's shared ones."""
    points = selectors.staff_points(_actor(request))
    return selectors.apply_filters(points, _filters(query), timezone.now())


@router.get("/directory/service-points/{service_point_id}", response=StaffPointOut)
@api_rule(Rule.SIGNED_IN)
def service_point(request: HttpRequest, service_point_id: str) -> ServicePoint:
    return selectors.staff_point(_actor(request), service_point_id)


@router.get("/directory/service-points/{service_point_id}/next", response=list[NextOut])
@api_rule(Rule.SIGNED_IN)
def next_along(
    request: HttpRequest,
    service_point_id: str,
    service: Service | None = None,
    direction: Literal["onward", "back"] = "onward",
) -> list[dict[str, Any]]:
    """The next points along the routes through this one that offer a service."""
    actor = _actor(request)
    start = selectors.staff_point(actor, service_point_id)
    found = selectors.next_along(
        start,
        selectors.staff_points(actor),
        service=service.value if service else "",
        direction=direction,
    )
    return [{"point": n.point, "route": n.route_name, "hours": n.hours, "km": n.km} for n in found]


@router.patch("/directory/service-points/{service_point_id}", response=StaffPointOut)
@api_rule(Rule.DIRECTORY_EDITING)
def update_service_point(
    request: HttpRequest, service_point_id: str, body: PointChanges
) -> ServicePoint:
    """Change a point you run (focal points; coordinators of the point): status, hours,
    services, contacts, visibility, capacity, coordinates, verification date, address and
    directions, and the public name, address and directions in other languages."""
    actor = _actor(request)
    point = selectors.staff_point(actor, service_point_id)
    changes = body.model_dump(exclude_unset=True, mode="json")
    for name in ("latitude", "longitude"):
        if changes.get(name) is not None:
            changes[name] = Decimal(str(changes[name]))
    if changes.get("translations") is not None:
        changes["translations"] = {
            language: {field: text for field, text in texts.items() if text}
            for language, texts in changes["translations"].items()
            if any(texts.values())
        }
    if "last_verified" in changes and changes["last_verified"] is not None:
        changes["last_verified"] = dt.date.fromisoformat(changes["last_verified"])
    if any(
        value is None
        for name, value in changes.items()
        if name not in ("capacity", "last_verified")
    ):
        raise ValidationError(_none_message())
    return actions.update_service_point(actor, point, **changes)


def _none_message() -> str:
    from django.utils.translation import gettext

    return gettext("Leave a field out to keep it; it cannot be emptied with null.")
