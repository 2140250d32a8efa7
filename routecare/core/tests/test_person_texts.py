"""Texts for people on the move exist in every language they are offered in."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from routecare.core import person_texts

CATALOGUES = Path(person_texts.LOCALE_DIR)
# Words that are the same in English and in the language (checked by a reader of it).
SPELT_THE_SAME = {
    ("fr", "Allergies"),
    ("fr", "Information"),
    ("fr", "Service"),
    ("fr", "Services"),
}


@pytest.mark.parametrize(
    "language", [code for code in person_texts.PERSON_LANGUAGES if code != "en"]
)
def test_every_person_text_is_translated(language: str) -> None:
    with (CATALOGUES / language / "LC_MESSAGES" / "person.po").open("rb") as po:
        catalogue = read_po(po)
    for message in person_texts.all_messages():
        entry = catalogue.get(message)
        assert entry is not None, f"{language}: missing {message!r}"
        assert entry.string, f"{language}: untranslated {message!r}"
        assert not entry.fuzzy, f"{language}: fuzzy {message!r}"
        same = message == "WhatsApp" or (language, message) in SPELT_THE_SAME
        assert entry.string != message or same, f"{language}: still English: {message!r}"
        placeholders = sorted(re.findall(r"%\(\w+\)s", message))
        assert sorted(re.findall(r"%\(\w+\)s", str(entry.string))) == placeholders, message


@pytest.mark.parametrize("language", person_texts.PERSON_LANGUAGES)
def test_compiled_catalogues_are_used(language: str) -> None:
    text = person_texts.text("not_an_id", language)
    if language == "en":
        assert text == person_texts.TEXTS["not_an_id"]
    else:
        assert text != person_texts.TEXTS["not_an_id"], f"{language}.mo is not compiled"
    assert person_texts.text("days_left", language, days=4).count("4") == 1


def test_right_to_left_languages() -> None:
    assert {code for code in person_texts.PERSON_LANGUAGES if person_texts.is_rtl(code)} == {
        "ar",
        "fa",
        "ps",
        "ur",
    }


def test_a_person_language_is_the_first_one_with_texts() -> None:
    assert person_texts.person_language(["ti", "ps", "en"]) == "ps"
    assert person_texts.person_language(["ti"]) == "en"
    assert person_texts.texts_for("zz") == person_texts.texts_for("en")
