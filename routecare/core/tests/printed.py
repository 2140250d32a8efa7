"""What a printed PDF really shows: each character of its text layer and the embedded font
that draws it, checked against that font's own character map (fontTools). The text layer
holds the right characters even where the page prints empty boxes, so only the fonts tell."""

from __future__ import annotations

import ctypes
import unicodedata
from functools import cache
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from fontTools.ttLib import TTFont, TTLibError

FONT_FOLDERS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))


def _key(name: str) -> str:
    """A font's name as WeasyPrint writes it (``ABCDEF+Noto-Naskh-Arabic-Bold``) and as the
    font file says it (``NotoNaskhArabic-Bold``, or family and style), compared alike."""
    return "".join(ch for ch in name.split("+")[-1] if ch.isalnum()).lower().removesuffix("regular")


@cache
def installed_fonts() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for folder in FONT_FOLDERS:
        for path in sorted(folder.rglob("*")):
            if path.suffix.lower() not in (".ttf", ".otf", ".ttc"):
                continue
            try:
                names = TTFont(path, lazy=True, fontNumber=0)["name"]
            except (TTLibError, OSError, KeyError):
                continue
            family = f"{names.getDebugName(1) or ''}{names.getDebugName(2) or ''}"
            for name in (names.getDebugName(6) or "", family):
                if name:
                    found.setdefault(_key(name), path)
    return found


@cache
def _characters(path: Path) -> frozenset[int]:
    return frozenset(TTFont(path, lazy=True, fontNumber=0)["cmap"].getBestCmap())


def drawn(pdf: bytes) -> list[tuple[str, str]]:
    """Each visible character of the PDF's text layer and the name of the font drawing it."""
    document = pdfium.PdfDocument(pdf)
    found: list[tuple[str, str]] = []
    name = ctypes.create_string_buffer(256)
    flags = ctypes.c_int()
    try:
        for page in document:
            text = page.get_textpage()
            units = [pdfium_c.FPDFText_GetUnicode(text, i) for i in range(text.count_chars())]
            for index, unit in enumerate(units):
                if 0xDC00 <= unit <= 0xDFFF:
                    continue  # the second half of a pair, read with the first
                code = unit
                if 0xD800 <= unit <= 0xDBFF and index + 1 < len(units):
                    code = 0x10000 + ((unit - 0xD800) << 10) + (units[index + 1] - 0xDC00)
                character = chr(code)
                if character.isspace() or unicodedata.category(character) in ("Cc", "Cf"):
                    continue
                pdfium_c.FPDFText_GetFontInfo(text, index, name, 256, ctypes.byref(flags))
                found.append((character, name.value.decode("latin-1")))
    finally:
        document.close()
    return found


def missing_glyphs(pdf: bytes, source: str) -> list[tuple[str, str]]:
    """Characters of ``source`` (the texts the page was made from) drawn with a font that has
    no glyph for them: empty boxes on paper.

    Glyphs that shaping made (Nastaliq's contextual forms) have no character of their own: the
    text layer shows their glyph number as if it were a character (``í`` for glyph 237). Only
    characters the texts hold are checked, and in an Arabic-script font only Arabic-script
    ones."""
    fonts = installed_fonts()
    wanted = set(source)
    missing = []
    for character, font in drawn(pdf):
        if character not in wanted:
            continue
        if "Nastaliq" in font and not unicodedata.name(character, "").startswith("ARABIC"):
            continue
        path = fonts.get(_key(font))
        if path is None or ord(character) not in _characters(path):
            missing.append((character, font))
    return missing
