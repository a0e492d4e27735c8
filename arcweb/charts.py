"""Server-rendered SVG charts: one pure function per chart, the same markup for pages, PDFs and e-mails.

Usage (in a view, then `{{ chart }}` in the template — the functions escape every text they draw, so
their output is safe to mark safe; never pass it through anything that concatenates user strings)::

    from arcweb import charts
    svg = charts.line_chart([(hour, 94.0), (next_hour, None), ...], width=640, height=200,
                            y_label="Reliability %", y_max=100)
    spark = charts.sparkline([0.9, 0.95, None, 0.8])
    bars = charts.bar_chart([("tool_timeout", 12), ("bad_output", 3)], width=480, height=160)

Rules kept by every function here:
- No inline `style` attribute and no <style> element: the CSP forbids inline styles. Colours and fonts are
  SVG presentation attributes (fill, stroke, font-size, …), which CSP allows. A `class` on each part lets a
  stylesheet restyle them.
- All text goes through `xml.sax.saxutils.escape` (and `quoteattr` in attributes); the output parses as XML.
- `None` values are gaps (a line breaks, a bar is absent), never zeros.
- No Django imports: the functions take plain data and return plain `str`; a view wraps the result with
  `arcweb.formatting.svg` before handing it to a template (it is already escaped).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from xml.sax.saxutils import escape, quoteattr

INK = "#1f2937"
MUTED = "#6b7280"
GRID = "#e5e7eb"
ACCENT = "#4f46e5"
GOOD = "#059669"
BAD = "#dc2626"
FONT = "Helvetica, Arial, sans-serif"

Point = tuple[datetime | str, float | None]


def _num(value: float) -> str:
    """Coordinates with at most 1 decimal, no trailing zeros: short, stable markup."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _label(moment: datetime | str) -> str:
    if isinstance(moment, datetime):
        return moment.strftime("%b %d") if moment.hour == 0 and moment.minute == 0 else moment.strftime("%b %d %H:%M")
    return str(moment)


