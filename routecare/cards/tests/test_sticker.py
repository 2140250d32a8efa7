"""The printed sticker (issue 19, item 3; docs/card-format.md, "Printed sticker"): a 40 × 60 mm
label whose every text is 6 pt or more, with the not-an-identity-document line in the
person's language and one other, a quiet zone of four modules around the QR inside the label,
and a QR that decodes from a 300 dpi rendering. A card too large to print readably on it gives
a sticker with the short code only, which says so. The printed card decodes from 150 dpi."""

from __future__ import annotations

import ctypes
import logging
import math
import re
import unicodedata
from collections.abc import Callable

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
import zxingcpp
from django.test import Client
from PIL import Image

from routecare.cards import actions, qr
from routecare.cards.build import MAX_QR_VERSION
from routecare.cards.models import Card
from routecare.cards.pdf import (
    MIN_MODULE_MM,
    QUIET_ZONE_MODULES,
    STICKER_HEIGHT_MM,
    STICKER_QR_MM,
    STICKER_WIDTH_MM,
    card_pdf,
    sticker_languages,
    sticker_plan,
)
from routecare.cards.tests.conftest import fill_beyond_a_card
from routecare.conftest import Society
from routecare.core import person_texts
from routecare.core.person_texts import PERSON_LANGUAGES, RIGHT_TO_LEFT
from routecare.core.tests.printed import missing_glyphs
from routecare.people.models import Person

SHORT_CODE = "RC-7K3M-9QE"
MM_PER_POINT = 25.4 / 72
# A text as large as the issuer ever makes (QR version 15 at level M: 600 characters), and
# one too large for the sticker (version 18: what a later, larger card limit would give).
LARGEST = "RC1:" + "7K3M9QE0AB" * 59 + "XYZ1"
TOO_LARGE = "RC1:" + "7K3M9QE0AB" * 80


def _sticker(language: str, text: str = LARGEST) -> bytes:
    return card_pdf(qr_text=text, short_code=SHORT_CODE, language=language, layout="sticker")


def _render(pdf: bytes, dpi: int) -> list[Image.Image]:
    document = pdfium.PdfDocument(pdf)
    try:
        return [page.render(scale=dpi / 72).to_pil().convert("L") for page in document]
    finally:
        document.close()


def _decoded(image: Image.Image) -> list[zxingcpp.Barcode]:
    return [
        found
        for found in zxingcpp.read_barcodes(
            image, formats=zxingcpp.BarcodeFormats([zxingcpp.BarcodeFormat.QRCode])
        )
        if found.valid
    ]


def _printed_sizes(pdf: bytes) -> list[tuple[str, float]]:
    """Each visible character and the size it prints at, in points: the font size times the
    scale of the text's matrix (WeasyPrint sets sizes in CSS pixels, scaled by 0.75)."""
    document = pdfium.PdfDocument(pdf)
    sizes = []
    matrix = pdfium_c.FS_MATRIX()
    try:
        for page in document:
            text = page.get_textpage()
            for index in range(text.count_chars()):
                character = chr(pdfium_c.FPDFText_GetUnicode(text, index))
                if character.isspace() or unicodedata.category(character).startswith("C"):
                    continue
                if pdfium_c.FPDFText_IsGenerated(text, index):
                    continue
                pdfium_c.FPDFText_GetMatrix(text, index, ctypes.byref(matrix))
                scale = math.sqrt(abs(matrix.a * matrix.d - matrix.b * matrix.c))
                sizes.append((character, pdfium_c.FPDFText_GetFontSize(text, index) * scale))
    finally:
        document.close()
    return sizes


def _text(pdf: bytes) -> str:
    document = pdfium.PdfDocument(pdf)
    try:
        found = " ".join(page.get_textpage().get_text_bounded() for page in document)
    finally:
        document.close()
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", found))


def _pages_mm(pdf: bytes) -> list[tuple[float, float]]:
    document = pdfium.PdfDocument(pdf)
    try:
        return [
            (round(width * MM_PER_POINT, 1), round(height * MM_PER_POINT, 1))
            for width, height in (page.get_size() for page in document)
        ]
    finally:
        document.close()


