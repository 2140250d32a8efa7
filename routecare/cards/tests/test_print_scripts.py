"""Printed cards and stickers in every person-facing language: no character prints as an
empty box, and Arabic-script text is drawn with the Noto fonts made for it (issue 19, item 1:
Urdu and Pashto printed as boxes with DejaVu Sans)."""

from __future__ import annotations

import logging
import unicodedata

import pytest

from routecare.cards.pdf import LAYOUTS, card_pdf
from routecare.core import person_texts
from routecare.core.person_texts import CARD_LANGUAGES, PERSON_LANGUAGES, RIGHT_TO_LEFT
from routecare.core.tests.printed import drawn, missing_glyphs

# Letters DejaVu Sans lacks: Urdu heh goal and yeh barree, Pashto kaf and yeh.
URDU_AND_PASHTO = {"ur": "\u06c1\u06d2", "ps": "\u06a9\u06cd"}


def _arabic_script(character: str) -> bool:
    return unicodedata.name(character, "").startswith("ARABIC")


def _source(language: str) -> str:
    """Every text a card in this language may print."""
    languages = {language, *CARD_LANGUAGES}
    return "RouteCare RC-7K3M-9QE" + "".join(
        "".join(person_texts.texts_for(code).values()) for code in languages
    )


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("language", PERSON_LANGUAGES)
def test_every_character_of_a_printed_card_has_a_glyph(
    language: str, layout: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        pdf = card_pdf(
            qr_text="RC1:ABC", short_code="RC-7K3M-9QE", language=language, layout=layout
        )
    # WeasyPrint's own word: no glyph 0 (.notdef, the empty box) was drawn.
    assert not [r for r in caplog.records if ".notdef" in r.getMessage()]
    characters = drawn(pdf)
    assert len(characters) > 40
    assert missing_glyphs(pdf, _source(language)) == []
    # Arabic, Farsi, Pashto and Urdu text in Noto Naskh Arabic or Noto Nastaliq Urdu, never a
    # Latin font's few Arabic letters (or whatever the machine falls back to).
    fonts = {font.split("+")[-1] for character, font in characters if _arabic_script(character)}
    if layout == "card" or language in RIGHT_TO_LEFT:
        # A sticker prints the line in the person's language and one other only (test_sticker).
        assert fonts, "the card carries the not-an-identity-document line in Arabic at least"
    assert all("Noto" in font and ("Naskh" in font or "Nastaliq" in font) for font in fonts)
    if language in URDU_AND_PASHTO:
        present = {character for character, _font in characters}
        assert set(URDU_AND_PASHTO[language]) & present
    if language == "ur":
        assert any("Nastaliq" in font for font in fonts)
