"""CSV files that a spreadsheet opens without running anything (CSV/formula injection).

A cell that begins with `=`, `+`, `-` or `@` (or a tab or carriage return, which some
programs skip before looking) is a formula to Excel and LibreOffice: an endpoint named
`=HYPERLINK("http://…")` would become a link, or worse, in whoever opens the attendance list
or the audit export. Such text cells get a leading apostrophe, which spreadsheets show as
text and do not display. Numbers stay numbers. Every CSV the system writes goes through
`writer()`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, Protocol

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Writable(Protocol):
    def write(self, value: str, /) -> Any: ...


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeWriter:
    """csv.writer whose text cells cannot start a formula."""

    def __init__(self, target: _Writable, **options: Any) -> None:
        self._writer = csv.writer(target, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(target: _Writable, **options: Any) -> SafeWriter:
    return SafeWriter(target, **options)
