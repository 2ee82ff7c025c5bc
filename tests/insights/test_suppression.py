"""k-suppression, as a property over random tables: every cell under k distinct clients is
hidden, and no hidden cell can be recovered by subtracting shown cells from shown totals."""

from hypothesis import given, settings
from hypothesis import strategies as st

from insights.suppression import Entry, K, Table, suppress


@st.composite
def tables(draw):
    rows = draw(st.integers(1, 6))
    cols = draw(st.integers(1, 6))
    clients = [[draw(st.integers(0, 12)) for _c in range(cols)] for _r in range(rows)]
    cells = [
        [Entry(value=n + draw(st.integers(0, 3)) if n else 0, clients=n) for n in row]
        for row in clients
    ]

    def margin(entries: list[Entry]) -> Entry:
        # Distinct clients of a margin: at least its largest cell's, at most the sum.
        most = max(e.clients for e in entries)
        total = sum(e.clients for e in entries)
        return Entry(value=sum(e.value for e in entries), clients=draw(st.integers(most, total)))

    with_rows, with_cols = draw(st.booleans()), draw(st.booleans())
    row_totals = [margin(row) for row in cells] if with_rows else None
    col_totals = [margin([row[c] for row in cells]) for c in range(cols)] if with_cols else None
    grand = None
    if with_rows and with_cols and draw(st.booleans()):
        grand = margin([e for row in cells for e in row])
    return Table(
        "t",
        [str(r) for r in range(rows)],
        [str(c) for c in range(cols)],
        cells,
        row_totals,
        col_totals,
        grand,
    )


def recoverable(table: Table) -> set[int]:
    """The entries an attacker learns from the shown ones by repeated subtraction: any line
    (cells + total) with exactly one unknown entry gives it away."""
    known = {id(e) for e in table.entries() if not e.suppressed}
    changed = True
    while changed:
        changed = False
        for line in table.lines():
            unknown = [e for e in line if id(e) not in known]
            if len(unknown) == 1:
                known.add(id(unknown[0]))
                changed = True
    return known


@settings(max_examples=400, deadline=None)
@given(tables())
def test_no_cell_under_k_is_shown_or_recoverable(table):
    suppress(table)
    known = recoverable(table)
    for entry in table.entries():
        if 0 < entry.clients < K:
            assert entry.suppressed
            assert id(entry) not in known


@settings(max_examples=200, deadline=None)
@given(tables())
def test_every_line_has_no_hidden_entry_or_at_least_two(table):
    suppress(table)
    for line in table.lines():
        assert sum(e.suppressed for e in line) != 1


def test_a_row_with_one_small_cell_loses_its_smallest_other_cell():
    cells = [[Entry(4, 4), Entry(9, 9), Entry(6, 6)]]
    table = suppress(Table("t", ["r"], ["a", "b", "c"], cells, row_totals=[Entry(19, 19)]))
    assert [e.suppressed for e in cells[0]] == [True, False, True]
    assert not table.row_totals[0].suppressed


def test_cells_of_five_or_more_clients_and_empty_cells_are_shown():
    cells = [[Entry(5, 5), Entry(0, 0), Entry(7, 6)]]
    suppress(Table("t", ["r"], ["a", "b", "c"], cells, row_totals=[Entry(12, 11)]))
    assert not any(e.suppressed for e in cells[0])
