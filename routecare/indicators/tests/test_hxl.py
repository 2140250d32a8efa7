"""The dashboards and their exports tell one story over the demo data, read as HXL tools read
them: every export passes libhxl's core schema, a libhxl count by #country gives the
dashboard's figures, every total of people is the headline's, and nothing hidden is said to
be small. (Over the bench data this runs in ``make bench``.)"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import hxl
import pycountry
import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from routecare.conftest import api_client, sign_in_client
from routecare.demo.loader import load_demo
from routecare.orgs.models import Membership, NationalSociety, ServicePoint

TABLES = ("periods", "sex-age", "locations", "services")
SUM = "sum(#reached+total) as Total#reached+total+sum"


def _client(username: str) -> Client:
    user = get_user_model().objects.get(username=username)
    TOTPDevice.objects.get_or_create(user=user, name="test", defaults={"confirmed": True})
    point = Membership.objects.get(user=user).service_points.first()
    return sign_in_client(user, point)


def _read(client: Client, tmp_path: Path, name: str, query: str) -> Any:
    response = client.get(f"/indicators/export/{name}?{query}")
    assert response.status_code == 200, name
    path = tmp_path / name
    path.write_bytes(response.content)
    return hxl.data(str(path), hxl.InputOptions(allow_local=True))


def _schema_errors(data: Any) -> list[str]:
    errors: list[str] = []

    def collect(problem: Any) -> None:
        if problem.rule.severity == "error":  # warnings and infos do not fail
            errors.append(f"{problem.rule.tag_pattern}: {problem.value!r} {problem.message}")

    hxl.schema(callback=collect).validate(data)
    return errors


def _figures(page: str) -> dict[str, str]:
    return dict(
        re.findall(
            r'data-indicator="([\w-]+)">\s*<summary><span class="value">([^<]+)</span>', page
        )
    )


def _number(value: str | None) -> int:
    return int(float(value)) if value not in (None, "") else 0


@pytest.mark.parametrize(
    ("username", "query"),
    [
        ("americas-regional", ""),
        ("americas-regional", "granularity=day"),
        ("hn-focal", ""),
        ("hn-focal", "granularity=week"),
        ("hn-coordinator", "granularity=day"),
    ],
)
def test_every_export_passes_the_hxl_core_schema_and_counts_to_the_dashboard(
    db: None, tmp_path: Path, username: str, query: str
) -> None:
    load_demo()
    client = _client(username)
    page = client.get(f"/indicators/?{query}").content.decode()
    figures = _figures(page)
    people = _number(figures["people-supported"])
    assert people > 0
    assert "&lt;5" not in page
    for table in TABLES:
        for extension in ("csv", "xlsx"):
            data = _read(client, tmp_path, f"{table}.{extension}", query)
            assert _schema_errors(data) == [], (table, extension)
            rows = list(data)
            assert all(row.get("#meta+total") is None for row in rows)
            # No total among the data rows: the label column holds no "Total".
            assert all(row.values[0] != "Total" for row in rows), table
        totals = _read(client, tmp_path, f"{table}-totals.csv", query)
        assert _schema_errors(totals) == []
    # One definition, one number: every table's total of people is the headline.
    for table in ("periods", "sex-age", "locations"):
        (total,) = list(_read(client, tmp_path, f"{table}-totals.csv", query))
        assert _number(total.get("#reached+total")) == people, table
    # A libhxl count by #country of the places export gives each country's dashboard figure.
    places = _read(client, tmp_path, "locations.csv", query)
    place_rows = list(_read(client, tmp_path, "locations.csv", query))
    counted = {
        row.get("#country"): _number(row.get("#reached+total+sum"))
        for row in places.count(
            "#country", aggregators="sum(#reached+total) as Total#reached+total+sum"
        )
    }
    assert "" not in counted
    assert None not in counted
    if username == "americas-regional":
        for society in NationalSociety.objects.filter(network__slug="americas"):
            own = _figures(
                client.get(f"/indicators/?{query}&society={society.pk}").content.decode()
            )
            expected = own["people-supported"]
            country = pycountry.countries.get(alpha_2=society.country_code)
            assert country is not None
            code = country.alpha_3
            if expected == "hidden":
                assert next(r for r in place_rows if r.get("#country") == code).get("#reached") in (
                    "",
                    None,
                )
            else:
                assert counted.get(code, 0) == int(expected), (society.country_code, counted)
    else:
        # A society's rows are its points, each counting its own distinct people (a person
        # seen at two points is in both): the periods export is the one that adds up.
        periods = _read(client, tmp_path, "periods.csv", query)
        by_country = {
            row.get("#country"): _number(row.get("#reached+total+sum"))
            for row in periods.count("#country", aggregators=SUM)
        }
        assert by_country == {"HND": people}
        adm1 = {row.get("#adm1") for row in place_rows}
        assert "HN-EP" in adm1  # the points whose data has an admin-1 code


def test_the_places_export_follows_the_society_filter(db: None, tmp_path: Path) -> None:
    load_demo()
    client = _client("americas-regional")
    honduras = NationalSociety.objects.get(country_code="HN")
    data = _read(client, tmp_path, "locations.csv", f"society={honduras.pk}")
    assert [row.get("#country") for row in data] == ["HND"]
    honduras_page = _figures(client.get(f"/indicators/?society={honduras.pk}").content.decode())
    (total,) = list(_read(client, tmp_path, "locations-totals.csv", f"society={honduras.pk}"))
    assert _number(total.get("#reached+total")) == _number(honduras_page["people-supported"])


def test_a_societys_place_total_counts_each_person_once(db: None) -> None:
    """A person seen at two points is in both points' rows but once in the total, which is
    the headline's (and the periods' and sex-age tables')."""
    load_demo()
    client = _client("hn-focal")
    data = (
        api_client(get_user_model().objects.get(username="hn-focal"))
        .get("/api/v1/indicators")
        .json()
    )
    tables = {table["name"]: table for table in data["tables"]}
    headline = next(f["value"] for f in data["figures"] if f["code"] == "people-supported")
    totals = {name: int(tables[name]["rows"][-1][1][-1]) for name in ("periods", "sex-age")}
    totals["locations"] = int(tables["locations"]["rows"][-1][1][0])
    assert set(totals.values()) == {headline}
    point_sum = sum(int(values[0]) for _name, values in tables["locations"]["rows"][:-1])
    assert point_sum >= headline
    page = client.get("/indicators/").content.decode()
    assert _figures(page)["people-supported"] == str(headline)


def test_an_admin1_code_is_an_iso_3166_2_code_or_nothing() -> None:
    field = ServicePoint._meta.get_field("admin1_code")
    assert field.clean("HN-EP", None) == "HN-EP"
    assert field.clean("", None) == ""
    for wrong in ("El Paraíso", "HNEP", "hn-ep"):
        with pytest.raises(ValidationError, match="ISO 3166-2"):
            field.clean(wrong, None)
