"""The canonical trace (v1): what every door is translated into before anything is stored or evaluated.

msgspec Structs double as the validator: converting a decoded JSON object into `Trace` checks every
field's type and names the failing one (``Expected `int`, got `str` - at `$.spans[0].duration_ms` ``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec

SpanKind = Literal["llm", "tool", "retrieval", "agent", "chain", "other"]
SPAN_KINDS: tuple[str, ...] = ("llm", "tool", "retrieval", "agent", "chain", "other")

# Bounds on what one trace may carry; past them the item is refused with the field named.
Text = Annotated[str, msgspec.Meta(max_length=512)]
LongText = Annotated[str, msgspec.Meta(max_length=200_000)]
Millis = Annotated[float, msgspec.Meta(ge=0, le=31 * 24 * 3600 * 1000)]
Tokens = Annotated[int, msgspec.Meta(ge=0, le=10**10)]


class Usage(msgspec.Struct, forbid_unknown_fields=False, omit_defaults=True):
    input_tokens: Tokens = 0
    output_tokens: Tokens = 0
    cached_tokens: Tokens = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


class ErrorInfo(msgspec.Struct, omit_defaults=True):
    type: Text = ""
    message: LongText = ""
    traceback: LongText = ""


class Span(msgspec.Struct, omit_defaults=True):
    span_id: Text
    parent_id: Text | None = None
    kind: SpanKind = "other"
    name: Text = ""
    started_at: datetime | None = None
    duration_ms: Millis | None = None
    input: Any = None
    output: Any = None
    error: ErrorInfo | None = None
    model: Text | None = None
    provider: Text | None = None
    usage: Usage | None = None
    cost_usd: Decimal | None = None
    attributes: dict[str, Any] = msgspec.field(default_factory=dict)


class Trace(msgspec.Struct, omit_defaults=True):
    agent_id: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    trace_id: Text | None = None
    domain: Text | None = None
    framework: Text | None = None
    started_at: datetime | None = None
    duration_ms: Millis | None = None
    input: Any = None
    output: Any = None
    success: bool | None = None
    error: ErrorInfo | None = None
    spans: Annotated[list[Span], msgspec.Meta(max_length=10_000)] = msgspec.field(default_factory=list)
    session_id: Text | None = None
    user_id: Text | None = None
    tags: Annotated[list[Text], msgspec.Meta(max_length=100)] = msgspec.field(default_factory=list)
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)


def to_builtins(value: Any) -> Any:
    """A trace or any part of it as plain JSON-able data (Decimals as strings, datetimes as ISO 8601)."""
    return msgspec.to_builtins(value)
