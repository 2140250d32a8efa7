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

import gc
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

THRESHOLD = 5
HIDDEN = ""  # how a hidden cell is shown by default: empty, whatever its size (never "<5")

Key = TypeVar("Key", bound=Hashable)
# An equation: the total cell equals the sum of the part cells.
Equation = tuple[Key, Sequence[Key]]

# Arithmetic modulo a large prime: exact ranks of 0/±1 systems of this size without fractions.
_PRIME = (1 << 61) - 1


Vector = dict[Key, int]


def _echelon(
    hidden: set[Key], equations: Sequence[Equation[Key]]
) -> tuple[list[Key], dict[int, dict[int, int]], dict[int, set[int]]]:
    """The equations over the hidden cells in reduced row echelon form, sparse: the unknowns
    in order, each pivot's row (its pivot and the free columns it depends on), and for each
    free column the pivots whose rows hold it."""
    # In any order: what is determined, and the span of the free moves, do not depend on it.
    unknowns = list(hidden)
    index = {key: i for i, key in enumerate(unknowns)}
    pivots: dict[int, dict[int, int]] = {}
    holding: dict[int, set[int]] = {}
    rows = []
    for total, parts in equations:
        row: dict[int, int] = {}
        column = index.get(total)
        if column is not None:
            row[column] = _PRIME - 1
        for part in parts:
            column = index.get(part)
            if column is not None:
                row[column] = (row.get(column, 0) + 1) % _PRIME
        rows.append(row)
    # Short rows first, and as pivot the column fewest rows hold: less fill, far faster.
    rows.sort(key=len)
    for row in rows:
        # Reduce by the pivots it holds: their rows hold no other pivot, so one pass does.
        for column in [c for c, v in row.items() if v and c in pivots]:
            factor = row.get(column, 0)
            if factor:
                for c, v in pivots[column].items():
                    row[c] = (row.get(c, 0) - factor * v) % _PRIME
        row = {c: v for c, v in row.items() if v}
        if not row:
            continue
        column = min(row, key=lambda c: (len(holding.get(c, ())), c))
        if row[column] == _PRIME - 1:  # most coefficients are 1 or -1
            row = {c: _PRIME - v for c, v in row.items()}
        elif row[column] != 1:
            inverse = pow(row[column], _PRIME - 2, _PRIME)
            row = {c: v * inverse % _PRIME for c, v in row.items()}
        # The new pivot leaves the rows that held it as a free column.
        for other_column in holding.pop(column, set()):
            other = pivots[other_column]
            factor = other.pop(column)
            for c, v in row.items():
                if c == column:
                    continue
                changed = (other.get(c, 0) - factor * v) % _PRIME
                if changed:
                    other[c] = changed
                    holding.setdefault(c, set()).add(other_column)
                else:
                    other.pop(c, None)
                    holding.get(c, set()).discard(other_column)
        pivots[column] = row
        for c in row:
            if c != column:
                holding.setdefault(c, set()).add(column)
    return unknowns, pivots, holding


def free_moves(hidden: set[Key], equations: Sequence[Equation[Key]]) -> list[Vector[Key]]:
    """A basis of the ways the hidden cells can change together while every equation still
    holds (the null space of the equations over the hidden cells)."""
    unknowns, pivots, holding = _echelon(hidden, equations)
    moves: list[Vector[Key]] = []
    for free in sorted(set(range(len(unknowns))) - set(pivots)):
        move = {unknowns[free]: 1}
        for column in holding.get(free, set()):
            move[unknowns[column]] = -pivots[column][free] % _PRIME
        moves.append(move)
    return moves


def determined(
    hidden: set[Key], values: Mapping[Key, int], equations: Sequence[Equation[Key]]
) -> set[Key]:
    """The hidden cells whose value follows from the shown cells and the equations: those
    that no free move changes (a pivot whose row holds no free column)."""
    unknowns, pivots, _holding = _echelon(hidden, equations)
    return {unknowns[column] for column, row in pivots.items() if len(row) == 1}


