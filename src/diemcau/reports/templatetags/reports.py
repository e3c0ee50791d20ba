"""Template helpers of the report pages and the PDF."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from ..exports import formatting, svg
from ..presentation import Chart

register = template.Library()


@register.simple_tag
def figure(value: Any, kind: str) -> str:
    """`{% figure cell.value column.kind %}` → "1.234" / "12,5 %" in the page's language."""
    return formatting.display(value, kind)


@register.simple_tag
def svg_chart(chart: Chart, current: str, previous: str) -> SafeString:
    """The chart as SVG (the PDF); every text in it is escaped by `svg.bar_chart`."""
    return mark_safe(svg.bar_chart(chart, current, previous))  # noqa: S308


@register.filter
def index(items: Any, position: int) -> Any:
    """`{{ table.columns|index:forloop.counter0 }}`."""
    return items[position]
