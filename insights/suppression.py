"""k-anonymity for every insights table: primary and complementary suppression.

A table is a grid of cells with optional row and column totals (and a grand total). Each entry
carries `clients`, the distinct clients behind it, and `value`, the additive count shown.

The rule: an entry counting fewer than K distinct clients (but more than none) is hidden
(primary), and then, so that no hidden entry can be got back by subtracting shown entries from
a shown total, no *line* keeps exactly one hidden entry. A line is a row or a column of the
table augmented with its margins: the cells of a row with the row total, the cells of a column
with the column total, the row totals with the grand total, the column totals with the grand
total. While some line has exactly one hidden entry, the smallest shown non-zero cell of that
line is hidden too (else its smallest shown cell, else its total). The loop only ever hides,
so it ends; at the end every line has 0 or at least 2 hidden entries, and no chain of
single-unknown subtractions can start.

Pure: no queries. The API, the page and the CSV all render the one suppressed table."""

from __future__ import annotations

from dataclasses import dataclass, field

K = 5


@dataclass
class Entry:
    value: float | int
    clients: int
    extra: dict = field(default_factory=dict)  # non-additive figures shown with the cell
    suppressed: bool = False
    primary: bool = False


@dataclass
class Table:
    """`cells[r][c]`; `row_totals[r]`, `col_totals[c]` and `grand` are None when not shown."""

    name: str
    row_labels: list[str]
    col_labels: list[str]
    cells: list[list[Entry]]
    row_totals: list[Entry] | None = None
    col_totals: list[Entry] | None = None
    grand: Entry | None = None

    def lines(self) -> list[list[Entry]]:
        """Every set of entries bound by one sum (an entry list whose last item is the total)."""
        lines = []
        if self.row_totals is not None:
            for r, row in enumerate(self.cells):
                lines.append([*row, self.row_totals[r]])
            if self.grand is not None:
                lines.append([*self.row_totals, self.grand])
        if self.col_totals is not None:
            for c in range(len(self.col_labels)):
                lines.append([row[c] for row in self.cells] + [self.col_totals[c]])
            if self.grand is not None:
                lines.append([*self.col_totals, self.grand])
        return lines

    def entries(self) -> list[Entry]:
        found = [entry for row in self.cells for entry in row]
        found += list(self.row_totals or []) + list(self.col_totals or [])
        return found + ([self.grand] if self.grand is not None else [])


def _complement(line: list[Entry]) -> Entry:
    """The entry to hide beside a line's one hidden entry: the smallest shown non-zero cell,
    else the smallest shown cell, else the total."""
    cells, total = line[:-1], line[-1]
    shown = [entry for entry in cells if not entry.suppressed]
    nonzero = [entry for entry in shown if entry.value]
    for pool in (nonzero, shown):
        if pool:
            return min(pool, key=lambda entry: (entry.value, entry.clients))
    return total


def suppress(table: Table, *, k: int = K) -> Table:
    """Hide, in place, every entry below k distinct clients and the complements that keep it
    hidden; returns the table."""
    for entry in table.entries():
        if 0 < entry.clients < k:
            entry.suppressed = entry.primary = True
    lines = table.lines()
    changed = True
    while changed:
        changed = False
        for line in lines:
            if len(line) > 1 and sum(entry.suppressed for entry in line) == 1:
                _complement(line).suppressed = True
                changed = True
    return table
