"""The monthly programme report (PDF, WeasyPrint so Arabic shapes and runs right to left):
the programme indicators of one month for a society, a point or the network, with the same
tables and the same small-cell suppression as the dashboard it comes from."""

from __future__ import annotations

import datetime as dt

from django.template.loader import render_to_string
from django.utils import translation
from weasyprint import HTML

from routecare.access import Actor
from routecare.core.person_texts import is_rtl
from routecare.indicators import selectors
from routecare.indicators.definitions import INDICATORS
from routecare.indicators.models import Granularity

LANGUAGES = ("en", "es", "fr", "ar")


def monthly_report(actor: Actor, view: selectors.View, month: dt.date, language: str) -> bytes:
    if language not in LANGUAGES:
        raise ValueError(f"no report in {language!r}")
    first = month.replace(day=1)
    with translation.override(language):
        board = selectors.build(
            view,
            selectors.Filters(granularity=Granularity.MONTH, start=first, end=first),
            first,
        )
        html = render_to_string(
            "indicators/report.html",
            {
                "board": board,
                "month": first,
                "language": language,
                "rtl": is_rtl(language),
                "definitions": INDICATORS,
                "generated": dt.datetime.now(dt.UTC),
            },
        )
    return bytes(HTML(string=html).write_pdf())
