"""Turn whatever an agent passed or returned into bounded, JSON-able data.

`snapshot` runs in the agent's call: a structural copy of the containers (lists, tuples, dicts, sets) with the
size caps, so what is recorded is the value as it was at that moment, not as the agent or its caller later
changed it. Everything else (serialising, redacting) runs in the exporter thread.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import traceback
import uuid
from decimal import Decimal
from typing import Any, Callable, Optional

MAX_STRING = 10_000
MAX_ITEMS = 200
MAX_DEPTH = 8
MAX_TRACEBACK = 20_000

Redactor = Callable[[Any], Any]


_IMMUTABLE = frozenset({str, int, float, bool, type(None), bytes, Decimal, uuid.UUID, datetime.datetime,
                        datetime.date, datetime.time, complex, range})


def snapshot(value: Any, depth: int = 0) -> Any:
    """The value as it is now: containers copied (capped at MAX_ITEMS, MAX_DEPTH), immutable values shared.

    Other objects (pydantic models, dataclasses, client responses) are shared, not copied: copying them costs
    more than the run itself, and they are serialised as they are when the exporter reads them.
    """
    kind = type(value)
    if kind in _IMMUTABLE:
        return value
    if depth >= MAX_DEPTH:
        return f"<{kind.__name__}: max depth>" if kind in (list, tuple, dict, set, frozenset) else value
    if kind is dict:
        if len(value) <= MAX_ITEMS:
            return {k: snapshot(v, depth + 1) for k, v in value.items()}
        copy = {k: snapshot(v, depth + 1) for k, v in list(value.items())[:MAX_ITEMS]}
        copy["…"] = f"{len(value) - MAX_ITEMS} more keys"
        return copy
    if kind is list or kind is tuple or kind is set or kind is frozenset:
        items = value if kind is list or kind is tuple else list(value)
        copied = [snapshot(v, depth + 1) for v in items[:MAX_ITEMS]]
        if len(items) > MAX_ITEMS:
            copied.append(f"…{len(items) - MAX_ITEMS} more items")
        return copied
    return value


def truncate(text: str, limit: int = MAX_STRING) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"…[truncated {len(text) - limit} chars]"


def to_jsonable(value: Any, depth: int = 0) -> Any:
    """A JSON-able copy of ``value``: long strings cut, big containers capped, unknown objects as repr."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return truncate(value)
    if depth >= MAX_DEPTH:
        return f"<{type(value).__name__}: max depth>"
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for i, (k, v) in enumerate(value.items()):
            if i >= MAX_ITEMS:
                out["…"] = f"{len(value) - MAX_ITEMS} more keys"
                break
            out[k if isinstance(k, str) else str(k)] = to_jsonable(v, depth + 1)
        return out
    if isinstance(value, (list, tuple, set, frozenset)):
        items = list(value) if not isinstance(value, (list, tuple)) else value
        out_list = [to_jsonable(v, depth + 1) for v in items[:MAX_ITEMS]]
        if len(items) > MAX_ITEMS:
            out_list.append(f"…{len(items) - MAX_ITEMS} more items")
        return out_list
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{type(value).__name__} len={len(value)}>"
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value, depth + 1)
    if isinstance(value, BaseException):
        return {"type": type(value).__name__, "message": truncate(str(value))}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable({f.name: getattr(value, f.name, None) for f in dataclasses.fields(value)}, depth + 1)
    # pydantic v2 / v1 models (LangChain messages, OpenAI and Anthropic responses)
    for method in ("model_dump", "dict", "to_dict"):
        dump = getattr(value, method, None)
        if callable(dump) and not isinstance(value, type):
            try:
                return to_jsonable(dump(), depth + 1)
            except Exception:  # noqa: S112 - an odd object falls back to its repr
                continue
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    return truncate(text, 1000)


def safe_payload(value: Any, redact: Optional[Redactor]) -> Any:
    data = to_jsonable(value)
    if redact is None:
        return data
    try:
        return redact(data)
    except Exception:
        # A failing hook must not leak what it was meant to hide.
        return "[redaction failed]"


def error_info(exc: BaseException, tb: Any, redact: Optional[Redactor]) -> dict[str, str]:
    message = safe_payload(str(exc), redact)
    text = safe_payload("".join(traceback.format_exception(type(exc), exc, tb))[-MAX_TRACEBACK:], redact)
    return {
        "type": type(exc).__name__,
        "message": message if isinstance(message, str) else str(message),
        "traceback": text if isinstance(text, str) else str(text),
    }


def iso(ts: float) -> str:
    return datetime.datetime.fromtimestamp(ts, tz=datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
