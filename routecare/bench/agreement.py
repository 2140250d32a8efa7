"""The indicator views agree over the bench's data: for each role (the network's regional
staff, a society's focal point, a point's coordinator) the dashboard page's figures and chart,
the API, and the CSV and XLSX exports (read with libhxl, counted by ``#country``) give the
same numbers, hidden in the same places, and regional staff's figure for a society is the
society's own when it is shown.

``make test`` checks this over the demo data (``indicators/tests/test_agreement.py``); the bench
checks it over its millions of encounters. Any disagreement is listed in the bench's JSON and
fails the run.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from openpyxl import load_workbook

from routecare.accounts.actions import create_api_token
from routecare.bench.indicators import NETWORK, REGIONAL_USER, VARIANTS
from routecare.orgs.models import Membership, NationalSociety, Role, Route, ServicePoint

Log = Callable[[str], None]

FOCAL_USER = "bench-indicators-focal"
COORDINATOR_USER = "bench-indicators-coordinator"
TABLES = ("periods", "sex-age", "locations", "services")
FIGURE = re.compile(r'data-indicator="([\w-]+)">\s*<summary><span class="value">([^<]+)</span>')
SUM = "sum(#reached+total) as Total#reached+total+sum"
CHART = re.compile(r'<script id="indicator-data" type="application/json">(.*?)</script>', re.S)
# The views checked per role: page queries (as the bench times them) by label.
ROLE_VARIANTS = {
    "regional": [label for label, _query in VARIANTS],
    "focal point": ["year-by-month", "month-by-day"],
    "coordinator": ["month-by-day"],
}


class Persona:
    """A signed-in page client and an API client of one user."""

    def __init__(self, user: User, point: ServicePoint | None) -> None:
        self.page = Client()
        self.page.force_login(user)
        session = self.page.session
        device = TOTPDevice.objects.filter(user=user).first()
        if device is not None:
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        if point is not None:
            session["service_point_id"] = str(point.pk)
        session.save()
        _token, raw = create_api_token(user, "bench agreement", point)
        self.api = Client(headers={"Authorization": f"Bearer {raw}"})


def _personas() -> dict[str, Persona]:
    """The network's regional user, and a focal point and coordinator of its first society
    (made once in the bench database)."""
    society = NationalSociety.objects.filter(network__slug=NETWORK).order_by("country_code")[0]
    point = ServicePoint.objects.filter(national_society=society).order_by("code")[0]
    users = get_user_model().objects
    regional = users.get(username=REGIONAL_USER)
    focal, _ = users.get_or_create(username=FOCAL_USER)
    Membership.objects.get_or_create(
        user=focal, defaults={"role": Role.FOCAL_POINT, "national_society": society}
    )
    TOTPDevice.objects.get_or_create(user=focal, name="bench", defaults={"confirmed": True})
    coordinator, _ = users.get_or_create(username=COORDINATOR_USER)
    Membership.objects.get_or_create(
        user=coordinator, defaults={"role": Role.COORDINATOR, "national_society": society}
    )
    return {
        "regional": Persona(regional, None),
        "focal point": Persona(focal, point),
        "coordinator": Persona(coordinator, point),
    }


def _page_query(label: str) -> str:
    route = Route.objects.filter(slug__startswith="bench-ind-").order_by("slug")[0]
    society = NationalSociety.objects.filter(network__slug=NETWORK).order_by("country_code")[0]
    query = dict(VARIANTS)[label]
    return query.format(route=route.pk, society=society.pk)


def _api_query(page_query: str) -> str:
    """The API names a society by its country code and a route by its slug."""
    parts = []
    for part in page_query.split("&"):
        name, _, value = part.partition("=")
        if name == "society":
            part = f"country={NationalSociety.objects.get(pk=value).country_code}"
        elif name == "route":
            part = f"route={Route.objects.get(pk=value).slug}"
        parts.append(part)
    return "&".join(parts)


def _shown(value: Any) -> str:
    """A number as every view writes it; hidden as ""."""
    return "" if value in (None, "", "hidden") else str(int(float(value)))


class Check:
    def __init__(self) -> None:
        self.views = 0
        self.disagreements: list[str] = []

    def same(self, where: str, left: Any, right: Any) -> None:
        if left != right:
            self.disagreements.append(f"{where}: {left!r} != {right!r}")


def _check_view(check: Check, role: str, persona: Persona, label: str, folder: Path) -> Any:
    return check_view(check, role, persona, _page_query(label), folder, f"{role} {label}")


def check_view(
    check: Check, role: str, persona: Persona, query: str, folder: Path, where: str
) -> Any:
    """One view (the page's query) of one role: page figures and chart, API, CSV and XLSX
    exports and libhxl's count agree; the API's figures (None when the API refused)."""
    page = persona.page.get(f"/indicators/?{query}")
    api = persona.api.get(f"/api/v1/indicators?{_api_query(query)}")
    if page.status_code != 200 or api.status_code != 200:
        check.disagreements.append(f"{where}: page {page.status_code}, API {api.status_code}")
        return None
    check.views += 1
    html, answer = page.content.decode(), api.json()
    figures = {code: _shown(value) for code, value in FIGURE.findall(html)}
    api_figures = {f["code"]: _shown(f["value"]) for f in answer["figures"]}
    check.same(f"{where} page figures / API", figures, api_figures)
    tables = {t["name"]: t for t in answer["tables"]}
    found = CHART.search(html)
    chart = json.loads(found.group(1)) if found else {"values": []}
    periods = [_shown(values[-1]) for _label, values in tables["periods"]["rows"][:-1]]
    check.same(f"{where} chart / periods table", [_shown(v) for v in chart["values"]], periods)
    people = api_figures["people-supported"]
    for name in ("periods", "sex-age"):
        check.same(
            f"{where} {name} total / headline", _shown(tables[name]["rows"][-1][1][-1]), people
        )
    places_total = tables["locations"]["rows"][-1][1]
    check.same(f"{where} places total / headline", _shown(places_total[0]), people)
    check.same(
        f"{where} places consultations / headline",
        _shown(places_total[1]),
        api_figures["consultations"],
    )
    for name in TABLES:
        rows = [[_shown(v) for v in values] for _label, values in tables[name]["rows"]]
        width = len(rows[0])
        data = _csv(persona, f"{name}.csv", query)[2:]
        totals = _csv(persona, f"{name}-totals.csv", query)[2:]
        exported = [[_shown(v) for v in row[1 : 1 + width]] for row in [*data, *totals]]
        check.same(f"{where} {name}.csv / API", exported, rows)
    workbook = persona.page.get(f"/indicators/export/locations.xlsx?{query}")
    sheet = load_workbook(io.BytesIO(workbook.content)).active
    assert sheet is not None  # noqa: S101 - a workbook the export wrote has a sheet
    cells = [[_shown(v) for v in row[1:3]] for row in list(sheet.values)[2:]]
    check.same(f"{where} locations.xlsx / API", cells, [
        [_shown(v) for v in values] for _label, values in tables["locations"]["rows"][:-1]
    ])  # fmt: skip
    _count_by_country(check, where, persona, query, folder, role, api_figures)
    return api_figures


def _csv(persona: Persona, name: str, query: str) -> list[list[str]]:
    response = persona.page.get(f"/indicators/export/{name}?{query}")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def _count_by_country(
    check: Check,
    where: str,
    persona: Persona,
    query: str,
    folder: Path,
    role: str,
    figures: dict[str, str],
) -> None:
    """libhxl's count by #country: of the places export for regional staff (a row per
    society), of the periods export for a society's staff (its rows are periods). The bench's
    societies have made-up country codes (XG, XH…), which no #country column holds: regional
    rows are then counted by #org+name, a society's periods summed."""
    import hxl  # a development dependency: the bench reports without it

    name = "locations.csv" if role == "regional" else "periods.csv"
    path = folder / f"{role.replace(' ', '-')}-{name}"
    path.write_bytes(persona.page.get(f"/indicators/export/{name}?{query}").content)
    data = hxl.data(str(path), hxl.InputOptions(allow_local=True))
    rows = list(hxl.data(str(path), hxl.InputOptions(allow_local=True)))
    key = "#country" if rows and all(row.get("#country") for row in rows) else "#org+name"
    if role == "regional":
        counted = {
            row.get(key): _shown(row.get("#reached+total+sum"))
            for row in data.count(key, aggregators=SUM)
        }
        for row in rows:
            shown = _shown(row.get("#reached+total"))
            if shown not in ("", "0"):  # hidden: empty in the count too; libhxl sums no 0
                check.same(
                    f"{where} HXL count by {key} {row.get(key)}", counted.get(row.get(key)), shown
                )
    elif key == "#country":
        counted = {
            row.get(key): _shown(row.get("#reached+total+sum"))
            for row in data.count(key, aggregators=SUM)
        }
        check.same(
            f"{where} HXL count by #country", list(counted.values()), [figures["people-supported"]]
        )
    else:
        total = sum(int(float(row.get("#reached+total") or 0)) for row in rows)
        check.same(f"{where} HXL sum of periods", str(total), figures["people-supported"])


