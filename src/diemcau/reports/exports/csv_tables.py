"""One CSV file per table (R21), readable by a spreadsheet without running anything: a text
cell that begins with =, +, - or @ (or a tab or a carriage return) would be a formula there
(CSV injection: an agency or endpoint named "=HYPERLINK(…)"), so it gets a leading
apostrophe. UTF-8 with a byte-order mark, so spreadsheets read the Vietnamese right."""

from __future__ import annotations

import csv
import io
from typing import Any

from ..presentation import Presented, Table

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


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
    writer = csv.writer(out)
    writer.writerow([safe_cell(v) for v in header(table, report)])
    for line in rows(table):
        writer.writerow([safe_cell(v) for v in line])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
