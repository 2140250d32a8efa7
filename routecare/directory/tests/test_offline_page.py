"""The offline page the service worker shows for a public page it never kept (issue 19, item
4): in the person's language, with links to the country's kept pages; bad input is ignored."""

from __future__ import annotations

import pytest
from django.test import Client

from routecare.core import person_texts
from routecare.orgs.models import NationalSociety, Network

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def honduras() -> None:
    network = Network.objects.create(slug="americas", name="Americas route")
    NationalSociety.objects.create(country_code="HN", name="Honduran Red Cross", network=network)


@pytest.mark.parametrize("lang", person_texts.PERSON_LANGUAGES)
def test_the_offline_page_speaks_the_page_language_and_links_the_kept_pages(lang: str) -> None:
    response = Client().get(f"/{lang}/offline/?country=HN")
    assert response.status_code == 200
    page = response.content.decode()
    texts = person_texts.texts_for(lang)
    assert texts["offline_title"] in page
    assert texts["offline_missing"] in page
    for address in ("services", "faq", "feedback"):
        assert f'href="/{lang}/{address}/?country=HN"' in page
    assert ('dir="rtl"' in page) is person_texts.is_rtl(lang)


def test_an_unknown_language_goes_to_english_and_a_bad_country_is_ignored() -> None:
    response = Client().get("/xx/offline/?country=HN")
    assert response.status_code == 302
    assert response["Location"] == "/en/offline/"
    response = Client().get("/en/offline/?country=%3Cscript%3E")
    assert response.status_code == 200
    assert b"<script>" not in response.content
    assert b"/en/faq/" not in response.content  # no country: nothing of one to link
