"""A National Society's name as people read it on the public pages: in the page's language
where the society gives it, else its default name (issue 19 item 9)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from routecare.conftest import Society

HONDURAS = {"es": "Cruz Roja Hondureña", "fa": "صلیب سرخ هندوراس"}


@pytest.fixture
def named(own: Society) -> Society:
    own.society.names = HONDURAS
    own.society.full_clean()
    own.society.save()
    own.point.visibility = "public"
    own.point.save()
    return own


@pytest.mark.parametrize("lang", ["es", "fa"])
def test_the_point_page_and_the_feedback_form_name_the_society_in_the_page_language(
    named: Society, lang: str
) -> None:
    page = Client().get(f"/{lang}/services/{named.point.code}/").content.decode()
    assert HONDURAS[lang] in page
    form = Client().get(f"/{lang}/feedback/?country={named.society.country_code}")
    assert HONDURAS[lang] in form.content.decode()


def test_a_language_without_a_name_shows_the_default_one(named: Society) -> None:
    page = Client().get(f"/ur/services/{named.point.code}/").content.decode()
    assert named.society.name in page
    assert named.society.public_name("ht") == named.society.name


@pytest.mark.parametrize(
    ("names", "message"),
    [
        ({"de": "Honduranisches Rotes Kreuz"}, "not a language of the public pages"),
        ({"es": 5}, "Give the names as"),
        (["Cruz Roja"], "Give the names as"),
        ({"es": "Cruz\x00Roja"}, "es: "),
        ({"es": "x" * 161}, "es: "),
    ],
)
def test_the_model_refuses_names_it_cannot_show(own: Society, names: object, message: str) -> None:
    own.society.names = names
    with pytest.raises(ValidationError, match=message):
        own.society.full_clean()
