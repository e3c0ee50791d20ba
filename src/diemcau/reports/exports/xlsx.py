"""The report as an XLSX workbook (openpyxl): a cover sheet saying what the report is, then
one formatted sheet per table of each section, its header frozen, its figures beside those of
the previous period, its total row in bold. Text cells that would be formulas are written as
text (openpyxl writes a string starting with "=" as a formula otherwise)."""

from __future__ import annotations

import io
import re
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from diemcau.core import csv_cells

from ..presentation import Presented, Table
from . import csv_tables

HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")
PREVIOUS_FILL = PatternFill("solid", fgColor="F2F2F2")
TOTAL_BORDER = Border(top=Side(style="thin"), bottom=Side(style="double"))
THIN = Side(style="thin", color="BFBFBF")
GRID = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
FORMATS = {"int": "#,##0", "hours": "#,##0.0", "percent": "0.0", "number": "#,##0.0",
           "text": "@"}
FIRST_ROW = 4  # title, the period, a blank line, then the header


def _sheet_name(title: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", " ", title).strip()[:28] or "Sheet"
    name, n = base, 2
    while name.lower() in used:
        name, n = f"{base[:26]} {n}", n + 1
    used.add(name.lower())
    return name


def _text(value: Any) -> Any:
    """Keep text as text: openpyxl stores "=…" as a formula unless told otherwise."""
    return csv_cells.safe_cell(value) if isinstance(value, str) else value


def _cover(sheet: Worksheet, report: Presented, facts: list[tuple[str, str]]) -> None:
    sheet.title = _sheet_name(_("Report"), set())
    sheet["A1"] = report.title
    sheet["A1"].font = Font(bold=True, size=14)
    rows = [(_("Period"), report.period_label), (_("Compared with"), report.previous_label),
            (_("Scope"), report.scope_label), *facts]
    for index, (name, value) in enumerate(rows, start=3):
        sheet.cell(index, 1, name).font = Font(bold=True)
        sheet.cell(index, 2, _text(value))
    start = len(rows) + 5
    sheet.cell(start, 1, _("Sheets")).font = Font(bold=True)
    for index, table in enumerate(report.tables, start=start + 1):
        sheet.cell(index, 1, table.title)
    sheet.column_dimensions["A"].width = 42
    sheet.column_dimensions["B"].width = 70


def _table_sheet(sheet: Worksheet, table: Table, report: Presented) -> None:
    sheet["A1"] = table.title
    sheet["A1"].font = Font(bold=True, size=13)
    sheet["A2"] = _text(f"{report.scope_label} · {report.period_label}")
    sheet["A2"].font = Font(italic=True, color="595959")
    titles = csv_tables.header(table, report)
    for col, title in enumerate(titles, start=1):
        cell = sheet.cell(FIRST_ROW, col, _text(title))
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center",
                                   horizontal="left" if col == 1 else "center")
        cell.border = GRID
    kinds: list[tuple[str, bool]] = [("text", False)]
    for column in table.columns:
        kinds.append((column.kind, False))
        if column.compare:
            kinds.append((column.kind, True))
    for offset, (row, values) in enumerate(zip(table.all_rows(), csv_tables.rows(table),
                                               strict=True), start=1):
        r = FIRST_ROW + offset
        for col, (value, (kind, previous)) in enumerate(zip(values, kinds, strict=True),
                                                         start=1):
            cell = sheet.cell(r, col, _text(value) if value != "" else None)
            cell.number_format = FORMATS.get(kind, "General")
            cell.border = GRID
            if previous:
                cell.fill = PREVIOUS_FILL
                cell.font = Font(color="595959", bold=row.is_total)
            elif row.is_total:
                cell.font = Font(bold=True)
            if row.is_total:
                cell.border = TOTAL_BORDER
    last = FIRST_ROW + len(table.all_rows())
    if table.note:
        sheet.cell(last + 2, 1, _text(table.note)).font = Font(italic=True, color="595959")
    # The header row and the row names stay in view while scrolling.
    sheet.freeze_panes = sheet.cell(FIRST_ROW + 1, 2)
    if table.rows:
        end = last - (1 if table.total else 0)
        sheet.auto_filter.ref = f"A{FIRST_ROW}:{get_column_letter(len(titles))}{end}"
    sheet.row_dimensions[FIRST_ROW].height = 45
    sheet.column_dimensions["A"].width = min(60, max([24, *(len(r.label) + 2
                                                             for r in table.all_rows())]))
    for col in range(2, len(titles) + 1):
        wide = kinds[col - 1][0] == "text"
        sheet.column_dimensions[get_column_letter(col)].width = 36 if wide else 16
    sheet.print_title_rows = f"{FIRST_ROW}:{FIRST_ROW}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1


def workbook(report: Presented, facts: list[tuple[str, str]] | None = None) -> bytes:
    """The workbook's bytes. `facts`: more lines for the cover (who made it, its hash…)."""
    book = Workbook()
    _cover(book.active, report, facts or [])
    used = {book.active.title.lower()}
    for table in report.tables:
        sheet = book.create_sheet(_sheet_name(table.title, used))
        _table_sheet(sheet, table, report)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