class _Moves(Generic[Key]):
    """The free moves of the hidden cells, indexed by cell, to show cells one by one: showing
    a cell fixes it, which removes one move and folds it into the others that held it."""

    def __init__(self, moves: list[Vector[Key]]) -> None:
        self.moves = dict(enumerate(moves))
        self.holding: dict[Key, set[int]] = {}
        for number, move in self.moves.items():
            for cell in move:
                self.holding.setdefault(cell, set()).add(number)

    def show(self, key: Key, small: set[Key]) -> bool:
        """Fix ``key`` unless that pins a small cell down; whether it was fixed."""
        with_key = sorted(self.holding.get(key, ()))
        if not with_key:
            return True  # nothing moves it: showing it tells nothing new
        number = min(with_key, key=lambda n: (len(self.moves[n]), n))
        pivot = self.moves[number]
        inverse = pow(pivot[key], _PRIME - 2, _PRIME)
        factors = {n: self.moves[n][key] * inverse % _PRIME for n in with_key if n != number}
        for cell in pivot:
            if cell not in small:
                continue
            # The cell still moves if a move without ``key`` holds it, or if a folded move
            # keeps it.
            if not any(
                n not in factors or (self.moves[n].get(cell, 0) - factors[n] * pivot[cell]) % _PRIME
                for n in (self.holding[cell] | factors.keys()) - {number}
            ):
                return False
        for n, factor in factors.items():
            move = self.moves[n]
            for cell, value in pivot.items():
                changed = (move.get(cell, 0) - factor * value) % _PRIME
                if changed:
                    move[cell] = changed
                    self.holding.setdefault(cell, set()).add(n)
                else:
                    move.pop(cell, None)
                    self.holding.get(cell, set()).discard(n)
        for cell in pivot:
            self.holding[cell].discard(number)
        del self.moves[number]
        return True


def suppress(
    values: Mapping[Key, int],
    equations: Sequence[Equation[Key]],
    threshold: int = THRESHOLD,
    forced: set[Key] | None = None,
    rank: Callable[[Key], int] | None = None,
    headlines: set[Key] | None = None,
    start: set[Key] | None = None,
) -> set[Key]:
    """The cells to hide: every small one, and the fewest others needed to protect them (none
    can be shown without a small cell becoming recoverable). ``forced``: cells hidden
    whatever (hidden in another view of the same figures, or shown nowhere). ``rank``: cells
    with a lower rank are given back first (headline figures and totals before inner cells),
    and hidden last. ``headlines``: cells kept shown whenever some other pattern protects.
    ``start``: cells to hide first (the patterns of parts of the system, protected alone),
    given back like the others when not needed: fewer rounds to protect the whole."""
    # The cyclic garbage collector would walk the many dicts and sets made here again and
    # again and free little (they go when no longer referred to): a fifth of the time on a
    # year's system. Paused, and let run again after.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _suppress(values, equations, threshold, forced, rank, headlines, start)
    finally:
        if collecting:
            gc.enable()


