"""Disclosure control for aggregates shown outside the society that owns the data.

A cell counting 1 to 4 people is shown as "<5" (primary suppression). A table publishes its
row and column totals too, so a line (a row with its total, a column with its total) holding
exactly one suppressed cell would give it away as the total minus the visible cells; such a
line gets a second cell suppressed (complementary suppression): the smallest other count in
the line, or failing that the line's total. This repeats until no line holds exactly one
suppressed cell. Zeros are shown: they identify nobody.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

THRESHOLD = 5
SHOWN_AS = "<5"


@dataclass(frozen=True)
class ProtectedTable:
    """Cells with their row totals (last column) and column totals (last row); None marks a
    suppressed cell."""

    cells: list[list[int | None]]

    def shown(self) -> list[list[str]]:
        return [[SHOWN_AS if value is None else str(value) for value in row] for row in self.cells]


def with_totals(cells: Sequence[Sequence[int]], columns: int) -> list[list[int]]:
    rows = [[*row, sum(row)] for row in cells]
    rows.append([sum(row[j] for row in rows) for j in range(columns + 1)])
    return rows


def _lines(height: int, width: int) -> list[list[tuple[int, int]]]:
    rows = [[(i, j) for j in range(width)] for i in range(height)]
    columns = [[(i, j) for i in range(height)] for j in range(width)]
    return rows + columns


def _complement(
    line: list[tuple[int, int]], matrix: list[list[int]], hidden: set[tuple[int, int]]
) -> tuple[int, int] | None:
    """The cell to hide beside a lone suppressed one: the smallest other positive count,
    else the line's total (its last cell), else a zero."""
    inner = [cell for cell in line[:-1] if cell not in hidden]
    positive = [cell for cell in inner if matrix[cell[0]][cell[1]] > 0]
    if positive:
        return min(positive, key=lambda cell: matrix[cell[0]][cell[1]])
    if line[-1] not in hidden:
        return line[-1]
    return inner[0] if inner else None


def protect(
    cells: Sequence[Sequence[int]], columns: int, threshold: int = THRESHOLD
) -> ProtectedTable:
    matrix = with_totals(cells, columns)
    height, width = len(matrix), len(matrix[0])
    hidden = {(i, j) for i in range(height) for j in range(width) if 0 < matrix[i][j] < threshold}
    lines = _lines(height, width)
    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(cell in hidden for cell in line) != 1:
                continue
            extra = _complement(line, matrix, hidden)
            if extra is not None:
                hidden.add(extra)
                changed = True
    return ProtectedTable(
        [[None if (i, j) in hidden else matrix[i][j] for j in range(width)] for i in range(height)]
    )


def open_table(cells: Sequence[Sequence[int]], columns: int) -> ProtectedTable:
    """The same shape with nothing suppressed: for the owning society's own staff."""
    return ProtectedTable([list(row) for row in with_totals(cells, columns)])
