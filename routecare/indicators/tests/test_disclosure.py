"""Small-cell suppression: counts under 5 are hidden, and no total minus the visible cells of
its line gives a hidden cell away."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from routecare.indicators import disclosure

counts = st.integers(min_value=0, max_value=30)
tables = st.integers(min_value=1, max_value=5).flatmap(
    lambda width: st.lists(st.lists(counts, min_size=width, max_size=width), min_size=1,
                           max_size=6)
)  # fmt: skip


def _lines(cells: list[list[int | None]]) -> list[list[int | None]]:
    columns = [[row[j] for row in cells] for j in range(len(cells[0]))]
    return [*cells, *columns]


@given(tables)
def test_no_line_reveals_a_hidden_cell(table: list[list[int]]) -> None:
    protected = disclosure.protect(table, len(table[0])).cells
    full = disclosure.with_totals(table, len(table[0]))
    for i, row in enumerate(full):
        for j, value in enumerate(row):
            if 0 < value < disclosure.THRESHOLD:
                assert protected[i][j] is None  # every small count is hidden
            if protected[i][j] is not None:
                assert protected[i][j] == value  # what is shown is true
    for line in _lines(protected):
        # A total minus the visible cells of its line would reveal a lone hidden cell.
        assert sum(value is None for value in line) != 1


def test_a_lone_small_cell_takes_a_second_one_with_it() -> None:
    protected = disclosure.protect([[3, 40, 12], [20, 30, 10]], 3)
    # 3 is hidden; its row then hides 12, its column 20, and 12's column 10.
    assert protected.shown() == [
        ["<5", "40", "<5", "55"],
        ["<5", "30", "<5", "60"],
        ["23", "70", "22", "115"],
    ]


def test_a_single_small_count_hides_its_total_too() -> None:
    assert disclosure.protect([[2]], 1).shown() == [["<5", "<5"], ["<5", "<5"]]
    assert disclosure.protect([[0, 3]], 2).shown() == [["0", "<5", "<5"], ["0", "<5", "<5"]]


def test_owners_see_everything() -> None:
    assert disclosure.open_table([[1, 2]], 2).shown() == [["1", "2", "3"], ["1", "2", "3"]]
