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

# Bounds on what one trace may carry; past them the item is refused with the field named. A field stored in
# a column of its own is bounded by that column's length (tests/platform/test_ingest_api.py compares them).
Text = Annotated[str, msgspec.Meta(max_length=512)]
Domain = Annotated[str, msgspec.Meta(max_length=32)]
Framework = Annotated[str, msgspec.Meta(max_length=64)]
AgentName = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
LongText = Annotated[str, msgspec.Meta(max_length=200_000)]
Millis = Annotated[float, msgspec.Meta(ge=0, le=31 * 24 * 3600 * 1000)]
Tokens = Annotated[int, msgspec.Meta(ge=0, le=10**10)]
# A run's cost is stored as Decimal(14, 8): below a million dollars. One call is allowed at most a thousand, and
# every call of a run together less than the column holds.
MAX_SPAN_COST_USD = Decimal(1000)
MAX_TRACE_COST_USD = Decimal(999_999)


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

    def __post_init__(self) -> None:
        cost = self.cost_usd
        if cost is not None and not (cost.is_finite() and 0 <= cost <= MAX_SPAN_COST_USD):
            raise ValueError(f"cost_usd must be a number of US dollars from 0 to {MAX_SPAN_COST_USD}, "
                             f"got {str(cost)[:40]}")


class Trace(msgspec.Struct, omit_defaults=True):
    agent_id: AgentName
    trace_id: Text | None = None
    domain: Domain | None = None
    framework: Framework | None = None
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

    def __post_init__(self) -> None:
        total = sum((s.cost_usd for s in self.spans if s.cost_usd is not None), Decimal(0))
        if total > MAX_TRACE_COST_USD:
            raise ValueError(f"the spans' cost_usd add up to {total}, more than {MAX_TRACE_COST_USD} US dollars")


def to_builtins(value: Any) -> Any:
    """A trace or any part of it as plain JSON-able data (Decimals as strings, datetimes as ISO 8601)."""
    return msgspec.to_builtins(value)