def _quiet_zone_problems(image: Image.Image, qr_text: str, dpi: int) -> list[str]:
    """What is wrong with the white space around the QR of a rendered label: anything dark
    within four modules of the symbol, or that white space reaching the label's edge."""
    found = _decoded(image)
    assert found, "no QR code decoded"
    position = found[0].position
    corners = [position.top_left, position.top_right, position.bottom_right, position.bottom_left]
    modules, _rows = qr.make(qr_text).symbol_size(border=0)
    rough = max(point.x for point in corners) - min(point.x for point in corners)
    guess = rough / modules
    # The symbol itself: the dark pixels within a module of where the reader found it.
    left = max(0, int(min(point.x for point in corners) - guess))
    top = max(0, int(min(point.y for point in corners) - guess))
    right = int(max(point.x for point in corners) + guess) + 1
    bottom = int(max(point.y for point in corners) + guess) + 1
    # Any pixel not white, so that the antialiased edge of a module counts as the symbol.
    dark = image.crop((left, top, right, bottom)).point(lambda v: 255 if v < 250 else 0)
    box = dark.getbbox()
    assert box is not None
    x0, y0, x1, y1 = left + box[0], top + box[1], left + box[2], top + box[3]
    module = (x1 - x0) / modules
    zone = QUIET_ZONE_MODULES * module
    problems = []
    # One pixel less than four modules: the edge pixel of a module may be antialiased grey.
    outer = (
        int(x0 - zone) + 1,
        int(y0 - zone) + 1,
        math.ceil(x1 + zone) - 1,
        math.ceil(y1 + zone) - 1,
    )
    edge = dpi / 25.4  # one millimetre: a label printer may place the print that far off
    if (
        outer[0] < edge
        or outer[1] < edge
        or outer[2] > image.width - edge
        or outer[3] > image.height - edge
    ):
        problems.append(f"the quiet zone {outer} comes within 1 mm of the label's edge")
    pixels = image.load()
    assert pixels is not None
    for y in range(max(0, outer[1]), min(image.height, outer[3])):
        for x in range(max(0, outer[0]), min(image.width, outer[2])):
            if x0 <= x < x1 and y0 <= y < y1:
                continue
            value = pixels[x, y]
            assert isinstance(value, int)
            if value < 200:
                problems.append(f"something dark at {(x, y)}, in the quiet zone")
                return problems
    return problems


@pytest.fixture
def largest_card(own: Society, carrier: Person) -> Card:
    """The largest card the issuer makes: more than fits, trimmed to the size limit."""
    fill_beyond_a_card(own, carrier)
    card = actions.issue_card(own.actor(), carrier)
    assert card.qr_version == MAX_QR_VERSION
    return card


def test_the_largest_card_decodes_from_a_300_dpi_rendering_of_the_sticker(
    own: Society, carrier: Person, largest_card: Card, web: Callable[..., Client]
) -> None:
    client = web(own.volunteer, own.point)
    response = client.get(f"/people/{carrier.pk}/sticker.pdf")
    assert response.status_code == 200
    text = str(largest_card.qr_text)
    assert not sticker_plan(text, carrier.short_code).code_only
    (page,) = _render(response.content, 300)
    assert [found.text for found in _decoded(page)] == [text]
    assert _quiet_zone_problems(page, text, 300) == []


def test_the_largest_card_decodes_from_a_150_dpi_rendering_of_the_printed_card(
    own: Society, carrier: Person, largest_card: Card, web: Callable[..., Client]
) -> None:
    client = web(own.volunteer, own.point)
    response = client.get(f"/people/{carrier.pk}/card.pdf")
    assert response.status_code == 200
    front, _back = _render(response.content, 150)
    assert [found.text for found in _decoded(front)] == [str(largest_card.qr_text)]


@pytest.mark.parametrize("language", PERSON_LANGUAGES)
def test_the_sticker_is_one_label_of_the_documented_size(language: str) -> None:
    expected = [(float(STICKER_WIDTH_MM), float(STICKER_HEIGHT_MM))]
    assert _pages_mm(_sticker(language)) == expected
    assert _pages_mm(_sticker(language, TOO_LARGE)) == expected


