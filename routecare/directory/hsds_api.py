"""The public directory as the Open Referral HSDS 3.0 API (docs/hsds.md): the paths, paging and
record shapes of the specification's OpenAPI (openapi.json, HSDS 3.0), so that HSDS consumers
read RouteCare without custom code.

Every answer is cut from the same records as the file export (``exports.hsds``): fully nested
records as the export has them, and list items as their one-to-one fields (the specification's
``*_list`` schemas). Public points only, as in every public export."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils import translation
from django.views.decorators.http import require_GET

from routecare.access import Rule, staff_view
from routecare.directory import exports, selectors
from routecare.directory.views import export_points

HSDS_VERSION = "3.0"
OPENAPI_URL = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/openapi.json"
DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200
MAX_SEARCH = 200
# Query parameters of the specification that RouteCare does not serve: refused, never ignored
# (an ignored filter would answer with more than was asked for, as if it had been applied).
UNSUPPORTED = ("taxonomy_term_id", "taxonomy_id", "modified_after", "minimal", "postcode",
               "proximity")  # fmt: skip

Record = dict[str, Any]


class HsdsError(Exception):
    """A request the API answers with a JSON message instead of records."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def hsds_view(view: Callable[..., Record]) -> Callable[..., JsonResponse]:
    """A public GET endpoint whose records or error message are answered as JSON."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        try:
            body = view(request, *args, **kwargs)
        except HsdsError as error:
            return JsonResponse({"detail": error.detail}, status=error.status)
        return JsonResponse(body, json_dumps_params={"ensure_ascii": False})

    return staff_view(Rule.PUBLIC)(require_GET(wrapper))  # type: ignore[return-value]


def one_to_one(record: Record) -> Record:
    """A record's own fields, without its nested lists and objects (HSDS list items)."""
    return {key: value for key, value in record.items() if not isinstance(value, list | dict)}


@dataclass
class Catalogue:
    """The HSDS records of the public points a request asks for, indexed by id."""

    organizations: dict[str, Record] = field(default_factory=dict)
    services: dict[str, Record] = field(default_factory=dict)
    locations: dict[str, Record] = field(default_factory=dict)
    service_at_locations: dict[str, Record] = field(default_factory=dict)

    @classmethod
    def of(cls, request: HttpRequest) -> Catalogue:
        filters = selectors.parse_filters(request.GET)
        country = request.GET.get("country", "").strip().upper()
        if country and filters.country != country:
            raise HsdsError(400, "Unknown country: give an ISO 3166-1 alpha-2 code, e.g. HN.")
        points, urls = export_points(request)
        with translation.override("en"):
            organizations = exports.hsds(points, urls)
        catalogue = cls()
        for organization in organizations:
            catalogue.organizations[organization["id"]] = organization
            for location in organization["locations"]:
                catalogue.locations[location["id"]] = location
            for service in organization["services"]:
                catalogue.services[service["id"]] = service
                for service_at_location in service["service_at_locations"]:
                    catalogue.service_at_locations[service_at_location["id"]] = service_at_location
        return catalogue

    def full_organization(self, organization: Record, *, full_service: bool) -> Record:
        services = organization["services"]
        return {
            **organization,
            "services": [
                self.full_service(service) if full_service else one_to_one(service)
                for service in services
            ],
        }

    def service_item(self, service: Record) -> Record:
        organization = self.organizations[service["organization_id"]]
        return {**one_to_one(service), "organization": one_to_one(organization)}

    def full_service(self, service: Record) -> Record:
        return {
            **self.service_item(service),
            "service_at_locations": [
                {**sal, "location": self.locations[sal["location_id"]]}
                for sal in service["service_at_locations"]
            ],
        }

    def service_at_location_item(self, sal: Record) -> Record:
        return {
            **sal,
            "service": one_to_one(self.services[sal["service_id"]]),
            "location": one_to_one(self.locations[sal["location_id"]]),
        }

    def full_service_at_location(self, sal: Record) -> Record:
        return {
            **sal,
            "service": self.service_item(self.services[sal["service_id"]]),
            "location": self.locations[sal["location_id"]],
        }


def _integer(request: HttpRequest, name: str, default: int, most: int) -> int:
    raw = request.GET.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= most:
        raise HsdsError(400, f"{name} must be a whole number from 1 to {most}.")
    return int(raw)


def _boolean(request: HttpRequest, name: str) -> bool:
    raw = request.GET.get(name, "false").lower()
    if raw not in ("true", "false"):
        raise HsdsError(400, f"{name} must be true or false.")
    return raw == "true"


