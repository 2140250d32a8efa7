"""Small-cell suppression: counts under 5 are hidden, no small cell can be recovered from the
totals shown (solving all the table's equations together, not one line at a time), and no
cell of 5 or more is hidden unless showing it would let a small cell be recovered.

The recovery check here is independent of ``disclosure.determined``: exact Gaussian
elimination over fractions."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from routecare.indicators import disclosure

counts = st.one_of(st.integers(min_value=0, max_value=6), st.integers(min_value=0, max_value=400))
tables = st.tuples(st.integers(min_value=1, max_value=5), st.booleans()).flatmap(
    lambda shape: st.tuples(
        st.lists(st.lists(counts, min_size=shape[0], max_size=shape[0]), min_size=1, max_size=6),
        st.just(shape[1]),
    )
)


def recoverable(hidden: set[Any], equations: Sequence[tuple[Any, Sequence[Any]]]) -> set[Any]:
    """Hidden cells whose value is fixed by the equations (exact, over fractions): a cell is
    fixed when its unit vector lies in the span of the equations restricted to hidden cells."""
    unknowns = sorted(hidden, key=repr)
    rows = []
    for total, parts in equations:
        row = [Fraction(0)] * len(unknowns)
        for key, sign in ((total, -1), *((part, 1) for part in parts)):
            if key in hidden:
                row[unknowns.index(key)] += sign
        rows.append(row)
    pivot_columns: list[int] = []
    rank = 0
    for column in range(len(unknowns)):
        found = next((r for r in range(rank, len(rows)) if rows[r][column] != 0), None)
        if found is None:
            continue
        rows[rank], rows[found] = rows[found], rows[rank]
        pivot = rows[rank][column]
        rows[rank] = [value / pivot for value in rows[rank]]
        for r in range(len(rows)):
            if r != rank and rows[r][column] != 0:
                factor = rows[r][column]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[rank], strict=True)]
        pivot_columns.append(column)
        rank += 1
    fixed = set()
    for r, column in enumerate(pivot_columns):
        if all(value == 0 for c, value in enumerate(rows[r]) if c != column):
            fixed.add(unknowns[column])
    return fixed


def _check(
    values: Mapping[Any, int], hidden: set[Any], equations: Sequence[tuple[Any, Sequence[Any]]]
) -> None:
    small = {key for key, value in values.items() if 0 < value < disclosure.THRESHOLD}
    assert small <= hidden  # every small count is hidden
    assert not any(values[key] == 0 for key in hidden)  # zeros identify nobody
    assert not recoverable(hidden, equations) & small  # no small cell can be solved for
    for key in hidden - small:
        # A larger cell is hidden only because showing it would expose a small one.
        assert recoverable(hidden - {key}, equations) & small, (key, values[key])


@settings(max_examples=300, deadline=None)
@given(tables)
def test_only_small_cells_and_the_cells_needed_to_protect_them_are_hidden(
    case: tuple[list[list[int]], bool],
) -> None:
    table, row_totals = case
    columns = len(table[0])
    protected = disclosure.protect(table, columns, row_totals=row_totals).cells
    full = disclosure.with_totals(table, columns, row_totals)
    height, width = len(full), len(full[0])
    values = {(i, j): full[i][j] for i in range(height) for j in range(width)}
    hidden = {(i, j) for i in range(height) for j in range(width) if protected[i][j] is None}
    for (i, j), value in values.items():
        if (i, j) not in hidden:
            assert protected[i][j] == value  # what is shown is true
    equations = disclosure.table_equations(height, width, row_totals)
    _check(values, hidden, equations)
    # Totals given back first and the grand total kept shown whenever another pattern
    # protects (as regional dashboards ask): the same guarantees.
    totals = {key for key in values if key[0] == height - 1 or (row_totals and key[1] == width - 1)}
    ranked = disclosure.suppress(
        values,
        equations,
        rank=lambda key: 0 if key in totals else 1,
        headlines={(height - 1, width - 1)},
    )
    _check(values, ranked, equations)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.lists(counts, min_size=2, max_size=2), min_size=3, max_size=3),
                min_size=2, max_size=4))  # fmt: skip
def test_a_table_and_the_same_figures_by_society_are_protected_together(
    by_society: list[list[list[int]]],
) -> None:
    """What one regional user sees: the network's table with its totals, and each society's
    own table (the ``?society=`` filter), whose cells add up to the network's."""
    values: dict[Hashable, int] = {}
    equations: list[tuple[Hashable, list[Hashable]]] = []
    network = [[sum(cells[i][j] for cells in by_society) for j in range(2)] for i in range(3)]
    tables: dict[Hashable, list[list[int]]] = {**dict(enumerate(by_society)), "network": network}
    for name, cells in tables.items():
        full = disclosure.with_totals(cells, 2)
        for i, row in enumerate(full):
            for j, value in enumerate(row):
                values[(name, i, j)] = value
        equations += [
            ((name, *total), [(name, *part) for part in parts])
            for total, parts in disclosure.table_equations(len(full), len(full[0]))
        ]
    equations += [
        (("network", i, j), [(s, i, j) for s in range(len(by_society))])
        for i in range(4)
        for j in range(3)
    ]
    hidden = disclosure.suppress(values, equations)
    _check(values, hidden, equations)