def _suppress(
    values: Mapping[Key, int],
    equations: Sequence[Equation[Key]],
    threshold: int = THRESHOLD,
    forced: set[Key] | None = None,
    rank: Callable[[Key], int] | None = None,
    headlines: set[Key] | None = None,
    start: set[Key] | None = None,
) -> set[Key]:
    small = {key for key, value in values.items() if 0 < value < threshold}
    keep = small | (forced or set())
    order = rank or (lambda key: 0)
    preferred = headlines or set()
    touching: dict[Key, list[Equation[Key]]] = {}
    members: dict[int, tuple[Key, ...]] = {}  # each equation's cells
    for equation in equations:
        members[id(equation)] = (equation[0], *equation[1])
        for key in members[id(equation)]:
            touching.setdefault(key, []).append(equation)

    def along(cells: Iterable[Key]) -> list[Equation[Key]]:
        """The equations that hold these cells (the others do not constrain them)."""
        found: dict[int, Equation[Key]] = {}
        for cell in cells:
            for equation in touching.get(cell, []):
                found[id(equation)] = equation
        return list(found.values())

    def worth(key: Key) -> tuple[int, int, str]:
        """Hidden first: the most specific (the last given back, when ranked), then the
        smallest."""
        return (-order(key), values[key], repr(key))

    def pick(equations: Iterable[Equation[Key]], hidden: set[Key], barred: set[Key]) -> set[Key]:
        """In each equation, the shown positive cell to hide (``worth``), barred ones aside."""
        found = set()
        for total, parts in equations:
            shown = [
                k for k in (total, *parts) if k not in hidden and values[k] > 0 and k not in barred
            ]
            if shown:
                found.add(min(shown, key=worth))
        return found

    solved: dict[frozenset[Key], set[Key]] = {}

    def pinned_down(hidden: set[Key]) -> set[Key]:
        """``determined``, one group of hidden cells at a time (cells that share no equation,
        even through others, tell nothing of each other): a group that did not change since
        the last round is not solved again."""
        found: set[Key] = set()
        seen: set[Key] = set()
        for key in hidden:
            if key in seen:
                continue
            seen.add(key)
            cells, stack = [key], [key]
            lines: dict[int, Equation[Key]] = {}  # the group's equations
            while stack:
                for equation in touching.get(stack.pop(), ()):
                    if id(equation) in lines:
                        continue
                    lines[id(equation)] = equation
                    for other in members[id(equation)]:
                        if other in hidden and other not in seen:
                            seen.add(other)
                            cells.append(other)
                            stack.append(other)
            frozen = frozenset(cells)
            if frozen not in solved:
                solved[frozen] = determined(set(cells), values, list(lines.values()))
            found |= solved[frozen]
        return found

    def complement(start: set[Key], never: set[Key]) -> set[Key] | None:
        """Hide cells until no small one can be solved for, ``never`` those; None when that
        cannot be done without them."""
        hidden = set(start)
        while True:
            pinned = pinned_down(hidden)
            exposed = pinned & small
            if not exposed:
                return hidden
            # For each exposed cell, hide a cell in each of its equations; failing that, in
            # the equations of the pinned cells beside it (the chain that pins it). When no
            # exposed cell has one, look along the hidden cells that are pinned down, then
            # along every hidden cell; then a headline too: the most specific beside each
            # exposed cell. This ends: with every positive cell hidden, scaling them all
            # together is a free move.
            added: set[Key] = set()
            for cell in sorted(exposed, key=repr):
                own = touching.get(cell, [])
                found = pick(own, hidden, preferred | never)
                if not found:
                    beside = {k for total, parts in own for k in (total, *parts) if k in pinned}
                    found = pick(along(beside - {cell}), hidden, preferred | never)
                added |= found
            for sources in (pinned, hidden):
                added |= set() if added else pick(along(sources), hidden, preferred | never)
            for cell in sorted(exposed, key=repr) if not added else []:
                own = touching.get(cell, [])
                beside = {k for total, parts in own for k in (total, *parts) if k in pinned}
                candidates = pick([*own, *along(beside - {cell})], hidden, never)
                added |= set(sorted(candidates, key=worth)[:1])
            for sources in (pinned, hidden):
                added |= set() if added else pick(along(sources), hidden, never)
            if not added:
                return None if never else hidden  # else every positive cell is hidden
            hidden |= added

    def give_back(hidden: set[Key]) -> set[Key]:
        """Show again what is not needed, the least specific and largest first (the most
        useful to readers): a cell can be shown if fixing it leaves every small cell free to
        move."""
        hidden = set(hidden)
        moves = _Moves(free_moves(hidden, along(hidden)))
        for key in sorted(hidden - keep, key=lambda key: (order(key), -values[key], repr(key))):
            if moves.show(key, small):
                hidden.discard(key)
            # else needed: showing it would pin a small cell down
        return hidden

    begin = keep | {key for key in start or set() if values.get(key, 0) > 0}
    hidden = give_back(complement(begin, set()) or set())
    # A headline hidden by the greedy choices above may be spared by another pattern, one
    # that hides more specific headlines (or other cells) instead: try, the widest first.
    for key in sorted(hidden & preferred - keep, key=lambda key: (order(key), repr(key))):
        if key in hidden:
            wider = {k for k in preferred - hidden if order(k) <= order(key)}
            trial = complement(hidden - {key}, wider | {key})
            if trial is not None:
                hidden = give_back(trial)
    return hidden


@dataclass(frozen=True)
class ProtectedTable:
    """Cells with their row totals (last column, when the columns add up) and column totals
    (last row); None marks a hidden cell."""

    cells: list[list[int | None]]

    def shown(self, marker: str = HIDDEN) -> list[list[str]]:
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
