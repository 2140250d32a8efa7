"""Printable cards (WeasyPrint, so Arabic, Farsi, Pashto and Urdu text shapes correctly)."""

from __future__ import annotations

from base64 import b64encode

from django.template.loader import render_to_string
from weasyprint import HTML

from routecare.cards import qr
from routecare.core import person_texts

LAYOUTS = ("card", "sticker")


def card_pdf(*, qr_text: str, short_code: str, language: str, layout: str = "card") -> bytes:
    """An ID-1 card (85.6 × 54 mm, front and back) or a 30 mm sticker."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}")
    languages = [language] + [code for code in person_texts.CARD_LANGUAGES if code != language]
    notices = [
        {
            "language": code,
            "rtl": person_texts.is_rtl(code),
            "text": person_texts.text("not_an_id", code),
        }
        for code in languages
    ]
    html = render_to_string(
        f"cards/print_{layout}.html",
        {
            "qr": "data:image/svg+xml;base64,"
            + b64encode(qr.svg(qr_text, scale=1).encode()).decode("ascii"),
            "short_code": short_code,
            "language": language,
            "rtl": person_texts.is_rtl(language),
            "texts": person_texts.texts_for(language),
            "notices": notices,
        },
    )
    return bytes(HTML(string=html).write_pdf())