def check_indicator_agreement(log: Log) -> dict[str, Any]:
    """Every role's views over the bench's indicator network agree; what was checked and what
    did not agree (the first few)."""
    try:
        import hxl  # noqa: F401
    except ImportError:
        return {"skipped": "libhxl is not installed (pip install -e .[dev])"}
    began = time.perf_counter()
    check = Check()
    personas = _personas()
    by_role: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for role, labels in ROLE_VARIANTS.items():
            for label in labels:
                log(f"indicators agreement: {role}, {label}")
                by_role.setdefault(role, {})[label] = _check_view(
                    check, role, personas[role], label, Path(folder)
                )
    # One definition, one number across roles: the regional figure of the first society
    # (shown or hidden) is the society's own, which its focal point sees in full.
    society = NationalSociety.objects.filter(network__slug=NETWORK).order_by("country_code")[0]
    regional = (
        personas["regional"]
        .api.get(
            f"/api/v1/indicators?{_api_query(_page_query('year-by-month'))}&country="
            f"{society.country_code}"
        )
        .json()
    )
    own = by_role["focal point"]["year-by-month"] or {}
    for figure in regional.get("figures", []):
        shown = _shown(figure["value"])
        if shown:
            check.same(f"regional {society.country_code} / focal point {figure['code']}",
                       shown, own.get(figure["code"]))  # fmt: skip
    return {
        "checked_views": check.views,
        "disagreements": len(check.disagreements),
        "examples": check.disagreements[:5],
        "seconds": round(time.perf_counter() - began, 1),
    }
