"""Formatting filters of the workbench pages: durations, money, shares."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import template

register = template.Library()


@register.filter
def duration(ms: Any) -> str:
    """Milliseconds as a reader wants them: 812 ms, 4.2 s, 3.1 min."""
    try:
        value = float(ms)
    except (TypeError, ValueError):
        return "—"
    if value < 1000:
        return f"{value:.0f} ms"
    if value < 60_000:
        return f"{value / 1000:.1f} s"
    return f"{value / 60_000:.1f} min"


@register.filter
def usd(value: Any, places: int = 4) -> str:
    """Dollars with enough decimals for per-run costs ($0.0190) and none lost to float."""
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return "—"
    places = int(places)
    if amount and abs(amount) < Decimal(1) / (10 ** places):
        return f"${amount:.{places + 2}f}"
    return f"${amount:,.{places}f}"


@register.filter
def share(value: Any, places: int = 0) -> str:
    """A fraction (0.68) as a percentage (68%)."""
    try:
        return f"{float(value) * 100:.{int(places)}f}%"
    except (TypeError, ValueError):
        return "—"


@register.filter
def grade_class(grade: Any) -> str:
    return f"grade-{str(grade)[:1]}" if grade else ""


@register.filter
def get(mapping: Any, key: Any) -> Any:
    try:
        return mapping.get(key) if hasattr(mapping, "get") else mapping[key]
    except (KeyError, IndexError, TypeError):
        return None


@register.filter
def humanise(value: Any) -> str:
    """snake_case names as words: tool_accuracy → Tool accuracy."""
    text = str(value or "").replace("_", " ").strip()
    return text[:1].upper() + text[1:]
