"""Shields-style SVG badges ("reliability | 94% A"): a pure function measures the text and lays it out.

No Django here: `badge_svg(label, message, colour)` returns the SVG markup (text escaped, no inline style,
valid XML), `colour_for_grade` picks the colour from the grade's letter.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

# Advance widths (px) of Verdana at 11px — the font shields.io badges are measured in. Characters not
# listed count as WIDE: a badge a little too wide reads better than clipped text.
_WIDTHS: dict[str, float] = {
    **dict.fromkeys("ijl|!.,:;'", 3.1),
    **dict.fromkeys("frt()[]-", 4.6),
    " ": 3.9, "%": 11.8, "+": 9.0, "/": 4.9, "—": 11.0, "–": 7.0,
    **dict.fromkeys("abcdeghknopqsuvxyz", 6.6),
    "m": 10.7, "w": 8.9,
    **dict.fromkeys("0123456789", 7.0),
    **dict.fromkeys("ABCDEFGHKLNOPRSTUVXYZ", 7.6),
    "I": 4.6, "J": 5.0, "M": 9.3, "Q": 8.6, "W": 10.9,
}
WIDE = 8.0
PAD = 6
HEIGHT = 20

GRADE_COLOURS = {"A": "#2e9e44", "B": "#7cb518", "C": "#dfb317", "D": "#fe7d37", "F": "#e05d44"}
GREY = "#9f9f9f"


def text_width(text: str) -> float:
    return sum(_WIDTHS.get(ch, WIDE) for ch in text)


def colour_for_grade(grade: str | None) -> str:
    return GRADE_COLOURS.get((grade or "")[:1], GREY)


@dataclass(frozen=True)
class BadgeGeometry:
    width: int
    label_width: int
    message_width: int
    label_x: float
    message_x: float


def geometry(label: str, message: str) -> BadgeGeometry:
    label_width = round(text_width(label)) + 2 * PAD
    message_width = round(text_width(message)) + 2 * PAD
    return BadgeGeometry(label_width + message_width, label_width, message_width,
                         label_width / 2, label_width + message_width / 2)


def badge_svg(label: str, message: str, colour: str = GREY) -> str:
    g = geometry(label, message)
    title = f"{label}: {message}"
    lx, mx = f"{g.label_x:.1f}", f"{g.message_x:.1f}"

    def text(x: str, value: str) -> str:
        return (f'<text x="{x}" y="15" fill="#010101" fill-opacity=".3">{escape(value)}</text>'
                f'<text x="{x}" y="14">{escape(value)}</text>')

    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{g.width}" height="{HEIGHT}" role="img" '
        f'aria-label={quoteattr(title)}><title>{escape(title)}</title>'
        f'<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/>'
        f'<stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{g.width}" height="{HEIGHT}" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r)"><rect width="{g.label_width}" height="{HEIGHT}" fill="#555"/>'
        f'<rect x="{g.label_width}" width="{g.message_width}" height="{HEIGHT}" fill={quoteattr(colour)}/>'
        f'<rect width="{g.width}" height="{HEIGHT}" fill="url(#s)"/></g>'
        f'<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" '
        f'font-size="11">{text(lx, label)}{text(mx, message)}</g></svg>'
    )


def reliability_badge(figure: str, grade: str | None) -> str:
    message = f"{figure} {grade}" if grade else figure
    return badge_svg("reliability", message, colour_for_grade(grade))
