"""A stored trace made readable: its values as indented text (and message lists as a chat), its spans as a
collapsible tree with their timing bars, and the detail of the span picked.

Trace content is untrusted: these return plain text and numbers, and the templates autoescape them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_datetime

PRETTY_LIMIT = 20_000  # characters of one pretty-printed value shown on the page
CHAT_LIMIT = 200  # messages shown as a chat; a longer list stays JSON
ROLES = ("system", "developer", "user", "assistant", "tool", "function", "model")
TEXT_PARTS = ("text", "input_text", "output_text")
MESSAGE_EXTRAS = ("name", "tool_calls", "function_call", "tool_call_id")
MAX_DEPTH = 12  # deeper spans are drawn at this depth, as siblings


def _cut(text: str) -> str:
    return text if len(text) <= PRETTY_LIMIT else text[:PRETTY_LIMIT] + f"\n… ({len(text) - PRETTY_LIMIT:,} more characters)"


def pretty(value: Any) -> str:
    """Indented JSON for a <pre>; autoescaped by the template like any other text."""
    if value is None:
        return ""
    return _cut(value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False, default=str))


@dataclass(frozen=True)
class Shown:
    """A value as a page shows it: its JSON text, and its messages when it is a message list."""

    text: str
    messages: list[dict[str, str]] = field(default_factory=list)

    def __str__(self) -> str:
        return self.text

    def __bool__(self) -> bool:
        return bool(self.text)


def shown(value: Any) -> Shown:
    return Shown(pretty(value), chat(value))


def chat(value: Any) -> list[dict[str, str]]:
    """The messages of a message list — OpenAI or Anthropic messages, a `{"messages": [...]}` input, one
    message, OpenTelemetry GenAI `parts` — as {role, kind, text, extra}; [] when the value is not one."""
    if isinstance(value, dict):
        if isinstance(value.get("messages"), list):
            value = value["messages"]
        elif isinstance(value.get("choices"), list):
            value = [c.get("message") if isinstance(c, dict) else None for c in value["choices"]]
        else:
            value = [value]
    if not isinstance(value, list) or not 0 < len(value) <= CHAT_LIMIT:
        return []
    messages = []
    for message in value:
        role = message.get("role") if isinstance(message, dict) else None
        if not isinstance(role, str) or not role.strip():
            return []
        text, other = _content(message.get("content", message.get("parts")))
        extras = {k: message[k] for k in MESSAGE_EXTRAS if message.get(k)}
        if other:
            extras["content"] = other
        role = role.strip().lower()[:40]
        messages.append({"role": role, "kind": role if role in ROLES else "other", "text": _cut(text),
                         "extra": pretty(extras) if extras else ""})
    return messages


def _content(content: Any) -> tuple[str, list[Any]]:
    """A message's text, and the parts of it that are not text (tool calls, images, …)."""
    if content is None:
        return "", []
    if isinstance(content, str):
        return content, []
    parts = content if isinstance(content, list) else [content]
    texts, other = [], []
    for part in parts:
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, dict) and part.get("type") in TEXT_PARTS and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("content"), str):
            texts.append(part["content"])  # OpenTelemetry GenAI parts
        else:
            other.append(part)
    return "\n\n".join(texts), other


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        return None


def waterfall(trace, costs: dict[str, str]) -> list[dict[str, Any]]:
    """Spans in tree order with their depth, the offset/width of their timing bar in a 0–1000 box, and what a
    nested list needs to be written from this flat order: whether a span has children, and how many levels
    close after it."""
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
        stack.extend((child, min(depth + 1, MAX_DEPTH))
                     for child in reversed(children.get(str(spans[i].get("span_id")), [])))
    ordered += [(i, 0) for i in range(len(spans)) if i not in seen]  # cycles: shown flat, never lost
    rows = []
    for n, (i, depth) in enumerate(ordered):
        s = spans[i]
        following = ordered[n + 1][1] if n + 1 < len(ordered) else 0
        parent = following > depth
        offset = (starts[i] - t0).total_seconds() * 1000
        duration = float(s.get("duration_ms") or 0)
        usage = s.get("usage") if isinstance(s.get("usage"), dict) else {}
        error = s.get("error") if isinstance(s.get("error"), dict) else ({"message": str(s["error"])} if s.get("error") else None)
        rows.append({
            "id": str(s.get("span_id") or i), "name": str(s.get("name") or ""), "kind": str(s.get("kind") or "other"),
            "n": n + 1, "depth": range(depth), "depth_n": depth, "has_children": parent,
            "closes": range(0 if parent else depth - following), "offset_ms": offset, "duration_ms": duration,
            "x": round(1000 * offset / total, 1), "w": round(max(1000 * duration / total, 3), 1),
            "model": s.get("model") or "", "provider": s.get("provider") or "", "usage": usage,
            "cost": costs.get(str(s.get("span_id"))), "error": error, "index": i,
        })
    return rows


def span_detail(trace, rows: list[dict[str, Any]], picked: Any) -> dict[str, Any] | None:
    """The row of span number `picked` (1-based, in tree order) with its input, output and attributes made
    readable — only for the span picked, so a run of thousands of spans stays a light page."""
    try:
        row = rows[int(picked) - 1] if 0 < int(picked) <= len(rows) else None
    except (TypeError, ValueError):
        return None
    if row is None:
        return None
    span = [s for s in (trace.spans or []) if isinstance(s, dict)][row["index"]]
    return {**row, "input": shown(span.get("input")), "output": shown(span.get("output")),
            "attributes": pretty(span.get("attributes")) if span.get("attributes") else ""}
