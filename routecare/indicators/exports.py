"""Dashboard tables as CSV or XLSX, with an HXL hashtag row under the headers (what
humanitarian data tools read: https://hxlstandard.org).

A table's data and its totals are two files: the data file holds only data rows, so HXL tools
(counts, sums, validation) never meet a total among them; ``<table>-totals`` holds the total
row. A hidden (suppressed) value is an empty cell, never text in a number column, and the
row's ``#meta+suppressed`` column says that something in it is hidden (not which hidden cell
is small). Rows that are places of one country carry ``#country`` (ISO 3166-1 alpha-3) and,
where the point's data has one, ``#adm1`` (ISO 3166-2). See docs/indicators.md.
"""

from __future__ import annotations

import csv
import io

from django.utils.translation import gettext as _
from openpyxl import Workbook

from routecare.indicators.selectors import Table

SUPPRESSED = "yes"


def lines(table: Table, label: str, totals: bool = False) -> list[list[str]]:
    """Header, hashtags, then the data rows (or, for ``totals``, the total row)."""
    with_country = bool(table.places) and not totals
    with_adm1 = with_country and any(adm1 for _country, adm1 in table.places)
    header = [label, *table.header]
    tags = list(table.hxl)
    if totals:
        tags[0] = "#meta+total"  # "Total" is no date, place or sex
    if with_country:
        header.append(str(_("Country")))
        tags.append("#country+code")
    if with_adm1:
        header.append(str(_("Admin 1")))
        tags.append("#adm1+code")
    header.append(str(_("Hidden")))
    tags.append("#meta+suppressed")
    shown = table.rows
    picked = shown[-1:] if totals else shown[:-1]
    body = []
    for index, (name, values) in enumerate(picked):
        line = [name, *values]
        if with_country:
            line.append(table.places[index][0])
        if with_adm1:
            line.append(table.places[index][1])
        line.append(SUPPRESSED if "" in values else "")
        body.append(line)
    return [header, tags, *body]


def as_csv(table: Table, label: str, totals: bool = False) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    for line in lines(table, label, totals):
        writer.writerow(line)
    return out.getvalue().encode("utf-8-sig")  # Excel opens UTF-8 with the mark


def as_xlsx(table: Table, label: str, totals: bool = False) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101 - a new workbook always has a sheet
    sheet.title = table.name[:31]
    values = len(table.header)
    for index, line in enumerate(lines(table, label, totals)):
        cells: list[object] = list(line)
        if index >= 2:
            # Numbers as numbers; a hidden value stays an empty cell.
            cells = [
                line[0],
                *[int(v) if v.isdigit() else None for v in line[1 : values + 1]],
                *line[values + 1 :],
            ]
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
