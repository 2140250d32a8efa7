"""Disclosure control for aggregates shown outside the society that owns the data.

A cell counting 1 to 4 people is hidden (primary suppression). A table publishes totals too,
and each total is a linear equation over its line (a row with its total, a column with its
total), so hidden cells may be solved for from what is shown. Complementary suppression hides
further cells until no small cell can be solved for from all the equations together (not one
line at a time: a hidden cell can be pinned down through a chain of lines), and then gives
back every complementary cell that is not needed: a cell of 5 or more stays hidden only if
showing it would let a small cell be recovered. Zeros are shown (they identify nobody) and
never hidden (every hidden cell is then positive, so a hidden cell that is not fixed by the
equations can move both ways: non-negativity pins nothing more).

Hidden cells are shown as hidden, never as "<5": most complementary cells are large, and a
marker for small ones would give away which hidden cells are the small ones.

Several tables that share figures (the network's table and each society's, say) are protected
together with ``suppress`` over all their cells and equations: a figure hidden in one view is
hidden in every view that shows it, and equations between views count too.

See docs/indicators.md for a worked example.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

THRESHOLD = 5
SHOWN_AS = "<5"  # the old marker, kept for feedback trends (which has only small hidden cells)
HIDDEN = ""  # how indicators show a hidden cell: empty, whatever its size

Key = TypeVar("Key", bound=Hashable)
# An equation: the total cell equals the sum of the part cells.
Equation = tuple[Key, Sequence[Key]]

# Arithmetic modulo a large prime: exact ranks of 0/±1 systems of this size without fractions.
_PRIME = (1 << 61) - 1


Vector = dict[Key, int]


def free_moves(hidden: set[Key], equations: Sequence[Equation[Key]]) -> list[Vector[Key]]:
    """A basis of the ways the hidden cells can change together while every equation still
    holds (the null space of the equations over the hidden cells)."""
    unknowns = sorted(hidden, key=repr)
    index = {key: i for i, key in enumerate(unknowns)}
    rows: list[dict[int, int]] = []
    for total, parts in equations:
        row: dict[int, int] = {}
        for key, sign in ((total, -1), *((part, 1) for part in parts)):
            if key in index:
                column = index[key]
                row[column] = (row.get(column, 0) + sign) % _PRIME
        row = {c: v for c, v in row.items() if v}
        if row:
            rows.append(row)
    # Reduced row echelon form, sparse.
    pivots: dict[int, dict[int, int]] = {}
    for row in rows:
        for column, pivot_row in pivots.items():
            factor = row.get(column)
            if factor:
                for c, v in pivot_row.items():
                    row[c] = (row.get(c, 0) - factor * v) % _PRIME
                row = {c: v for c, v in row.items() if v}
        if not row:
            continue
        column = min(row)
        inverse = pow(row[column], _PRIME - 2, _PRIME)
        row = {c: v * inverse % _PRIME for c, v in row.items()}
        for other in pivots.values():
            factor = other.get(column)
            if factor:
                for c, v in row.items():
                    other[c] = (other.get(c, 0) - factor * v) % _PRIME
                for c in [c for c, v in other.items() if not v]:
                    del other[c]
        pivots[column] = row
    moves: list[Vector[Key]] = []
    for free in sorted(set(range(len(unknowns))) - set(pivots)):
        move = {unknowns[free]: 1}
        for column, row in pivots.items():
            if free in row:
                move[unknowns[column]] = -row[free] % _PRIME
        moves.append(move)
    return moves


def determined(
    hidden: set[Key], values: Mapping[Key, int], equations: Sequence[Equation[Key]]
) -> set[Key]:
    """The hidden cells whose value follows from the shown cells and the equations: those
    that no free move changes."""
    moving = {key for move in free_moves(hidden, equations) for key in move}
    return hidden - moving


def _fix(moves: list[Vector[Key]], key: Key) -> tuple[list[Vector[Key]], Vector[Key] | None]:
    """The free moves left once ``key`` is shown, and the move that was eliminated."""
    with_key = [move for move in moves if move.get(key)]
    if not with_key:
        return moves, None
    pivot = min(with_key, key=len)
    inverse = pow(pivot[key], _PRIME - 2, _PRIME)
    left = [move for move in moves if not move.get(key)]
    for move in with_key:
        if move is pivot:
            continue
        factor = move[key] * inverse % _PRIME
        changed = dict(move)
        for cell, value in pivot.items():
            changed[cell] = (changed.get(cell, 0) - factor * value) % _PRIME
        left.append({cell: value for cell, value in changed.items() if value})
    return left, pivot


def suppress(
    values: Mapping[Key, int],
    equations: Sequence[Equation[Key]],
    threshold: int = THRESHOLD,
    forced: set[Key] | None = None,
    rank: Callable[[Key], int] | None = None,
) -> set[Key]:
    """The cells to hide: every small one, and the fewest others needed to protect them (none
    can be shown without a small cell becoming recoverable). ``forced``: cells hidden
    whatever (hidden in another view of the same figures). ``rank``: cells with a lower rank
    are given back first (headline figures and totals before inner cells)."""
    small = {key for key, value in values.items() if 0 < value < threshold}
    keep = small | (forced or set())
    hidden = set(keep)
    touching: dict[Key, list[Equation[Key]]] = {}
    for equation in equations:
        for key in (equation[0], *equation[1]):
            touching.setdefault(key, []).append(equation)
    while True:
        pinned = determined(hidden, values, equations)
        exposed = pinned & small
        if not exposed:
            break
        # In every equation of an exposed cell, hide the smallest shown positive cell; when
        # they are all hidden, look along the hidden cells that are pinned down, then along
        # every hidden cell (the chain that pins it may pass through cells that move). This
        # ends: with every positive cell hidden, scaling them all together is a free move.
        added = set()
        for sources in (exposed, pinned, hidden):
            for cell in sorted(sources, key=repr):
                for total, parts in touching.get(cell, []):
                    shown = [k for k in (total, *parts) if k not in hidden and values[k] > 0]
                    if shown:
                        added.add(min(shown, key=lambda k: (values[k], repr(k))))
            if added:
                break
        if not added:
            break  # every positive cell is hidden already
        hidden |= added
    # Give back what is not needed, the largest first (the most useful to readers): a cell
    # can be shown if fixing it leaves every small cell free to move.
    moves = free_moves(hidden, equations)
    order = rank or (lambda key: 0)
    for key in sorted(hidden - keep, key=lambda key: (order(key), -values[key], repr(key))):
        left, pivot = _fix(moves, key)
        if pivot is not None and any(
            cell in small and not any(move.get(cell) for move in left) for cell in pivot
        ):
            continue  # needed: showing it would pin a small cell down
        hidden.discard(key)
        moves = left
    return hidden


@dataclass(frozen=True)
class ProtectedTable:
    """Cells with their row totals (last column, when the columns add up) and column totals
    (last row); None marks a hidden cell."""

    cells: list[list[int | None]]

    def shown(self, marker: str = SHOWN_AS) -> list[list[str]]:
        return [[marker if value is None else str(value) for value in row] for row in self.cells]

    @property
    def hidden(self) -> list[list[bool]]:
        return [[value is None for value in row] for row in self.cells]


def with_totals(
    cells: Sequence[Sequence[int]], columns: int, row_totals: bool = True
) -> list[list[int]]:
    rows = [[*row, sum(row)] if row_totals else list(row) for row in cells]
    width = columns + 1 if row_totals else columns
    rows.append([sum(row[j] for row in rows) for j in range(width)])
    return rows


def table_equations(
    height: int, width: int, row_totals: bool = True
) -> list[Equation[tuple[int, int]]]:
    """The equations of a table with totals (``height`` and ``width`` count the totals): each
    column adds up to its last cell, and each row too when its last cell is a row total."""
    equations: list[Equation[tuple[int, int]]] = [
        ((height - 1, j), [(i, j) for i in range(height - 1)]) for j in range(width)
    ]
    if row_totals:
        equations += [((i, width - 1), [(i, j) for j in range(width - 1)]) for i in range(height)]
    return equations


def protect(
    cells: Sequence[Sequence[int]],
    columns: int,
    threshold: int = THRESHOLD,
    row_totals: bool = True,
) -> ProtectedTable:
    """``row_totals``: False when the columns measure different things (people and
    consultations) and must not be added."""
    matrix = with_totals(cells, columns, row_totals)
    height, width = len(matrix), len(matrix[0])
    values = {(i, j): matrix[i][j] for i in range(height) for j in range(width)}
    hidden = suppress(values, table_equations(height, width, row_totals), threshold)
    return ProtectedTable(
        [[None if (i, j) in hidden else matrix[i][j] for j in range(width)] for i in range(height)]
    )


def open_table(
    cells: Sequence[Sequence[int]], columns: int, row_totals: bool = True
) -> ProtectedTable:
    """The same shape with nothing suppressed: for the owning society's own staff."""
    return ProtectedTable([list(row) for row in with_totals(cells, columns, row_totals)])
