"""Dashboard tables as CSV or XLSX, with an HXL hashtag row under the headers (what
humanitarian data tools read: https://hxlstandard.org)."""

from __future__ import annotations

import csv
import io

from django.utils.translation import gettext as _
from openpyxl import Workbook

from routecare.indicators.selectors import Table


def _lines(table: Table, label: str) -> list[list[str]]:
    header = [label, *table.column_labels, str(_("Total"))]
    return [header, table.hxl, *[[name, *values] for name, values in table.rows]]


def as_csv(table: Table, label: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    for line in _lines(table, label):
        writer.writerow(line)
    return out.getvalue().encode("utf-8-sig")  # Excel opens UTF-8 with the mark


def as_xlsx(table: Table, label: str) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101 - a new workbook always has a sheet
    sheet.title = table.name[:31]
    for index, line in enumerate(_lines(table, label)):
        cells: list[object] = list(line)
        if index >= 2:
            # Numbers as numbers; "<5" (suppressed) stays text.
            cells = [line[0], *[int(v) if v.isdigit() else v for v in line[1:]]]
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
