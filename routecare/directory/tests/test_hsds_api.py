"""The public directory as the HSDS 3.0 API: the paths and paging of the specification's
OpenAPI, every record validated against the official schemas (strictly: no field the schema
does not name), public points only, clear JSON messages for unknown ids and bad paging."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import jsonschema
import pytest
from django.test import Client

from routecare.conftest import Society
from routecare.directory.tests.test_directory import _hsds_schema, _point
from routecare.orgs.models import ServicePoint

PAGE_KEYS = {"total_items", "total_pages", "page_number", "size", "first_page", "last_page",
             "empty", "contents"}  # fmt: skip


def _strict(schema: Any) -> Any:
    """The schema with ``additionalProperties: false`` on every object it describes, so that a
    field the specification does not have (or a nested list in a list item) fails."""
    schema = copy.deepcopy(schema)

    def close(node: Any) -> None:
        if isinstance(node, dict):
            if "properties" in node:
                node.setdefault("additionalProperties", False)
            for value in node.values():
                close(value)
        elif isinstance(node, list):
            for value in node:
                close(value)

    close(schema)
    return schema


def _validate(record: dict[str, Any], name: str) -> None:
    jsonschema.validate(record, _strict(_hsds_schema(name)))


@pytest.fixture
def points(own: Society, other: Society) -> list[ServicePoint]:
    return [
        _point(own, "hn-a"),
        _point(own, "hn-b", services=["water"]),
        _point(other, "gt-c", services=["food"]),
        _point(other, "gt-hidden", visibility="network", services=["shelter"]),
        _point(own, "hn-internal", visibility="internal", services=["shelter"]),
    ]


def _get(url: str, status: int = 200) -> Any:
    response = Client().get(url)
    assert response.status_code == status, (url, response.content[:300])
    assert response["Content-Type"] == "application/json"
    return json.loads(response.content)


def test_services_are_a_page_of_valid_list_items(points: list[ServicePoint]) -> None:
    body = _get("/hsds/services")
    assert set(body) == PAGE_KEYS
    assert body["total_items"] == 3  # water and medicines (HN), food (GT)
    assert (body["page_number"], body["total_pages"], body["size"]) == (1, 1, 3)
    assert body["first_page"]
    assert body["last_page"]
    assert not body["empty"]
    for service in body["contents"]:
        _validate(service, "service_list.json")
    assert {s["name"] for s in body["contents"]} == {"Water", "Medicines", "Food"}


def test_full_services_and_one_service_are_fully_nested(points: list[ServicePoint]) -> None:
    for service in _get("/hsds/services?full=true")["contents"]:
        _validate(service, "service.json")
    water = next(s for s in _get("/hsds/services")["contents"] if s["name"] == "Water")
    service = _get(f"/hsds/services/{water['id']}")
    _validate(service, "service.json")
    codes = {sal["location"]["external_identifier"] for sal in service["service_at_locations"]}
    assert codes == {"hn-a", "hn-b"}
    schedules = service["service_at_locations"][0]["location"]["schedules"]
    assert re.fullmatch(r"\d\d:\d\d:00(Z|[+-]\d\d:\d\d)", schedules[0]["opens_at"])


def test_organizations_list_and_detail(points: list[ServicePoint], own: Society) -> None:
    body = _get("/hsds/organizations")
    assert body["total_items"] == 2
    for organization in body["contents"]:
        _validate(organization, "organization_list.json")
    for organization in _get("/hsds/organizations?full=true&full_service=true")["contents"]:
        _validate(organization, "organization.json")
    honduras = _get(f"/hsds/organizations/{own.society.pk}")
    _validate(honduras, "organization.json")
    assert {loc["external_identifier"] for loc in honduras["locations"]} == {"hn-a", "hn-b"}
    assert all(set(s) <= {"id", "organization_id", "name", "status", "description",
                          "fees_description"} for s in honduras["services"])  # fmt: skip
    full = _get(f"/hsds/organizations/{own.society.pk}?full_service=true")
    _validate(full, "organization.json")
    assert all(s["service_at_locations"] for s in full["services"])


def test_service_at_locations_list_and_detail(points: list[ServicePoint], own: Society) -> None:
    body = _get("/hsds/service_at_locations?per_page=2")
    assert body["total_items"] == 4  # hn-a water+medicines, hn-b water, gt-c food
    assert (body["size"], body["total_pages"], body["last_page"]) == (2, 2, False)
    second = _get("/hsds/service_at_locations?per_page=2&page=2")
    assert (second["page_number"], second["first_page"], second["last_page"]) == (2, False, True)
    ids = [sal["id"] for sal in body["contents"] + second["contents"]]
    assert len(set(ids)) == 4
    for sal in body["contents"] + second["contents"]:
        _validate(sal, "service_at_location_list.json")
    one = _get(f"/hsds/service_at_locations/{ids[0]}")
    _validate(one, "service_at_location.json")
    assert one["location"]["schedules"]
    for sal in _get("/hsds/service_at_locations?full=true")["contents"]:
        _validate(sal, "service_at_location.json")
    mine = _get(f"/hsds/service_at_locations?organization_id={own.society.pk}")
    assert mine["total_items"] == 3
    water = _get("/hsds/service_at_locations?search=water")
    assert water["total_items"] == 2


def test_only_public_points_are_served(points: list[ServicePoint], other: Society) -> None:
    everything = json.dumps(
        [
            _get("/hsds/services?full=true"),
            _get("/hsds/organizations?full=true&full_service=true"),
            _get("/hsds/service_at_locations?full=true"),
        ]
    )
    assert "hn-a" in everything
    assert "gt-hidden" not in everything
    assert "hn-internal" not in everything
    assert "Shelter" not in everything
    hidden = str(points[3].pk)
    assert hidden not in everything
    # The services of hidden points are unknown ids.
    internal_sal = "/hsds/service_at_locations/" + hidden
    assert _get(internal_sal, 404) == {"detail": "No public service at location has this id."}


@pytest.mark.parametrize(
    "path",
    ["/hsds/services/nope", "/hsds/organizations/00000000-0000-0000-0000-000000000000",
     "/hsds/service_at_locations/%20"],
)  # fmt: skip
def test_unknown_ids_answer_404_with_a_message(points: list[ServicePoint], path: str) -> None:
    assert "has this id" in _get(path, 404)["detail"]


@pytest.mark.parametrize(
    ("query", "status", "words"),
    [
        ("page=0", 400, "page must be a whole number"),
        ("page=-1", 400, "page must be a whole number"),
        ("page=two", 400, "page must be a whole number"),
        ("page=%00", 400, "page must be a whole number"),
        ("page=99999999999999999999", 400, "page must be a whole number"),
        ("per_page=0", 400, "per_page must be a whole number"),
        ("per_page=100000", 400, "per_page must be a whole number from 1 to 200"),
        ("page=9", 404, "There is no page 9: there are 1 pages."),
        ("full=maybe", 400, "full must be true or false"),
        ("taxonomy_term_id=x", 400, "taxonomy_term_id is not supported"),
        ("format=ndjson", 400, "only json"),
        ("country=ZZ", 400, "Unknown country"),
        ("search=" + "x" * 500, 400, "search must be printable"),
    ],
)
def test_bad_queries_answer_a_clear_message(
    points: list[ServicePoint], query: str, status: int, words: str
) -> None:
    assert words in _get(f"/hsds/services?{query}", status)["detail"]


def test_an_empty_directory_is_one_empty_page(db: None) -> None:
    body = _get("/hsds/organizations")
    assert body == {
        "total_items": 0, "total_pages": 0, "page_number": 1, "size": 0,
        "first_page": True, "last_page": True, "empty": True, "contents": [],
    }  # fmt: skip


def test_the_api_says_what_it_is(db: None) -> None:
    assert _get("/hsds/")["version"] == "3.0"
    assert Client().post("/hsds/services").status_code == 405


def test_a_country_gives_its_directory(points: list[ServicePoint]) -> None:
    organizations = _get("/hsds/organizations?country=HN")["contents"]
    assert {o["name"] for o in organizations} >= {"Honduran Red Cross"}