def nice_max(value: float) -> float:
    """The smallest 1/2/4/6/8 × 10^n at or above value: an axis top whose quarters (the grid lines) are
    round numbers too (0.25, 0.5, 1, 1.5, 2 × 10^n)."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 4, 6, 8, 10):
        top = step * 10 ** exponent
        if top >= value * (1 - 1e-12):
            return float(top)
    return float(10 ** (exponent + 1))


def _format_tick(value: float) -> str:
    return f"{value:g}"


def _open(width: int, height: int, title: str, css_class: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class={quoteattr(css_class)} width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label={quoteattr(title)} '
            f'font-family={quoteattr(FONT)}><title>{escape(title)}</title>')


def line_chart(points: Sequence[Point], *, width: int = 640, height: int = 200, y_label: str = "",
               y_max: float | None = None, colour: str = ACCENT, title: str | None = None) -> str:
    """A line over time (x: the points in order, evenly spaced), with a y axis from 0 and 4 grid lines.

    `points` are (x label or datetime, value or None); None breaks the line. With fewer than one value the
    chart says "No data" instead of drawing an empty axis.
    """
    title = title or y_label or "chart"
    values = [v for _, v in points if v is not None]
    parts = [_open(width, height, title, "chart chart-line")]
    if not values:
        parts.append(f'<text x="{width // 2}" y="{height // 2}" text-anchor="middle" font-size="12" '
                     f'fill="{MUTED}">No data</text></svg>')
        return "".join(parts)
    top_value = y_max if y_max is not None else nice_max(max(values))
    top_value = top_value or 1.0
    ticks = [_format_tick(top_value * i / 4) for i in range(5)]
    # Room for the rotated axis label and the longest tick label (about 6 px a character at 10 px).
    left, right, top, bottom = max(44, 26 + 6 * max(map(len, ticks))), 12, 12, 26
    plot_w, plot_h = max(width - left - right, 1), max(height - top - bottom, 1)
    for i, tick in enumerate(ticks):
        y = top + plot_h - plot_h * i / 4
        parts.append(f'<line class="grid" x1="{left}" y1="{_num(y)}" x2="{left + plot_w}" y2="{_num(y)}" '
                     f'stroke="{GRID}" stroke-width="1"/>')
        parts.append(f'<text class="tick" x="{left - 6}" y="{_num(y + 4)}" text-anchor="end" font-size="10" '
                     f'fill="{MUTED}">{escape(tick)}</text>')
    if y_label:
        parts.append(f'<text class="axis-label" x="10" y="{_num(top + plot_h / 2)}" font-size="10" fill="{MUTED}" '
                     f'text-anchor="middle" transform="rotate(-90 10 {_num(top + plot_h / 2)})">'
                     f'{escape(y_label)}</text>')
    n = len(points)

    def xy(i: int, v: float) -> tuple[float, float]:
        x = left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)
        y = top + plot_h - plot_h * min(max(v, 0.0), top_value) / top_value
        return x, y

    segments: list[list[tuple[float, float]]] = [[]]
    for i, (_, v) in enumerate(points):
        if v is None:
            if segments[-1]:
                segments.append([])
            continue
        segments[-1].append(xy(i, v))
    for segment in segments:
        if len(segment) > 1:
            path = " ".join(f"{'M' if j == 0 else 'L'}{_num(x)} {_num(y)}" for j, (x, y) in enumerate(segment))
            parts.append(f'<path class="line" d="{path}" fill="none" stroke="{colour}" stroke-width="2" '
                         f'stroke-linejoin="round" stroke-linecap="round"/>')
        for x, y in segment if len(segment) == 1 or n <= 40 else ():
            parts.append(f'<circle class="dot" cx="{_num(x)}" cy="{_num(y)}" r="2.5" fill="{colour}"/>')
    # x labels: first, middle, last (enough to read the window without crowding)
    for i in sorted({0, (n - 1) // 2, n - 1}):
        x, _ = xy(i, 0)
        anchor = "start" if i == 0 and n > 1 else "end" if i == n - 1 and n > 1 else "middle"
        parts.append(f'<text class="tick" x="{_num(x)}" y="{height - 8}" text-anchor="{anchor}" font-size="10" '
                     f'fill="{MUTED}">{escape(_label(points[i][0]))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def sparkline(values: Sequence[float | None], width: int = 80, height: int = 20, *, colour: str = ACCENT,
              y_max: float | None = None, title: str = "trend") -> str:
    """A tiny line without axes; None values are gaps. The scale runs from min to max (or 0..y_max)."""
    present = [v for v in values if v is not None]
    parts = [_open(width, height, title, "chart sparkline")]
    if not present:
        parts.append("</svg>")
        return "".join(parts)
    low = 0.0 if y_max is not None else min(present)
    high = y_max if y_max is not None else max(present)
    span = (high - low) or 1.0
    n = len(values)
    pad = 2
    path, pen_down = [], False
    last = None
    for i, v in enumerate(values):
        if v is None:
            pen_down = False
            continue
        x = pad + (width - 2 * pad) * (i / (n - 1) if n > 1 else 0.5)
        y = pad + (height - 2 * pad) * (1 - (min(max(v, low), high) - low) / span)
        path.append(f"{'L' if pen_down else 'M'}{_num(x)} {_num(y)}")
        pen_down = True
        last = (x, y)
    parts.append(f'<path d="{" ".join(path)}" fill="none" stroke="{colour}" stroke-width="1.5" '
                 f'stroke-linejoin="round"/>')
    if last:
        parts.append(f'<circle cx="{_num(last[0])}" cy="{_num(last[1])}" r="2" fill="{colour}"/>')
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(bars: Sequence[tuple[str, float | None]], *, width: int = 480, height: int | None = None,
              colour: str = ACCENT, value_format: str = "{:g}", title: str = "chart", x_max: float | None = None) -> str:
    """Horizontal bars, one row each: label on the left, value at the bar's end. Height follows the rows
    (22 px each) unless given. Labels longer than 28 characters are cut with an ellipsis."""
    row = 22
    height = height or max(row * len(bars) + 8, 30)
    parts = [_open(width, height, title, "chart chart-bar")]
    if not bars:
        parts.append(f'<text x="{width // 2}" y="{height // 2 + 4}" text-anchor="middle" font-size="12" '
                     f'fill="{MUTED}">No data</text></svg>')
        return "".join(parts)
    label_w = min(180, width // 3, max(40, round(6.5 * max(len(label) for label, _ in bars)) + 12))
    value_w = 56
    bar_area = max(width - label_w - value_w, 10)
    top_value = x_max if x_max is not None else max((v for _, v in bars if v is not None), default=0) or 1.0
    for i, (label, value) in enumerate(bars):
        y = 4 + i * row
        text = label if len(label) <= 28 else label[:27] + "…"
        parts.append(f'<text class="bar-label" x="{label_w - 8}" y="{y + 15}" text-anchor="end" font-size="11" '
                     f'fill="{INK}">{escape(text)}</text>')
        if value is None:
            parts.append(f'<text class="bar-value" x="{label_w}" y="{y + 15}" font-size="11" fill="{MUTED}">—</text>')
            continue
        w = bar_area * min(max(value, 0), top_value) / top_value
        parts.append(f'<rect class="bar" x="{label_w}" y="{y + 3}" width="{_num(max(w, 1))}" height="{row - 8}" '
                     f'rx="2" fill="{colour}"/>')
        parts.append(f'<text class="bar-value" x="{_num(label_w + w + 6)}" y="{y + 15}" font-size="11" '
                     f'fill="{INK}">{escape(value_format.format(value))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def stacked_bar(segments: Sequence[tuple[str, float]], *, width: int = 480, height: int = 46,
                colours: Sequence[str] = (ACCENT, "#f59e0b", "#9ca3af", GOOD, BAD), title: str = "split") -> str:
    """One horizontal bar split into parts (e.g. time in model / tools / own code) with a legend below."""
    total = sum(max(v, 0) for _, v in segments)
    parts = [_open(width, height, title, "chart chart-stacked")]
    x = 0.0
    legend_x = 0.0
    for i, (label, value) in enumerate(segments):
        colour = colours[i % len(colours)]
        w = width * max(value, 0) / total if total else 0
        if w > 0:
            parts.append(f'<rect x="{_num(x)}" y="0" width="{_num(w)}" height="16" fill="{colour}"/>')
        x += w
        share = f"{100 * value / total:.0f}%" if total else "—"
        parts.append(f'<rect x="{_num(legend_x)}" y="28" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{_num(legend_x + 14)}" y="37" font-size="11" fill="{INK}">'
                     f'{escape(label)} {escape(share)}</text>')
        legend_x += width / max(len(segments), 1)
    parts.append("</svg>")
    return "".join(parts)
