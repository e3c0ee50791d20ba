"""A report's charts as SVG for the PDF (WeasyPrint draws SVG itself, in the document's
fonts): the same bars as the page's Chart.js charts, from the same `presentation.Chart` — this
period beside the previous one, and the node's cap as a mark where there is one."""

from __future__ import annotations

from xml.sax.saxutils import escape

from ..presentation import Chart

WIDTH = 640
CURRENT, PREVIOUS, CAP = "#0d6efd", "#adb5bd", "#dc3545"
FONT = "font-family:'Liberation Serif','Times New Roman','DejaVu Serif',serif"


def _number(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.1f}"


def _axis(highest: float, whole: bool) -> tuple[float, float]:
    """A round step (1, 2 or 5 × 10ⁿ; at least 1 for counts) giving at most five ticks, and
    the axis's top: the first tick at or above the highest value."""
    step = 1.0 if whole else 0.1
    while highest / step > 5:
        for factor in (2, 2.5, 2):
            step *= factor
            if highest / step <= 5:
                break
    top = max(step, step * -(-highest // step))
    return step, top


def _legend(x: float, y: float, current: str, previous: str) -> str:
    return (
        f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{CURRENT}"/>'
        f'<text x="{x + 14}" y="{y}" font-size="11">{escape(current)}</text>'
        f'<rect x="{x + 200}" y="{y - 9}" width="10" height="10" fill="{PREVIOUS}"/>'
        f'<text x="{x + 214}" y="{y}" font-size="11">{escape(previous)}</text>'
    )


def _label(text: str, limit: int = 34) -> str:
    return escape(text if len(text) <= limit else text[: limit - 1] + "…")


def bar_chart(chart: Chart, current_label: str, previous_label: str) -> str:
    """Horizontal bars: one pair per label (this period, the previous one)."""
    values = [float(v or 0) for v in (*chart.current, *chart.previous, *(chart.caps or []))]
    step, top = _axis(max(values, default=0), all(v == int(v) for v in values))
    label_width, bar_height, gap = 210, 9, 8
    plot_width = WIDTH - label_width - 50
    row = 2 * bar_height + gap
    height = 40 + row * max(1, len(chart.labels)) + 26
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
             f'viewBox="0 0 {WIDTH} {height}" style="{FONT}" role="img">',
             f'<title>{escape(chart.title)}</title>',
             _legend(label_width, 14, current_label, previous_label)]
    y0 = 28
    for tick in range(round(top / step) + 1):
        value = step * tick
        x = label_width + plot_width * value / top
        parts.append(f'<line x1="{x:.1f}" y1="{y0}" x2="{x:.1f}" y2="{height - 24}" '
                     'stroke="#dee2e6" stroke-width="0.6"/>')
        parts.append(f'<text x="{x:.1f}" y="{height - 10}" font-size="10" '
                     f'text-anchor="middle">{_number(value)}</text>')
    for index, label in enumerate(chart.labels):
        y = y0 + 6 + index * row
        parts.append(f'<text x="{label_width - 6}" y="{y + bar_height + 3}" font-size="10.5" '
                     f'text-anchor="end">{_label(label)}</text>')
        for offset, (value, colour) in enumerate(
            ((chart.current[index], CURRENT), (chart.previous[index], PREVIOUS))
        ):
            value = float(value or 0)
            length = plot_width * value / top
            bar_y = y + offset * bar_height
            parts.append(f'<rect x="{label_width}" y="{bar_y}" width="{length:.1f}" '
                         f'height="{bar_height - 1}" fill="{colour}"/>')
            parts.append(f'<text x="{label_width + length + 3:.1f}" y="{bar_y + bar_height - 2}" '
                         f'font-size="9">{_number(value)}</text>')
        if chart.caps:
            cap_x = label_width + plot_width * float(chart.caps[index] or 0) / top
            parts.append(f'<line x1="{cap_x:.1f}" y1="{y - 2}" x2="{cap_x:.1f}" '
                         f'y2="{y + 2 * bar_height + 1}" stroke="{CAP}" stroke-width="2" '
                         'stroke-dasharray="3,2"/>')
    parts.append("</svg>")
    return "".join(parts)
