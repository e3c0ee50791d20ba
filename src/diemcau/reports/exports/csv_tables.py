"""One CSV file per table (R21), written through `core.csv_cells` (a spreadsheet runs nothing
from it), in UTF-8 with a byte-order mark so spreadsheets read the Vietnamese right."""

from __future__ import annotations

import io
from typing import Any

from diemcau.core import csv_cells

from ..presentation import Presented, Table


def header(table: Table, report: Presented) -> list[str]:
    titles = [table.label_title]
    for column in table.columns:
        if column.compare:
            titles.append(f"{column.title} ({report.period_label})")
            titles.append(f"{column.title} ({report.previous_label})")
        else:
            titles.append(column.title)
    return titles


def rows(table: Table) -> list[list[Any]]:
    lines = []
    for row in table.all_rows():
        line: list[Any] = [row.label]
        for column, cell in zip(table.columns, row.cells, strict=True):
            line.append("" if cell.value is None else cell.value)
            if column.compare:
                line.append("" if cell.previous is None else cell.previous)
        lines.append(line)
    return lines


def table_csv(table: Table, report: Presented) -> bytes:
    """The table's header (each figure's column named with its period) and rows."""
    out = io.StringIO()
    writer = csv_cells.writer(out)
    writer.writerow(header(table, report))
    writer.writerows(rows(table))
    return ("\ufeff" + out.getvalue()).encode("utf-8")