@pytest.mark.parametrize("text", [LARGEST, TOO_LARGE], ids=["whole-card", "code-only"])
@pytest.mark.parametrize("language", PERSON_LANGUAGES)
def test_every_text_on_the_sticker_is_at_least_6_pt_and_has_its_glyphs(
    language: str, text: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        pdf = _sticker(language, text)
    assert not [record for record in caplog.records if ".notdef" in record.getMessage()]
    sizes = _printed_sizes(pdf)
    assert len(sizes) > 40
    assert min(size for _character, size in sizes) >= 6
    source = SHORT_CODE + "".join(
        "".join(person_texts.texts_for(code).values()) for code in sticker_languages(language)
    )
    assert missing_glyphs(pdf, source) == []


@pytest.mark.parametrize("text", [LARGEST, TOO_LARGE], ids=["whole-card", "code-only"])
@pytest.mark.parametrize("language", PERSON_LANGUAGES)
def test_the_qr_has_a_quiet_zone_of_four_modules_inside_the_label(language: str, text: str) -> None:
    (page,) = _render(_sticker(language, text), 300)
    plan = sticker_plan(text, SHORT_CODE)
    assert [found.text for found in _decoded(page)] == [plan.qr_text]
    assert _quiet_zone_problems(page, plan.qr_text, 300) == []


@pytest.mark.parametrize("language", PERSON_LANGUAGES)
def test_the_sticker_says_it_is_no_identity_document_in_two_languages(language: str) -> None:
    own, other = sticker_languages(language)
    assert own == language
    assert other == ("es" if language == "en" else "en")
    printed = _text(_sticker(language))
    for code in ("en", "es", "fr", "ht"):
        notice = unicodedata.normalize("NFKC", person_texts.text("not_an_id", code))
        assert (notice in printed) == (code in (own, other)), code
    arabic_script = any(unicodedata.name(ch, "").startswith("ARABIC") for ch in printed)
    assert arabic_script == (language in RIGHT_TO_LEFT)


@pytest.mark.parametrize("language", ["en", "es", "fr", "ht"])
def test_a_card_too_large_for_the_sticker_gives_the_short_code_only_and_says_so(
    language: str,
) -> None:
    plan = sticker_plan(TOO_LARGE, SHORT_CODE)
    assert plan.code_only
    assert plan.qr_text == SHORT_CODE
    pdf = _sticker(language, TOO_LARGE)
    (page,) = _render(pdf, 300)
    assert [found.text for found in _decoded(page)] == [SHORT_CODE]
    printed = _text(pdf)
    for code in sticker_languages(language):
        assert person_texts.text("sticker_code_only", code) in printed
    # The code in large type: at least 12 pt, twice the smallest text.
    sizes = _printed_sizes(pdf)
    start = "".join(character for character, _size in sizes).index(SHORT_CODE)
    assert min(size for _character, size in sizes[start : start + len(SHORT_CODE)]) >= 12
    # A whole card says nothing of the sort.
    assert person_texts.text("sticker_code_only", language) not in _text(_sticker(language))


def test_the_sticker_carries_the_whole_card_exactly_while_modules_are_at_least_0_4_mm() -> None:
    for characters in range(200, 1500, 50):
        text = "RC1:" + "7" * characters
        version = qr.version_of(text)
        modules = 17 + 4 * version + 2 * QUIET_ZONE_MODULES
        readable = STICKER_QR_MM / modules >= MIN_MODULE_MM
        plan = sticker_plan(text, SHORT_CODE)
        assert plan.code_only == (not readable), version
        assert plan.module_mm >= MIN_MODULE_MM
    assert sticker_plan("RC1:" + "7" * 5000, SHORT_CODE).code_only  # more than any QR holds
    # Every card the issuer makes fits whole.
    assert not sticker_plan(LARGEST, SHORT_CODE).code_only
    assert qr.version_of(LARGEST) == MAX_QR_VERSION
