"""The service directory: what the public and staff see, filters, routes and exports."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import unicodedata
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import jsonschema
import pytest
from django.test import Client
from django.utils import timezone

from routecare.conftest import Society
from routecare.core import person_texts
from routecare.core.person_texts import PERSON_LANGUAGES
from routecare.core.tests.named_controls import unnamed_controls
from routecare.core.tests.printed import drawn, missing_glyphs
from routecare.directory import selectors
from routecare.directory.hours import is_open
from routecare.orgs.models import NationalSociety, Route, RouteStop, ServicePoint

REPOSITORY = Path(__file__).resolve().parents[3]
# The official Open Referral schemas, kept beside the repository (../shared/reference/).
HSDS_CANDIDATES = [
    Path(os.environ.get("ROUTECARE_HSDS_SCHEMAS", REPOSITORY / "missing")),
    REPOSITORY.parent / "shared" / "reference" / "hsds-3.0" / "compiled",
    Path("/work/shared/reference/hsds-3.0/compiled"),
]


def _hsds_schema(name: str) -> dict[str, object]:
    for folder in HSDS_CANDIDATES:
        if (folder / name).is_file():
            schema: dict[str, object] = json.loads((folder / name).read_text())
            return schema
    pytest.fail(f"HSDS schemas not found; set ROUTECARE_HSDS_SCHEMAS (tried {HSDS_CANDIDATES})")


def _point(society: Society, code: str, **values: object) -> ServicePoint:
    defaults: dict[str, object] = {
        "name": f"Point {code}",
        "latitude": Decimal("14.0"),
        "longitude": Decimal("-87.0"),
        "services": ["water", "medicines"],
        "visibility": "public",
        "opening_hours": [{"day": d, "opens": "00:00", "closes": "23:59"} for d in range(7)],
        "last_verified": timezone.now().date(),
    }
    defaults.update(values)
    return ServicePoint.objects.create(national_society=society.society, code=code, **defaults)


@pytest.fixture
def route(own: Society, other: Society) -> list[ServicePoint]:
    """own (HN) → other (GT): a, b (HN), c, d (GT); b has no medicines, d is network-only."""
    a = _point(own, "hn-a", latitude=Decimal("13.80"), longitude=Decimal("-86.55"))
    b = _point(
        own, "hn-b", latitude=Decimal("14.03"), longitude=Decimal("-86.58"), services=["water"]
    )
    c = _point(other, "gt-c", latitude=Decimal("14.60"), longitude=Decimal("-89.19"))
    d = _point(
        other, "gt-d", latitude=Decimal("14.63"), longitude=Decimal("-90.51"), visibility="network"
    )
    north = Route.objects.create(network=own.society.network, slug="north", name="North")
    for position, (point, hours) in enumerate([(a, 0), (b, 2), (c, 9), (d, 5)]):
        RouteStop.objects.create(
            route=north, position=position, service_point=point, hours_from_previous=hours
        )
    return [a, b, c, d]


def test_the_public_sees_only_public_points(route: list[ServicePoint], own: Society) -> None:
    codes = {p.code for p in selectors.public_points("HN")}
    assert codes == {"hn-a", "hn-b", "gt-c"}
    assert own.point.code not in codes  # test points are network-visible by default


def test_with_onward_points_off_a_country_page_shows_only_its_own(
    route: list[ServicePoint], own: Society
) -> None:
    NationalSociety.objects.filter(pk=own.society.pk).update(show_onward_points=False)
    assert {p.code for p in selectors.public_points("HN")} == {"hn-a", "hn-b"}
    assert {p.code for p in selectors.public_points("GT")} == {"hn-a", "hn-b", "gt-c"}


def test_next_along_the_way_offering_a_service(route: list[ServicePoint]) -> None:
    a = route[0]
    public = selectors.public_points("HN")
    found = selectors.next_along(a, public, service="medicines")
    assert [n.point.code for n in found] == ["gt-c"]  # b lacks medicines, d is not public
    assert found[0].hours == 11
    assert 250 < found[0].km < 450
    staff = selectors.next_along(a, ServicePoint.objects.all(), service="medicines")
    assert [n.point.code for n in staff] == ["gt-c", "gt-d"]
    back = selectors.next_along(route[2], public, direction="back")
    assert [n.point.code for n in back] == ["hn-b", "hn-a"]
    assert back[0].hours == 9


def test_open_now_follows_the_point_local_time(route: list[ServicePoint], own: Society) -> None:
    point = route[0]
    point.opening_hours = [{"day": 0, "opens": "08:00", "closes": "18:00"}]
    point.national_society.time_zone = "America/Tegucigalpa"  # UTC-6
    monday_9_local = dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.UTC)
    assert is_open(point, monday_9_local)
    assert not is_open(point, monday_9_local + dt.timedelta(hours=10))
    point.status = "temporarily-closed"
    assert not is_open(point, monday_9_local)


def test_overnight_hours_run_past_midnight(route: list[ServicePoint]) -> None:
    point = route[0]
    point.opening_hours = [{"day": 0, "opens": "20:00", "closes": "06:00"}]
    point.national_society.time_zone = "UTC"
    assert is_open(point, dt.datetime(2026, 11, 23, 22, 0, tzinfo=dt.UTC))  # Monday night
    assert is_open(point, dt.datetime(2026, 11, 24, 5, 0, tzinfo=dt.UTC))  # Tuesday early
    assert not is_open(point, dt.datetime(2026, 11, 24, 7, 0, tzinfo=dt.UTC))


def test_the_public_page_in_farsi_is_right_to_left(route: list[ServicePoint]) -> None:
    response = Client().get("/fa/services/?country=HN&service=medicines&from=hn-a")
    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="fa" dir="rtl">' in page
    assert "داروها" in page or "دارو" in page
    assert 'data-code="gt-c"' in page
    assert "gt-d" not in page
    assert "capacity" not in page.lower()


def test_an_unknown_language_falls_back_to_english() -> None:
    response = Client().get("/xx/services/?country=HN")
    assert response.status_code == 302
    assert response["Location"] == "/en/services/?country=HN"


def test_bad_filters_are_ignored_with_a_message(route: list[ServicePoint]) -> None:
    response = Client().get("/en/services/?country=ZZ&service=teleport&from=nowhere&direction=up")
    assert response.status_code == 200
    assert b"was not understood" in response.content
    assert b'data-code="hn-a"' in response.content


def test_a_point_page_has_share_text_and_map_links(route: list[ServicePoint]) -> None:
    response = Client().get("/es/services/hn-a/?country=HN")
    assert response.status_code == 200
    page = response.content.decode()
    assert "geo:13.80000,-86.55000" in page
    assert "openstreetmap.org" in page
    assert "https://wa.me/?text=" in page
    assert "Agua" in page  # services named in Spanish
    assert Client().get("/es/services/gt-d/").status_code == 404  # network-only point


def test_a_point_page_names_the_languages_spoken_and_keeps_the_language_switcher(
    route: list[ServicePoint],
) -> None:
    ServicePoint.objects.filter(code="hn-a").update(languages=["es", "en"])
    response = Client().get("/es/services/hn-a/?country=HN")
    assert response.status_code == 200
    page = response.content.decode()
    assert "español, inglés" in page  # spoken at the point, named in Spanish
    assert 'hreflang="ar"' in page  # the switcher still lists every language


@pytest.mark.parametrize("language", ["fa", "es"])
def test_every_control_of_the_public_pages_has_an_accessible_name(
    route: list[ServicePoint], language: str
) -> None:
    # Issue 19, item 8: the share text box of a point page had no name (axe: critical).
    for address in (f"/{language}/services/hn-a/", f"/{language}/services/?country=HN"):
        page = Client().get(address)
        assert page.status_code == 200
        assert unnamed_controls(page.content.decode()) == [], address


def test_a_status_change_shows_on_the_public_page(route: list[ServicePoint]) -> None:
    ServicePoint.objects.filter(code="hn-a").update(status="temporarily-closed")
    page = Client().get("/en/services/hn-a/").content.decode()
    assert "Temporarily closed" in page


def test_staff_see_network_points_the_public_cannot(
    route: list[ServicePoint], own: Society, web: Callable[..., Client]
) -> None:
    internal = _point(own, "hn-internal", visibility="internal")
    page = web(own.volunteer, own.point).get("/directory/").content.decode()
    assert 'data-code="gt-d"' in page
    assert 'data-code="hn-internal"' in page
    assert "gt-d" not in Client().get("/en/services/").content.decode()
    detail = web(own.volunteer, own.point).get(f"/directory/{internal.pk}/")
    assert detail.status_code == 200


def test_staff_of_another_society_do_not_see_internal_points(
    route: list[ServicePoint], own: Society, other: Society, web: Callable[..., Client]
) -> None:
    internal = _point(own, "hn-internal", visibility="internal")
    client = web(other.volunteer, other.point)
    assert 'data-code="hn-internal"' not in client.get("/directory/").content.decode()
    assert client.get(f"/directory/{internal.pk}/").status_code == 404


def test_stale_points_are_flagged_for_staff(
    route: list[ServicePoint], own: Society, web: Callable[..., Client]
) -> None:
    ServicePoint.objects.filter(code="hn-a").update(
        last_verified=timezone.now().date() - dt.timedelta(days=45)
    )
    page = web(own.volunteer, own.point).get("/directory/?country=HN").content.decode()
    assert "not verified for 30 days" in page


def test_geojson_and_kml_parse(route: list[ServicePoint]) -> None:
    geojson = json.loads(Client().get("/services.geojson?country=HN").content)
    assert geojson["type"] == "FeatureCollection"
    features = {f["properties"]["code"]: f for f in geojson["features"]}
    assert set(features) == {"hn-a", "hn-b", "gt-c"}
    assert features["hn-a"]["geometry"]["coordinates"] == [-86.55, 13.8]
    # Our own export, parsed as any map app would.
    kml = ElementTree.fromstring(Client().get("/services.kml?country=HN").content)  # noqa: S314
    namespace = {"k": "http://www.opengis.net/kml/2.2"}
    placemarks = kml.findall(".//k:Placemark", namespace)
    assert {p.get("id") for p in placemarks} == {"hn-a", "hn-b", "gt-c"}
    coordinates = kml.find(".//k:Placemark[@id='hn-a']/k:Point/k:coordinates", namespace)
    assert coordinates is not None
    assert coordinates.text == "-86.55,13.8,0"


def test_the_hsds_export_validates_against_the_official_schema(route: list[ServicePoint]) -> None:
    schema = _hsds_schema("organization.json")
    organizations = json.loads(Client().get("/services.hsds.json").content)
    assert {o["name"] for o in organizations} == {"Honduran Red Cross", "Guatemalan Red Cross"}
    for organization in organizations:
        jsonschema.validate(organization, schema)
        for location in organization["locations"]:
            assert location["external_identifier"] in {"hn-a", "hn-b", "gt-c"}
    honduras = next(o for o in organizations if o["name"] == "Honduran Red Cross")
    medicines = next(s for s in honduras["services"] if s["name"] == "Medicines")
    assert [sal["location_id"] for sal in medicines["service_at_locations"]] == [str(route[0].pk)]


def test_the_booklet_is_a_pdf_in_the_language_with_a_map(route: list[ServicePoint]) -> None:
    import pypdfium2

    response = Client().get("/ar/services/booklet.pdf?country=HN")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    document = pypdfium2.PdfDocument(response.content)
    try:
        text = "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    finally:
        document.close()
    assert "Point hn-a" in text
    assert "Point gt-d" not in text  # network-only


def test_the_staff_map_data_has_the_staff_scope(
    route: list[ServicePoint], own: Society, web: Callable[..., Client]
) -> None:
    data = json.loads(web(own.volunteer, own.point).get("/directory/points.geojson").content)
    codes = {feature["properties"]["code"] for feature in data["features"]}
    assert "gt-d" in codes  # network-visible: staff see it, the public does not
    assert all(f["properties"]["url"].startswith("/directory/") for f in data["features"])


def test_control_characters_in_filters_are_ignored_not_errors(route: list[ServicePoint]) -> None:
    for query in ("country=%00", "from=a%00", "service=" + "x" * 500):
        response = Client().get(f"/en/services/?{query}")
        assert response.status_code == 200, query
        assert b"was not understood" in response.content
    assert Client().get("/services.geojson?country=H%00").status_code == 200
    assert Client().get("/api/v1/public/service-points?country=%00").status_code == 422


def test_next_along_keeps_the_onward_setting_of_the_starting_country(
    route: list[ServicePoint], own: Society
) -> None:
    NationalSociety.objects.filter(pk=own.society.pk).update(show_onward_points=False)
    page = Client().get("/en/services/?from=hn-a").content.decode()
    section = page.split('data-testid="next-along"')[1].split("</section>")[0]
    assert 'data-code="hn-b"' in section
    assert "gt-c" not in section


def test_travel_times_read_as_people_write_numbers(route: list[ServicePoint]) -> None:
    # Issue 19, item 9: "unas 2.0 horas", "12.0 èdtan". Whole hours without ".0", halves with
    # the language's decimal sign.
    RouteStop.objects.filter(service_point=route[1]).update(hours_from_previous=Decimal("2.5"))
    spanish = Client().get("/es/services/?from=hn-a").content.decode()
    section = spanish.split('data-testid="next-along"')[1].split("</section>")[0]
    assert "2,5" in section
    assert ".0 " not in section
    english = Client().get("/en/services/?from=hn-a").content.decode()
    section = english.split('data-testid="next-along"')[1].split("</section>")[0]
    assert "about 2.5 hours" in section
    assert "about 11.5 hours" in section


def test_partners_see_shared_points_only_and_no_capacity(
    route: list[ServicePoint], own: Society, web: Callable[..., Client]
) -> None:
    internal = _point(own, "hn-internal", visibility="internal", capacity=250)
    partner = web(own.partner)
    assert 'data-code="hn-internal"' not in partner.get("/directory/").content.decode()
    assert partner.get(f"/directory/{internal.pk}/").status_code == 404
    shared = partner.get(f"/directory/{route[0].pk}/").content.decode()
    assert "Capacity" not in shared


def test_a_badly_stored_period_does_not_break_the_public_api(route: list[ServicePoint]) -> None:
    ServicePoint.objects.filter(code="hn-a").update(
        opening_hours=[{"day": 1, "opens": "8:00", "closes": "18:00"}]
    )
    response = Client().get("/api/v1/public/service-points?country=HN")
    assert response.status_code == 200
    hn_a = next(p for p in response.json() if p["code"] == "hn-a")
    assert hn_a["opening_hours"] == []


def test_a_public_page_is_drawn_once_and_redrawn_after_a_change(
    route: list[ServicePoint], django_assert_max_num_queries: Callable[..., Any]
) -> None:
    first = Client().get("/en/services/?country=HN")
    assert first.status_code == 200
    with django_assert_max_num_queries(0):  # the same address again: from the cache
        again = Client().get("/en/services/?country=HN")
    assert again.content == first.content
    assert again["Content-Type"] == first["Content-Type"]
    point = route[0]
    point.status = ServicePoint.Status.TEMPORARILY_CLOSED
    point.save()  # a staff edit: the pages are drawn afresh at once
    assert "Temporarily closed" in Client().get("/en/services/?country=HN").content.decode()


def test_unknown_query_parameters_are_not_cached(
    route: list[ServicePoint], monkeypatch: pytest.MonkeyPatch
) -> None:
    from routecare.directory import views

    drawn: list[str] = []
    draw = views._draw_public_list

    def counting(request: Any, lang: str) -> Any:
        drawn.append(request.get_full_path())
        return draw(request, lang)

    monkeypatch.setattr(views, "_draw_public_list", counting)
    for _ in range(2):
        page = Client().get("/en/services/?country=HN&utm_source=x")
        assert page.status_code == 200
    assert len(drawn) == 2  # drawn each time
    for _ in range(2):
        Client().get("/en/services/?country=HN")
    assert len(drawn) == 3  # drawn once, then from the cache


def test_the_parts_public_pages_share_are_read_once_and_afresh_after_a_change(
    route: list[ServicePoint], django_assert_max_num_queries: Callable[..., Any]
) -> None:
    start = route[0]
    first = Client().get(f"/en/services/?country=HN&from={start.code}")
    assert first.status_code == 200
    # Another language, another filter: a new page, but its points, the next ones along the
    # way and the countries are known already.
    with django_assert_max_num_queries(0):
        again = Client().get(f"/es/services/?country=HN&from={start.code}")
    assert again.status_code == 200
    assert "gt-c" in again.content.decode()
    gt_c = route[2]
    gt_c.status = ServicePoint.Status.CLOSED
    gt_c.save()
    assert (
        "gt-c" not in Client().get(f"/fr/services/?country=HN&from={start.code}").content.decode()
    )


def test_public_pages_are_kept_apart_from_other_cached_answers(
    route: list[ServicePoint], django_assert_max_num_queries: Callable[..., Any]
) -> None:
    from django.core.cache import caches

    Client().get("/en/services/?country=HN")
    caches["default"].clear()  # tokens, dashboards: a flood of pages never pushes them out
    with django_assert_max_num_queries(0):
        Client().get("/en/services/?country=HN")


def test_the_public_api_is_answered_once_and_afresh_after_a_change(
    route: list[ServicePoint], django_assert_max_num_queries: Callable[..., Any]
) -> None:
    first = Client().get("/api/v1/public/service-points?country=HN&service=water")
    assert first.status_code == 200
    assert first["Content-Type"] == "application/json; charset=utf-8"
    with django_assert_max_num_queries(0):  # the same question again: from the cache
        again = Client().get("/api/v1/public/service-points?country=HN&service=water")
    assert again.content == first.content
    other = Client().get("/api/v1/public/service-points?country=HN")  # another question
    assert other.status_code == 200
    assert len(other.json()) >= len(first.json())
    point = route[0]
    point.status = ServicePoint.Status.TEMPORARILY_CLOSED
    point.save()
    statuses = {
        p["code"]: p["status"]
        for p in Client().get("/api/v1/public/service-points?country=HN").json()
    }
    assert statuses[point.code] == ServicePoint.Status.TEMPORARILY_CLOSED


def test_a_point_looked_up_by_code_is_what_the_reader_may_see_and_kept_until_a_change(
    route: list[ServicePoint],
    own: Society,
    other: Society,
    django_assert_max_num_queries: Callable[..., Any],
) -> None:
    internal = _point(own, "hn-internal", visibility="internal")
    society = own.society.pk
    assert selectors.staff_point_with_code(own.actor(), society, "hn-internal") == internal
    coordinator = own.actor("coordinator")
    with django_assert_max_num_queries(0):  # the same question from the same kind of reader
        found = selectors.staff_point_with_code(coordinator, society, "hn-internal")
    assert found == internal
    # Others of the network, and the society's partners, never see an internal point.
    assert selectors.staff_point_with_code(other.actor(), society, "hn-internal") is None
    assert selectors.staff_point_with_code(own.actor("partner"), society, "hn-internal") is None
    internal.name = "Renamed"
    internal.save()
    renamed = selectors.staff_point_with_code(own.actor(), society, "hn-internal")
    assert renamed is not None
    assert renamed.name == "Renamed"


# Issue 19, item 1: no character of the booklet prints as an empty box, in any language.
@pytest.mark.parametrize("language", PERSON_LANGUAGES)
def test_every_character_of_the_booklet_has_a_glyph(
    route: list[ServicePoint], language: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        response = Client().get(f"/{language}/services/booklet.pdf?country=HN")
    assert response.status_code == 200
    assert not [r for r in caplog.records if ".notdef" in r.getMessage()]
    pdf = response.content
    characters = drawn(pdf)
    assert len(characters) > 100
    source = "".join(person_texts.texts_for(language).values())
    assert missing_glyphs(pdf, source) == []
    arabic = {font for character, font in characters if unicodedata.name(character, "")
              .startswith("ARABIC")}  # fmt: skip
    if person_texts.is_rtl(language):
        assert arabic
    assert all("Noto" in font for font in arabic)
