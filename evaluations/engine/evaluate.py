"""One run's evaluation: the facts of the run and the verdict drawn from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .trace import Trace

ENGINE_VERSION = "0.1.0"


@dataclass(slots=True)
class RunEvaluation:
    success: bool
    score: float
    grade: str
    duration_ms: float
    input_tokens: int
    output_tokens: int
    llm_calls: int
    tool_calls: int
    tool_errors: int
    error_type: str
    cost_usd: Decimal | None
    framework: str
    failure_category: str = ""
    failure_fingerprint: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    engine_version: str = ENGINE_VERSION


def evaluate(trace: Trace) -> RunEvaluation:
    llm = [s for s in trace.spans if s.kind == "llm"]
    tools = [s for s in trace.spans if s.kind == "tool"]
    tool_errors = sum(1 for s in tools if s.error is not None)
    costs = [s.cost_usd for s in trace.spans if s.cost_usd is not None]
    success = _succeeded(trace, tools)
    score = 100.0 if success else 0.0
    return RunEvaluation(
        success=success,
        score=score,
        grade="A+" if success else "F",
        duration_ms=trace.duration_ms if trace.duration_ms is not None else _span_extent_ms(trace),
        input_tokens=sum(s.usage.input_tokens for s in llm if s.usage),
        output_tokens=sum(s.usage.output_tokens for s in llm if s.usage),
        llm_calls=len(llm),
        tool_calls=len(tools),
        tool_errors=tool_errors,
        error_type=trace.error.type if trace.error else "",
        cost_usd=sum(costs, Decimal(0)) if costs else None,
        framework=trace.framework or "generic",
    )


def _succeeded(trace: Trace, tools: list) -> bool:
    if trace.success is not None:
        return trace.success
    if trace.error is not None:
        return False
    if trace.output in (None, "", {}, []):
        return False
    return not (tools and tools[-1].error is not None)


def _span_extent_ms(trace: Trace) -> float:
    return max((s.duration_ms or 0.0 for s in trace.spans), default=0.0)
