"""A point in the reader's words (issue 19, item 9): its public name, address and directions
in several languages with a fallback to the default ones; Haitian Creole country and language
names; lists with the language's own comma; plain words instead of "HSP"."""

from __future__ import annotations

import re
from collections.abc import Callable

import pypdfium2
import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from routecare.conftest import Society
from routecare.core.languages import country_name_in, join_list, language_name_in
from routecare.core.person_texts import PERSON_LANGUAGES
from routecare.demo import routes
from routecare.orgs.models import PUBLIC_LANGUAGES, ServicePoint

DANLI = {
    "es": {
        "name": "Punto de servicio de la Cruz Roja en Danlí",
        "address": "Terminal de buses central, Danlí",
        "directions": "Dentro de la terminal, junto a las taquillas.",
    },
    "fa": {"name": "نقطهٔ خدمات صلیب سرخ در دانلی"},
}


@pytest.fixture
def danli(own: Society) -> ServicePoint:
    point = own.point
    point.name = "Danlí Red Cross service point"
    point.address = "Central bus terminal, Danlí"
    point.directions = "Inside the terminal, next to the ticket offices."
    point.translations = DANLI
    point.visibility = "public"
    point.languages = ["es", "en", "ar"]
    point.opening_hours = [
        {"day": day, "opens": opens, "closes": closes}
        for day in range(7)
        for opens, closes in (("08:00", "12:00"), ("14:00", "18:00"))
    ]
    point.full_clean()
    point.save()
    return point


def test_the_public_languages_of_points_are_the_person_languages() -> None:
    assert PUBLIC_LANGUAGES == PERSON_LANGUAGES


def test_a_point_is_named_and_found_in_the_page_language_else_by_default(
    danli: ServicePoint,
) -> None:
    spanish = Client().get(f"/es/services/{danli.code}/").content.decode()
    assert DANLI["es"]["name"] in spanish
    assert DANLI["es"]["address"] in spanish
    assert DANLI["es"]["directions"] in spanish
    assert "Danlí Red Cross service point" not in spanish
    farsi = Client().get(f"/fa/services/{danli.code}/").content.decode()
    assert DANLI["fa"]["name"] in farsi
    assert "Central bus terminal, Danlí" in farsi  # no Farsi address: the default one
    english = Client().get(f"/en/services/{danli.code}/").content.decode()
    assert "Danlí Red Cross service point" in english
    assert "Inside the terminal, next to the ticket offices." in english
    listing = Client().get("/es/services/?country=HN").content.decode()
    assert DANLI["es"]["name"] in listing


def test_the_api_and_the_booklet_carry_the_translations(danli: ServicePoint) -> None:
    answer = Client().get("/api/v1/public/service-points?country=HN").json()
    found = next(p for p in answer if p["code"] == danli.code)
    assert found["address"] == "Central bus terminal, Danlí"
    assert found["translations"]["es"]["name"] == DANLI["es"]["name"]
    pdf = Client().get("/es/services/booklet.pdf?country=HN").content
    document = pypdfium2.PdfDocument(pdf)
    try:
        text = "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    finally:
        document.close()
    assert DANLI["es"]["name"] in text.replace("\r\n", " ").replace("\n", " ")
    assert "Terminal de buses central" in text


def test_a_focal_point_gives_the_names_in_the_staff_form_and_bad_input_is_explained(
    own: Society, web: Callable[..., Client]
) -> None:
    client = web(own.focal_point)
    form = {
        "name": own.point.name, "code": own.point.code, "kind": "fixed-hsp", "status": "open",
        "visibility": "public", "latitude": "14.0", "longitude": "-86.5",
        "address": "Central bus terminal", "name_es": "Punto de Danlí",
        "address_es": "Terminal de buses", "directions_ar": "داخل المحطة",
    }  # fmt: skip
    page = client.get(f"/orgs/service-points/{own.point.pk}/").content.decode()
    assert 'name="address_es"' in page
    response = client.post(f"/orgs/service-points/{own.point.pk}/", form)
    assert response.status_code == 302
    own.point.refresh_from_db()
    assert own.point.address == "Central bus terminal"
    assert own.point.translations == {
        "es": {"name": "Punto de Danlí", "address": "Terminal de buses"},
        "ar": {"directions": "داخل المحطة"},
    }
    refused = client.post(
        f"/orgs/service-points/{own.point.pk}/",
        {**form, "address_es": "x" * 301, "name_fa": "bad\u202etext"},
    )
    assert refused.status_code == 200
    body = refused.content.decode()
    assert "at most 300 characters" in body
    assert "Remove the invisible direction-control characters." in body
    own.point.refresh_from_db()
    assert own.point.translations["es"]["address"] == "Terminal de buses"


