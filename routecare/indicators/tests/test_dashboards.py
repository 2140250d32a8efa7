"""Dashboards per role, their exports with HXL hashtags, trainings, and what regional staff
may never receive."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from pathlib import Path

import hxl
import pypdfium2
import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from routecare.conftest import Society, register
from routecare.flows.actions import record_daily_count
from routecare.indicators import actions, rollups
from routecare.indicators.models import Training
from routecare.people import actions as people_actions
from routecare.people.models import Person


def _supported(society: Society, people: int, sex: str = "female", group: str = "") -> None:
    for _ in range(people):
        extra = {"population_group": group} if group else {}
        person = register(society, sex=sex, **extra)
        people_actions.record_encounter(
            society.actor(), person, services=[("health-primary", 1), ("water", 2)]
        )


@pytest.fixture
def activity(own: Society, other: Society) -> None:
    _supported(own, 12)
    _supported(own, 3, sex="male")  # a small cell
    _supported(own, 2, group="returnee")
    _supported(other, 7)
    record_daily_count(own.actor("coordinator"), day=timezone.localdate(), people=40)
    rollups.refresh()


def _figures(page: str) -> dict[str, str]:
    found = re.findall(
        r'data-indicator="([\w-]+)">\s*<summary><span class="value">([^<]+|&lt;5)</span>', page
    )
    return dict(found)


def test_a_focal_point_sees_the_societys_figures_in_full(
    activity: None, own: Society, web: Callable[..., Client]
) -> None:
    page = web(own.focal_point, own.point).get("/indicators/").content.decode()
    figures = _figures(page)
    # 17 registered + 23 counted beyond them at the point that day.
    assert figures["people-supported"] == "40"
    assert figures["returnees"] == "2"
    assert figures["consultations"] == "17"
    assert figures["active-points"] == "1"
    assert "&lt;5" not in page  # their own data: nothing suppressed
    assert "each counted once" in page  # the definition is shown


def test_regional_staff_see_the_network_with_small_cells_suppressed(
    activity: None, regional: User, web: Callable[..., Client]
) -> None:
    page = web(regional).get("/indicators/").content.decode()
    figures = _figures(page)
    assert figures["people-supported"] == "47"
    assert figures["returnees"] == "hidden"
    sex_age = page[page.index('data-table="sex-age"') :]
    sex_age = sex_age[: sex_age.index("</section>")]
    assert "data-hidden" in sex_age  # the 3 men
    assert "&lt;5" not in page  # hidden cells are not said to be small


def test_a_coordinator_sees_their_point(
    activity: None, own: Society, web: Callable[..., Client]
) -> None:
    page = web(own.coordinator, own.point).get("/indicators/?granularity=day").content.decode()
    assert _figures(page)["people-supported"] == "40"


def test_bad_filters_are_reported_and_defaults_used(
    activity: None, own: Society, web: Callable[..., Client]
) -> None:
    response = web(own.focal_point, own.point).get(
        "/indicators/?granularity=century&start=2026-12-01&end=2026-01-01&point=nope"
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Select a valid choice" in page
    assert _figures(page)["people-supported"] == "40"


@pytest.mark.parametrize("extension", ["csv", "xlsx"])
def test_exports_carry_hxl_hashtags(
    activity: None,
    own: Society,
    web: Callable[..., Client],
    tmp_path: Path,
    extension: str,
) -> None:
    client = web(own.focal_point, own.point)
    response = client.get(f"/indicators/export/sex-age.{extension}")
    assert response.status_code == 200
    path = tmp_path / f"sex-age.{extension}"
    path.write_bytes(response.content)
    data = hxl.data(str(path), hxl.InputOptions(allow_local=True))
    tags = [column.display_tag for column in data.columns]
    assert tags[0] == "#group+sex"
    assert "#reached+adults" in tags
    assert "#reached+total" in tags
    rows = {row.get("#group+sex"): row for row in data}
    assert int(rows["Female"].get("#reached+adults")) == 14
    places = client.get("/indicators/export/locations.csv")
    assert b"#loc+name,#reached+total" in places.content
    assert client.get("/indicators/export/nothing.csv").status_code == 404
    assert client.get("/indicators/export/sex-age.pdf").status_code == 404


@pytest.mark.parametrize("role", ["focal_point", "regional"])
def test_an_export_adds_only_like_with_like(
    activity: None,
    own: Society,
    regional: User,
    web: Callable[..., Client],
    tmp_path: Path,
    role: str,
) -> None:
    """No row total adds people to consultations or quantities to encounters (the old
    ``#meta+row_total`` did); where a row has a total, it is its people's."""
    client = web(own.focal_point, own.point) if role == "focal_point" else web(regional)
    place = "#loc+name" if role == "focal_point" else "#org+name"
    expected = {
        "locations": [place, "#reached+total", "#activity+consultations"],
        "services": ["#sector", "#output+quantity", "#activity+encounters"],
    }
    for table, numbers in expected.items():
        for name in (table, f"{table}-totals"):
            path = tmp_path / f"{name}.csv"
            path.write_bytes(client.get(f"/indicators/export/{name}.csv").content)
            tags = [
                c.display_tag
                for c in hxl.data(str(path), hxl.InputOptions(allow_local=True)).columns
            ]
            assert tags[1:3] == numbers[1:], name
            # After the numbers, only where the row is and whether something is hidden.
            assert tags[3:] in (
                ["#meta+suppressed"],
                ["#country+code", "#meta+suppressed"],
                ["#country+code", "#adm1+code", "#meta+suppressed"],
            ), name
    for table in ("periods", "sex-age"):
        path = tmp_path / f"{table}.csv"
        path.write_bytes(client.get(f"/indicators/export/{table}.csv").content)
        data = hxl.data(str(path), hxl.InputOptions(allow_local=True))
        columns = [
            n for n, c in enumerate(data.columns)
            if c.tag == "#reached" and "total" not in c.attributes
        ]  # fmt: skip
        assert len(columns) >= 2, table
        for row in data:
            parts = [row.values[n] for n in columns]
            if "" not in parts and row.get("#reached+total") != "":
                assert int(row.get("#reached+total")) == sum(int(p) for p in parts), table


def test_regional_staff_never_receive_row_level_data(
    activity: None, regional: User, web: Callable[..., Client], api: Callable[..., Client]
) -> None:
    """Every indicator page, export and API answer a regional user gets is free of anything
    that identifies a record: no person's id, short code or household."""
    secrets = [
        value
        for person in Person.objects.all()
        for value in (str(person.pk), person.short_code, str(person.household_id))
        if value != "None"
    ]
    page_client, api_client = web(regional), api(regional)
    answers = [
        page_client.get("/indicators/").content,
        page_client.get("/indicators/?granularity=day").content,
        api_client.get("/api/v1/indicators").content,
        api_client.get("/api/v1/indicators?granularity=week&sex=male").content,
        *[
            page_client.get(f"/indicators/export/{table}.{extension}").content
            for table in ("periods", "sex-age", "locations", "services")
            for extension in ("csv", "xlsx")
        ],
    ]
    for body in answers:
        for secret in secrets:
            assert secret.encode() not in body
    data = api_client.get("/api/v1/indicators").json()
    assert data["suppressed_small_cells"] is True
    assert data["level"] == "network"


def test_the_dashboard_api(activity: None, own: Society, api: Callable[..., Client]) -> None:
    client = api(own.focal_point, own.point)
    data = client.get("/api/v1/indicators?granularity=day").json()
    figures = {f["code"]: f["value"] for f in data["figures"]}
    assert figures["people-supported"] == 40
    tables = {t["name"]: t for t in data["tables"]}
    assert tables["sex-age"]["hxl"][0] == "#group+sex"
    assert client.get("/api/v1/indicators?country=XX").status_code == 422
    assert client.get("/api/v1/indicators?granularity=year").status_code == 422
    assert client.get("/api/v1/indicators?start=2026-02-01&end=2026-01-01").status_code == 422


def test_trainings_count_as_people_trained(
    own: Society, web: Callable[..., Client], api: Callable[..., Client]
) -> None:
    client = web(own.coordinator, own.point)
    saved = client.post(
        "/indicators/trainings/",
        {"title": "Psychological first aid", "topic": "psychosocial-support",
         "day": timezone.localdate().isoformat(), "n_volunteer_female": "6",
         "n_staff_male": "2"},
    )  # fmt: skip
    assert saved.status_code == 302
    assert Training.objects.get().attended == 8
    empty = client.post(
        "/indicators/trainings/",
        {"title": "Nobody came", "topic": "rfl", "day": timezone.localdate().isoformat()},
    )
    assert b"how many people completed it" in empty.content
    made = api(own.focal_point, own.point).post(
        "/api/v1/indicators/trainings",
        {"title": "RFL basics", "topic": "rfl", "day": timezone.localdate().isoformat(),
         "attendance": [["volunteer", "male", 3]]},
        "application/json",
    )  # fmt: skip
    assert made.status_code == 201
    page = web(own.focal_point, own.point).get("/indicators/").content.decode()
    assert _figures(page)["trained"] == "11"
    with pytest.raises(PermissionError):
        actions.record_training(
            own.actor(), title="x", topic="rfl", day=timezone.localdate(),
            attendance={("staff", "female"): 1},
        )  # fmt: skip


def _pdf_text(content: bytes) -> str:
    document = pypdfium2.PdfDocument(content)
    return "\n".join(page.get_textpage().get_text_range() for page in document)


@pytest.mark.parametrize(
    ("language", "title", "figure"),
    [("en", "Monthly programme report", "People supported"),
     ("ar", "التقرير الشهري للبرنامج", "الأشخاص الذين تم دعمهم")],
)  # fmt: skip
def test_the_monthly_report_renders_in_english_and_arabic(
    activity: None,
    own: Society,
    web: Callable[..., Client],
    language: str,
    title: str,
    figure: str,
) -> None:
    month = timezone.localdate().strftime("%Y-%m")
    response = web(own.focal_point, own.point).get(
        f"/indicators/report.pdf?month={month}&lang={language}"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = _pdf_text(response.content)
    assert own.society.name in text
    assert "40" in text  # people supported this month
    # Arabic comes out of the PDF in presentation forms (compare compatibility-normalised)
    # and, on some lines, with its words in visual order: look for each word, except those
    # with a lam-alef ligature, which the PDF text layer does not map back to its letters.
    normalised = unicodedata.normalize("NFKC", text)
    words = [w for w in [*title.split(), *figure.split()] if not re.search("ل[اأإآ]", w)]
    assert len(words) >= 3
    for word in words:
        assert word in normalised


def test_the_network_report_suppresses_small_cells(
    activity: None, regional: User, web: Callable[..., Client]
) -> None:
    month = timezone.localdate().strftime("%Y-%m")
    response = web(regional).get(f"/indicators/report.pdf?month={month}&lang=en")
    text = _pdf_text(response.content)
    assert "hidden" in text
    assert "<5" not in text
    assert "47" in text


def test_a_bad_report_request_is_refused(own: Society, web: Callable[..., Client]) -> None:
    client = web(own.focal_point, own.point)
    assert client.get("/indicators/report.pdf?month=November&lang=en").status_code == 400
    assert client.get("/indicators/report.pdf?month=2026-10&lang=xx").status_code == 400
    # Without a month: this month, in the page's language.
    assert client.get("/indicators/report.pdf").status_code == 200


def test_cached_dashboards_are_shared_only_by_the_same_view_and_follow_new_data(
    activity: None, own: Society, regional: User, web: Callable[..., Client]
) -> None:
    society = _figures(web(own.focal_point, own.point).get("/indicators/").content.decode())
    network = _figures(web(regional).get("/indicators/").content.decode())
    assert society["returnees"] == "2"  # the society's own view, in full
    assert network["returnees"] == "hidden"  # not the society's cached answer
    _supported(own, 4, group="returnee")
    rollups.refresh()  # the periodic job: the cached dashboards are drawn afresh
    again = _figures(web(own.focal_point, own.point).get("/indicators/").content.decode())
    assert again["returnees"] == "6"