def _check_query(request: HttpRequest) -> None:
    for name in UNSUPPORTED:
        if name in request.GET:
            raise HsdsError(400, f"{name} is not supported by this API.")
    if request.GET.get("format", "json") != "json":
        raise HsdsError(400, "format: only json is served.")


def _search(request: HttpRequest, records: list[Record], *fields: str) -> list[Record]:
    """HSDS's full-text ``search``, as a case-insensitive search of the records' texts (a
    field named "service.name" is the name of the record's nested service)."""
    words = request.GET.get("search", "").strip()
    if not words:
        return records
    if len(words) > MAX_SEARCH or not words.isprintable():
        raise HsdsError(400, f"search must be printable text of at most {MAX_SEARCH} characters.")
    needle = words.casefold()

    def text(record: Record, name: str) -> str:
        for part in name.split("."):
            record = record.get(part) or {}
        return str(record or "").casefold()

    return [record for record in records if any(needle in text(record, n) for n in fields)]


def _by_organization(request: HttpRequest, records: list[Record]) -> list[Record]:
    organization_id = request.GET.get("organization_id")
    if organization_id is None:
        return records
    return [record for record in records if record.get("organization_id") == organization_id]


def page(request: HttpRequest, records: list[Record]) -> Record:
    """One page of records, in the Page shape of the specification's OpenAPI."""
    number = _integer(request, "page", 1, 1_000_000)
    per_page = _integer(request, "per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)
    total_pages = math.ceil(len(records) / per_page)
    if number > max(total_pages, 1):
        raise HsdsError(404, f"There is no page {number}: there are {total_pages} pages.")
    contents = records[(number - 1) * per_page : number * per_page]
    return {
        "total_items": len(records),
        "total_pages": total_pages,
        "page_number": number,
        "size": len(contents),
        "first_page": number == 1,
        "last_page": number >= total_pages,
        "empty": not records,
        "contents": contents,
    }


def _found(records: dict[str, Record], hsds_id: str, what: str) -> Record:
    record = records.get(hsds_id)
    if record is None:
        raise HsdsError(404, f"No public {what} has this id.")
    return record


@hsds_view
def about(request: HttpRequest) -> Record:
    """What this API is (the specification's ``/``)."""
    return {"version": HSDS_VERSION, "openapi_url": OPENAPI_URL}


@hsds_view
def services(request: HttpRequest) -> Record:
    _check_query(request)
    catalogue = Catalogue.of(request)
    found = _search(request, list(catalogue.services.values()), "name", "description")
    found = _by_organization(request, found)
    shape = catalogue.full_service if _boolean(request, "full") else catalogue.service_item
    return page(request, [shape(service) for service in found])


@hsds_view
def service(request: HttpRequest, hsds_id: str) -> Record:
    catalogue = Catalogue.of(request)
    return catalogue.full_service(_found(catalogue.services, hsds_id, "service"))


@hsds_view
def organizations(request: HttpRequest) -> Record:
    _check_query(request)
    catalogue = Catalogue.of(request)
    full, full_service = _boolean(request, "full"), _boolean(request, "full_service")
    found = _search(request, list(catalogue.organizations.values()), "name", "description")
    return page(
        request,
        [
            catalogue.full_organization(organization, full_service=full_service)
            if full or full_service
            else one_to_one(organization)
            for organization in found
        ],
    )


@hsds_view
def organization(request: HttpRequest, hsds_id: str) -> Record:
    catalogue = Catalogue.of(request)
    found = _found(catalogue.organizations, hsds_id, "organization")
    return catalogue.full_organization(found, full_service=_boolean(request, "full_service"))


@hsds_view
def service_at_locations(request: HttpRequest) -> Record:
    _check_query(request)
    catalogue = Catalogue.of(request)
    items = [
        catalogue.service_at_location_item(sal) for sal in catalogue.service_at_locations.values()
    ]
    organization_id = request.GET.get("organization_id")
    if organization_id is not None:
        items = [sal for sal in items if sal["location"]["organization_id"] == organization_id]
    items = _search(request, items, "service.name", "location.name")
    if _boolean(request, "full"):
        items = [
            catalogue.full_service_at_location(catalogue.service_at_locations[sal["id"]])
            for sal in items
        ]
    return page(request, items)


@hsds_view
def service_at_location(request: HttpRequest, hsds_id: str) -> Record:
    catalogue = Catalogue.of(request)
    found = _found(catalogue.service_at_locations, hsds_id, "service at location")
    return catalogue.full_service_at_location(found)
