"""Printable cards (WeasyPrint, so Arabic, Farsi, Pashto and Urdu text shapes correctly).

The card is ID-1 size. The sticker is a 40 × 60 mm label (docs/card-format.md, "Printed
sticker"): the QR with a quiet zone of four modules, the short code, and the
not-an-identity-document line in the person's language and one other, all at 6 pt or more.
"""

from __future__ import annotations

from base64 import b64encode
from dataclasses import dataclass

import segno
from django.template.loader import render_to_string
from weasyprint import HTML

from routecare.cards import qr
from routecare.core import person_texts

LAYOUTS = ("card", "sticker")

STICKER_WIDTH_MM = 40
STICKER_HEIGHT_MM = 60
# The QR image, quiet zone included, across the sticker's width less a 2 mm margin each side
# (a label printer may place the print 1 mm off the die-cut edge).
STICKER_QR_MM = 36
# A short-code-only sticker has a smaller QR, which leaves room for the code in large type.
STICKER_CODE_QR_MM = 16
# White modules around the QR, as ISO/IEC 18004 asks: drawn into the image by qr.svg.
QUIET_ZONE_MODULES = 4
# The smallest module a sticker prints: GS1's least X-dimension for QR codes that phones and
# shop scanners read (0.396 mm, General Specifications 5.12.3.1), rounded up. A sticker whose
# card would need smaller modules carries the short code only.
MIN_MODULE_MM = 0.4


@dataclass(frozen=True)
class StickerPlan:
    """What a sticker carries: the whole card, or (when the card is too large to print
    readably at the sticker's size) the short code only."""

    qr_text: str
    code_only: bool
    module_mm: float


def module_mm(qr_text: str, width_mm: float) -> float:
    """The width of one module when the QR, quiet zone included, is ``width_mm`` wide."""
    modules, _rows = qr.make(qr_text).symbol_size(border=QUIET_ZONE_MODULES)
    return width_mm / modules


def sticker_plan(qr_text: str, short_code: str) -> StickerPlan:
    try:
        full = module_mm(qr_text, STICKER_QR_MM)
    except segno.DataOverflowError:  # larger than any QR code at level M
        full = 0.0
    if full >= MIN_MODULE_MM:
        return StickerPlan(qr_text=qr_text, code_only=False, module_mm=full)
    return StickerPlan(
        qr_text=short_code,
        code_only=True,
        module_mm=module_mm(short_code, STICKER_CODE_QR_MM),
    )


def sticker_languages(language: str) -> tuple[str, str]:
    """The person's language and the first other language a card prints (English, or Spanish
    for a person who reads English): a sticker has room for two."""
    other = next(code for code in person_texts.CARD_LANGUAGES if code != language)
    return language, other


def _notices(languages: list[str] | tuple[str, ...]) -> list[dict[str, object]]:
    """The not-an-identity-document line in each language, with what a sticker that carries
    only the short code says about it."""
    return [
        {
            "language": code,
            "rtl": person_texts.is_rtl(code),
            "text": person_texts.text("not_an_id", code),
            "code_only": person_texts.text("sticker_code_only", code),
        }
        for code in languages
    ]


def _image(qr_text: str) -> str:
    return "data:image/svg+xml;base64," + b64encode(qr.svg(qr_text, scale=1).encode()).decode(
        "ascii"
    )


def card_pdf(*, qr_text: str, short_code: str, language: str, layout: str = "card") -> bytes:
    """An ID-1 card (85.6 × 54 mm, front and back) or a 40 × 60 mm sticker."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}")
    context: dict[str, object] = {
        "short_code": short_code,
        "language": language,
        "rtl": person_texts.is_rtl(language),
        "texts": person_texts.texts_for(language),
    }
    if layout == "card":
        languages = [language] + [c for c in person_texts.CARD_LANGUAGES if c != language]
        context |= {"qr": _image(qr_text), "notices": _notices(languages)}
    else:
        plan = sticker_plan(qr_text, short_code)
        context |= {
            "qr": _image(plan.qr_text),
            "code_only": plan.code_only,
            "notices": _notices(sticker_languages(language)),
            "width_mm": STICKER_WIDTH_MM,
            "height_mm": STICKER_HEIGHT_MM,
            "qr_mm": STICKER_CODE_QR_MM if plan.code_only else STICKER_QR_MM,
        }
    html = render_to_string(f"cards/print_{layout}.html", context)
    return bytes(HTML(string=html).write_pdf())
