"""A stored trace made readable: its values as indented text, its spans as a waterfall.

Trace content is untrusted: these return plain text and numbers, and the templates autoescape them.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_datetime

PRETTY_LIMIT = 20_000  # characters of one pretty-printed value shown on the page


def pretty(value: Any) -> str:
    """Indented JSON for a <pre>; autoescaped by the template like any other text."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return text if len(text) <= PRETTY_LIMIT else text[:PRETTY_LIMIT] + f"\n… ({len(text) - PRETTY_LIMIT:,} more characters)"


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        return None


def waterfall(trace, costs: dict[str, str]) -> list[dict[str, Any]]:
    """Spans in tree order with depth and the offset/width of their timing bar in a 0–1000 box."""
    spans = [s for s in (trace.spans or []) if isinstance(s, dict)]
    t0 = trace.started_at
    starts = [(_moment(s.get("started_at")) or t0) for s in spans]
    t0 = min([t0, *starts])
    ends = [((st - t0).total_seconds() * 1000 + float(s.get("duration_ms") or 0)) for st, s in zip(starts, spans, strict=True)]
    total = max([float(trace.duration_ms or 0), *ends, 1.0])
    ids = {str(s.get("span_id")) for s in spans}
    children: dict[str | None, list[int]] = {}
    for i, s in enumerate(spans):
        parent = s.get("parent_id")
        key = str(parent) if parent is not None and str(parent) in ids else None
        children.setdefault(key, []).append(i)
    ordered: list[tuple[int, int]] = []
    seen: set[int] = set()
    # Depth first, parents before children, with a stack: a chain of thousands of spans must not recurse.
    stack = [(i, 0) for i in reversed(children.get(None, []))]
    while stack:
        i, depth = stack.pop()
        if i in seen:
            continue
        seen.add(i)
        ordered.append((i, depth))
        stack.extend((child, min(depth + 1, 12)) for child in reversed(children.get(str(spans[i].get("span_id")), [])))
    ordered += [(i, 0) for i in range(len(spans)) if i not in seen]  # cycles: shown flat, never lost
    rows = []
    for i, depth in ordered:
        s = spans[i]
        offset = (starts[i] - t0).total_seconds() * 1000
        duration = float(s.get("duration_ms") or 0)
        usage = s.get("usage") if isinstance(s.get("usage"), dict) else {}
        error = s.get("error") if isinstance(s.get("error"), dict) else ({"message": str(s["error"])} if s.get("error") else None)
        rows.append({
            "id": str(s.get("span_id") or i), "name": str(s.get("name") or ""), "kind": str(s.get("kind") or "other"),
            "depth": range(depth), "depth_n": depth, "offset_ms": offset, "duration_ms": duration,
            "x": round(1000 * offset / total, 1), "w": round(max(1000 * duration / total, 3), 1),
            "model": s.get("model") or "", "provider": s.get("provider") or "", "usage": usage,
            "cost": costs.get(str(s.get("span_id"))), "error": error,
            "input": pretty(s.get("input")), "output": pretty(s.get("output")),
            "attributes": pretty(s.get("attributes")) if s.get("attributes") else "",
        })
    return rows