def test_a_lone_small_cell_hides_only_what_protects_it() -> None:
    protected = disclosure.protect([[3, 40, 12], [20, 30, 10]], 3)
    assert protected.shown(disclosure.HIDDEN) == [
        ["", "40", "", "55"],
        ["", "30", "", "60"],
        ["23", "70", "22", "115"],
    ]


def test_large_cells_beside_a_small_one_stay_shown_when_a_column_can_protect_it() -> None:
    # Panama and Honduras with thousands of people; one society with 3 consultations. The
    # columns measure different things, so rows have no total: only the consultations
    # column needs a second hidden cell, and no count of people is hidden.
    protected = disclosure.protect([[18067, 3], [11947, 40], [500, 60]], 2, row_totals=False)
    assert protected.shown(disclosure.HIDDEN) == [
        ["18067", ""],
        ["11947", ""],
        ["500", "60"],
        ["30514", "103"],
    ]


def test_a_single_small_count_hides_its_total_too() -> None:
    assert disclosure.protect([[2]], 1).shown("") == [["", ""], ["", ""]]
    assert disclosure.protect([[0, 3]], 2).shown("") == [["0", "", ""], ["0", "", ""]]


def test_the_worked_example_of_the_documentation() -> None:
    """docs/indicators.md, "Worked example": 3, 12, 20 and 10 hidden, nothing else."""
    protected = disclosure.protect([[3, 40, 12], [20, 30, 10], [8, 9, 50]], 3)
    assert protected.shown("hidden") == [
        ["hidden", "40", "hidden", "55"],
        ["hidden", "30", "hidden", "60"],
        ["8", "9", "50", "67"],
        ["31", "79", "72", "182"],
    ]


def test_a_hidden_cell_is_never_shown_as_small_by_default() -> None:
    """Whoever forgets to pass a marker still says nothing of a hidden cell's size: the cells
    hidden with a small one are often large."""
    protected = disclosure.protect([[2, 900], [700, 800]], 2)
    assert protected.shown() == [["", "", "902"], ["", "", "1500"], ["702", "1700", "2402"]]
    assert "<5" not in str(protected.shown())


def test_owners_see_everything() -> None:
    assert disclosure.open_table([[1, 2]], 2).shown() == [["1", "2", "3"], ["1", "2", "3"]]


def test_a_small_cell_pinned_through_a_chain_of_lines_is_protected() -> None:
    """Every line of the 3 holds two hidden cells, yet the lines together pin it: the
    protection is checked on all the equations at once, not line by line."""
    table = [[0, 23, 3], [6, 6, 0], [20, 53, 109]]
    full = disclosure.with_totals(table, 3)
    values = {(i, j): full[i][j] for i in range(4) for j in range(4)}
    equations = disclosure.table_equations(4, 4)
    hidden = disclosure.suppress(values, equations)
    _check(values, hidden, equations)


@settings(max_examples=100, deadline=None)
@given(tables, st.randoms(use_true_random=False))
def test_the_pattern_does_not_depend_on_the_order_of_the_equations(
    case: tuple[list[list[int]], bool], rng: Any
) -> None:
    """Every process must draw the same pattern (sets iterate in another order in each)."""
    table, row_totals = case
    columns = len(table[0])
    full = disclosure.with_totals(table, columns, row_totals)
    height, width = len(full), len(full[0])
    values = {(i, j): full[i][j] for i in range(height) for j in range(width)}
    equations = disclosure.table_equations(height, width, row_totals)
    shuffled = list(equations)
    rng.shuffle(shuffled)
    rank = lambda key: -key[0]  # noqa: E731
    headlines = {(height - 1, width - 1)}
    assert disclosure.suppress(values, equations, rank=rank, headlines=headlines) == (
        disclosure.suppress(values, shuffled, rank=rank, headlines=headlines)
    )
