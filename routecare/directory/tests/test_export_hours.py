"""Opening hours in the exports as other tools read them: OpenStreetMap's opening_hours syntax
in GeoJSON and KML, read by an OSM opening-hours parser (opening-hours-py); HSDS times with the
point's UTC offset on the date served."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from xml.etree import ElementTree

import pytest
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st
from opening_hours import OpeningHours

from routecare.conftest import Society
from routecare.directory import exports
from routecare.directory.hours import osm_opening_hours
from routecare.orgs.models import NationalSociety, ServicePoint

KML = {"k": "http://www.opengis.net/kml/2.2"}
# A Monday far from any daylight-saving change (the parser reads naive local times).
MONDAY = dt.datetime(2029, 1, 1)  # noqa: DTZ001
WEEK = 7 * 24 * 60


def _hours(*periods: tuple[int, str, str]) -> list[dict[str, object]]:
    return [{"day": day, "opens": opens, "closes": closes} for day, opens, closes in periods]


def _point(society: Society, code: str, hours: list[dict[str, object]]) -> ServicePoint:
    return ServicePoint.objects.create(
        national_society=society.society,
        code=code,
        name=f"Point {code}",
        latitude=Decimal("14.0"),
        longitude=Decimal("-87.0"),
        services=["water"],
        visibility="public",
        opening_hours=hours,
    )


def _open_minutes(hours: list[dict[str, object]]) -> set[int]:
    """The minutes of the week the data says the point is open (a period that closes before
    it opens runs past midnight; Sunday night runs into Monday)."""
    minutes: set[int] = set()
    for period in hours:
        opens = int(str(period["opens"])[:2]) * 60 + int(str(period["opens"])[3:])
        closes = int(str(period["closes"])[:2]) * 60 + int(str(period["closes"])[3:])
        length = (closes - opens) % (24 * 60)
        start = int(str(period["day"])) * 24 * 60 + opens
        minutes.update((start + m) % WEEK for m in range(length))
    return minutes


def _parser_says_open(text: str, minute: int) -> bool:
    # The week is read twice over so that Sunday night's hours reach Monday morning.
    parsed = OpeningHours(text)
    return bool(parsed.is_open(MONDAY + dt.timedelta(minutes=WEEK + minute)))


def test_weekdays_with_the_same_hours_share_a_rule(own: Society) -> None:
    point = _point(
        own, "hn-week", _hours(*[(d, "08:00", "18:00") for d in range(5)], (5, "09:00", "13:00"))
    )
    assert osm_opening_hours(point) == "Mo-Fr 08:00-18:00; Sa 09:00-13:00"


def test_several_periods_a_day_are_joined_with_commas(own: Society) -> None:
    point = _point(
        own,
        "hn-split",
        _hours((0, "14:00", "18:00"), (0, "08:00", "12:00"), (2, "08:00", "12:00"),
               (2, "14:00", "18:00")),
    )  # fmt: skip
    assert osm_opening_hours(point) == "Mo,We 08:00-12:00,14:00-18:00"


def test_a_night_past_midnight_keeps_its_hours_after_the_next_day_rule(own: Society) -> None:
    point = _point(own, "hn-night", _hours((0, "22:00", "02:00"), (1, "08:00", "18:00")))
    text = osm_opening_hours(point)
    assert text == "Mo 22:00-02:00; Tu 00:00-02:00,08:00-18:00"
    tuesday_1am = MONDAY + dt.timedelta(days=1, hours=1)
    assert OpeningHours(text).is_open(tuesday_1am)


def test_a_day_open_from_midnight_past_the_next_midnight_uses_extended_hours(
    own: Society,
) -> None:
    # "00:00-01:00" would read as one hour: OSM writes it as 00:00-25:00.
    point = _point(own, "hn-long", _hours((0, "00:00", "10:00"), (0, "10:00", "01:00")))
    text = osm_opening_hours(point)
    assert text == "Mo 00:00-25:00"
    assert OpeningHours(text).is_open(MONDAY + dt.timedelta(days=1, minutes=30))


def test_every_hour_of_every_day_is_24_7(own: Society) -> None:
    point = _point(
        own, "hn-always", _hours(*[(d, "00:00", "12:00") for d in range(7)],
                                 *[(d, "12:00", "00:00") for d in range(7)]),
    )  # fmt: skip
    assert osm_opening_hours(point) == "24/7"
    assert OpeningHours("24/7").is_open(MONDAY)


def test_no_hours_are_unknown_not_closed(own: Society) -> None:
    assert osm_opening_hours(_point(own, "hn-unknown", [])) == ""


PERIOD = st.tuples(
    st.integers(0, 6),
    st.integers(0, 23 * 4 + 3).map(lambda q: f"{q // 4:02d}:{q % 4 * 15:02d}"),
    st.integers(0, 23 * 4 + 3).map(lambda q: f"{q // 4:02d}:{q % 4 * 15:02d}"),
).filter(lambda period: period[1] != period[2])


@settings(max_examples=60, deadline=None)
@given(st.lists(PERIOD, max_size=8))
def test_the_osm_parser_reads_the_same_hours_as_the_data(
    periods: list[tuple[int, str, str]],
) -> None:
    hours = _hours(*periods)
    text = osm_opening_hours(ServicePoint(opening_hours=hours))
    if not hours:
        assert text == ""
        return
    OpeningHours(text)  # raises on anything the OSM grammar does not allow
    assert "–" not in text
    expected = _open_minutes(hours)
    for minute in range(0, WEEK, 15):
        assert _parser_says_open(text, minute) == (minute in expected), (text, minute)


def test_geojson_and_kml_hours_are_read_by_the_osm_parser(own: Society) -> None:
    _point(own, "hn-geo", _hours(*[(d, "08:00", "18:00") for d in range(5)],
                                 (5, "09:00", "13:00")))  # fmt: skip
    geojson = json.loads(Client().get("/services.geojson?country=HN").content)
    feature = next(f for f in geojson["features"] if f["properties"]["code"] == "hn-geo")
    text = feature["properties"]["opening_hours"]
    assert text == "Mo-Fr 08:00-18:00; Sa 09:00-13:00"
    assert OpeningHours(text).is_open(MONDAY + dt.timedelta(days=5, hours=10))
    assert not OpeningHours(text).is_open(MONDAY + dt.timedelta(days=6, hours=10))
    kml = ElementTree.fromstring(Client().get("/services.kml?country=HN").content)  # noqa: S314
    value = kml.find(
        ".//k:Placemark[@id='hn-geo']/k:ExtendedData/k:Data[@name='opening_hours']/k:value", KML
    )
    assert value is not None
    assert value.text == text
    description = kml.find(".//k:Placemark[@id='hn-geo']/k:description", KML)
    assert description is not None
    assert description.text is not None
    assert text in description.text
    assert "–" not in description.text


HSDS_TIME = re.compile(r"^\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$")


@pytest.mark.parametrize(
    ("zone", "served", "offset"),
    [
        ("America/Tegucigalpa", dt.date(2026, 7, 1), "-06:00"),
        ("Europe/Belgrade", dt.date(2026, 1, 15), "+01:00"),
        ("Europe/Belgrade", dt.date(2026, 7, 15), "+02:00"),  # daylight saving
        ("UTC", dt.date(2026, 7, 15), "Z"),
    ],
)
def test_hsds_times_carry_the_point_offset_on_the_date_served(
    own: Society, zone: str, served: dt.date, offset: str
) -> None:
    NationalSociety.objects.filter(pk=own.society.pk).update(time_zone=zone)
    point = _point(own, "hn-tz", _hours((0, "08:00", "18:00"), (4, "22:00", "02:00")))
    point.refresh_from_db()
    [organization] = exports.hsds([point], {"hn-tz": "https://example.org/"}, served)
    schedules = organization["locations"][0]["schedules"]
    assert {(s["byday"], s["opens_at"], s["closes_at"]) for s in schedules} == {
        ("MO", f"08:00:00{offset}", f"18:00:00{offset}"),
        ("FR", f"22:00:00{offset}", f"02:00:00{offset}"),
    }


def test_hsds_export_times_are_iso_times_with_an_offset(own: Society) -> None:
    NationalSociety.objects.filter(pk=own.society.pk).update(time_zone="America/Tegucigalpa")
    _point(own, "hn-served", _hours((0, "08:00", "18:00")))
    organizations = json.loads(Client().get("/services.hsds.json").content)
    schedules = [
        schedule
        for organization in organizations
        for location in organization["locations"]
        for schedule in location["schedules"]
    ]
    assert schedules
    for schedule in schedules:
        assert HSDS_TIME.match(schedule["opens_at"]), schedule
        assert HSDS_TIME.match(schedule["closes_at"]), schedule
    ours = next(s for s in schedules if s["opens_at"].startswith("08:00"))
    assert ours["opens_at"] == "08:00:00-06:00"
    assert ours["timezone"] == -6