def test_the_api_changes_translations_and_refuses_unknown_languages(
    own: Society, api: Callable[..., Client]
) -> None:
    client = api(own.focal_point, own.point)
    address = f"/api/v1/directory/service-points/{own.point.pk}"
    changed = client.patch(
        address,
        {"address": "Bus terminal", "translations": {"es": {"name": "Punto", "address": ""}}},
        content_type="application/json",
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["translations"] == {"es": {"name": "Punto"}}
    for bad in ({"xx": {"name": "?"}}, {"es": {"title": "?"}}, {"es": {"name": "a" * 161}}):
        refused = client.patch(address, {"translations": bad}, content_type="application/json")
        assert refused.status_code == 422, bad
        assert "translations" in refused.content.decode()
    own.point.refresh_from_db()
    assert own.point.translations == {"es": {"name": "Punto"}}


def test_the_model_refuses_translations_it_cannot_show(own: Society) -> None:
    point = own.point
    point.translations = {"de": {"name": "Punkt"}}
    with pytest.raises(ValidationError, match="not a language of the public pages"):
        point.full_clean()
    point.translations = {"es": {"name": "\x00"}}
    with pytest.raises(ValidationError):
        point.full_clean()


def test_haitian_creole_pages_use_haitian_creole_country_and_language_names(
    danli: ServicePoint,
) -> None:
    assert country_name_in("MK", "ht") == "Masedwan di Nò"
    assert country_name_in("HN", "ht") == "Ondiras"
    assert language_name_in("es", "ht") == "panyòl"
    page = Client().get(f"/ht/services/{danli.code}/").content.decode()
    assert "Ondiras" in page
    assert "panyòl" in page
    assert "espagnol" not in page
    listing = Client().get("/ht/services/").content.decode()
    assert "Ondiras" in listing


@pytest.mark.parametrize("lang", ["ar", "fa", "ps", "ur"])
def test_lists_in_right_to_left_pages_use_the_arabic_comma(danli: ServicePoint, lang: str) -> None:
    page = Client().get(f"/{lang}/services/{danli.code}/").content.decode()
    assert "08:00–12:00، 14:00–18:00" in page
    spoken = join_list([language_name_in(code, lang) for code in danli.languages], lang)
    assert spoken in page
    assert "، " in spoken
    assert not re.search(r"08:00–12:00, ", page)


def test_left_to_right_lists_keep_the_latin_comma(danli: ServicePoint) -> None:
    page = Client().get(f"/es/services/{danli.code}/").content.decode()
    assert "08:00–12:00, 14:00–18:00" in page


def test_demo_points_have_plain_names_and_spanish_names_in_latin_america() -> None:
    points = [
        point for network in routes.NETWORKS for society in network.societies
        for point in society.points
    ]  # fmt: skip
    assert not [point.name for point in points if "HSP" in point.name]
    americas = [p for society in routes.AMERICAS.societies for p in society.points]
    for point in americas:
        texts = routes.PUBLIC_TEXTS[point.code]
        assert texts.address
        assert texts.translations["es"]["name"], point.code
    balkans_fa = [code for code, texts in routes.PUBLIC_TEXTS.items() if "fa" in texts.translations]
    assert "mkd-gevgelija" in balkans_fa


def test_the_demo_shows_spanish_names_and_addresses_and_no_jargon(db: None) -> None:
    from routecare.demo.loader import load_demo

    load_demo()
    page = Client().get("/es/services/?country=HN").content.decode()
    assert "HSP" not in page
    assert "Punto de servicio de la Cruz Roja en Danlí" in page
    detail = Client().get("/es/services/hnd-las-manos/?country=HN").content.decode()
    assert "Paso fronterizo de Las Manos" in detail
    farsi = Client().get("/fa/services/mkd-gevgelija/?country=MK").content.decode()
    assert "مرکز ترانزیت گِوگلیا" in farsi
