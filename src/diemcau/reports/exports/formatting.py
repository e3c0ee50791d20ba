"""Numbers as a reader of the report's language writes them: "1.234,5" in Vietnamese,
"1,234.5" in English (the locale's separators, always grouped by thousands)."""

from __future__ import annotations

from typing import Any

from django.utils import numberformat
from django.utils.formats import get_format


def number(value: float | int, decimals: int) -> str:
    return numberformat.format(
        value, get_format("DECIMAL_SEPARATOR"), decimal_pos=decimals, grouping=3,
        thousand_sep=get_format("THOUSAND_SEPARATOR"), force_grouping=True,
    )


def display(value: Any, kind: str) -> str:
    """A cell's value for the page and the PDF; "–" where there is nothing to count."""
    if value is None or value == "":
        return "–" if kind != "text" else ""
    if kind == "text" or isinstance(value, str):
        return str(value)
    if kind == "int" or (kind == "number" and float(value) == int(value)):
        return number(int(value), 0)
    text = number(float(value), 1)
    return f"{text} %" if kind == "percent" else text
