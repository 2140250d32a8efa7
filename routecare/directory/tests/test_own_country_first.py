"""A country's page starts with that country's points; other countries' points along the
route come after, under their own heading (issue 19, item 5)."""

from __future__ import annotations

import re
from decimal import Decimal

import pypdfium2
import pytest
from django.test import Client

from routecare.core import person_texts
from routecare.orgs.models import NationalSociety, Network, ServicePoint

HOURS = [{"day": day, "opens": "00:00", "closes": "23:59"} for day in range(7)]


def _society(network: Network, code: str, zone: str) -> NationalSociety:
    return NationalSociety.objects.create(
        network=network, name=f"Red Cross {code}", country_code=code, time_zone=zone
    )


def _point(society: NationalSociety, code: str, name: str) -> ServicePoint:
    return ServicePoint.objects.create(
        national_society=society, code=code, name=name, visibility="public",
        latitude=Decimal("14.0"), longitude=Decimal("-87.0"), opening_hours=HOURS,
    )  # fmt: skip


@pytest.fixture
def americas(db: None) -> None:
    """Guatemala sorts before Honduras, Athens before Gevgelija: the old order put them first."""
    network = Network.objects.create(slug="americas", name="Americas route")
    gt = _society(network, "GT", "America/Guatemala")
    hn = _society(network, "HN", "America/Tegucigalpa")
    _point(gt, "gtm-agua-caliente", "Agua Caliente")
    _point(gt, "gtm-esquipulas", "Esquipulas")
    _point(hn, "hnd-las-manos", "Las Manos")
    _point(hn, "hnd-danli", "Danlí")
    balkans = Network.objects.create(slug="balkans", name="Western Balkans route")
    _point(_society(balkans, "GR", "Europe/Athens"), "grc-athens", "Athens")
    _point(_society(balkans, "MK", "Europe/Skopje"), "mkd-gevgelija", "Gevgelija")


def _codes(html: str) -> list[str]:
    return re.findall(r'data-code="([^"]+)"', html)


@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_honduran_page_starts_with_honduran_points_and_labels_the_onward_ones(
    americas: None, lang: str
) -> None:
    page = Client().get(f"/{lang}/services/?country=HN").content.decode()
    codes = _codes(page)
    assert codes[:2] == ["hnd-danli", "hnd-las-manos"]
    assert set(codes[2:]) == {"gtm-agua-caliente", "gtm-esquipulas"}
    heading = person_texts.text("onward_points", lang)
    assert page.index(heading) < page.index('data-code="gtm-')
    assert page.index('data-code="hnd-las-manos"') < page.index(heading)


def test_no_greek_point_comes_first_on_north_macedonias_page(americas: None) -> None:
    codes = _codes(Client().get("/en/services/?country=MK").content.decode())
    assert codes == ["mkd-gevgelija", "grc-athens"]


def test_without_a_country_there_is_no_onward_heading(americas: None) -> None:
    page = Client().get("/en/services/").content.decode()
    assert person_texts.text("onward_points", "en") not in page
    assert len(_codes(page)) == 6


def test_the_public_api_of_a_country_lists_its_own_points_first(americas: None) -> None:
    answer = Client().get("/api/v1/public/service-points?country=HN").json()
    assert [p["country"] for p in answer] == ["HN", "HN", "GT", "GT"]


def test_the_booklet_of_a_country_starts_with_its_points(americas: None) -> None:
    response = Client().get("/en/services/booklet.pdf?country=HN")
    document = pypdfium2.PdfDocument(response.content)
    try:
        text = "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    finally:
        document.close()
    heading = person_texts.text("onward_points", "en")
    assert text.index("Danlí") < text.index("Las Manos") < text.index(heading)
    assert text.index(heading) < text.index("Agua Caliente")
