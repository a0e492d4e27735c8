"""Turn any accepted payload shape into the canonical `Trace`, or say which field is wrong and why."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import msgspec

from . import frameworks
from .trace import Trace


class InvalidTrace(ValueError):
    """A payload that cannot become a trace: `field` is a JSON path such as `$.spans[0].kind`."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


LEGACY_KEYS = frozenset({"execution_time", "tool_calls", "llm_calls", "execution_timeline", "cost_data", "timestamp"})


def to_trace(item: Any) -> Trace:
    if not isinstance(item, dict):
        raise InvalidTrace("$", f"a trace must be a JSON object, got {type(item).__name__}")
    payload = from_legacy(item) if LEGACY_KEYS.intersection(item) else item
    try:
        trace = msgspec.convert(payload, Trace, strict=False)
    except msgspec.ValidationError as exc:
        raise InvalidTrace(*_split_msgspec_error(str(exc))) from None
    if "output" not in payload:
        # no output sent at all is "output not recorded", which says nothing about the run; an explicit
        # null or "" is what the agent returned
        trace.metadata.setdefault("output_recorded", False)
    return _with_framework(_with_utc_times(trace))


def _with_framework(trace: Trace) -> Trace:
    """Name the framework when it is absent and extract spans from a raw framework output when there are none."""
    if trace.spans and trace.framework:
        return trace
    for candidate in frameworks.candidates(trace.output, trace.input, trace.metadata):
        if candidate is None:
            continue
        detection = frameworks.detect(candidate)
        if detection.confidence < 0.5:
            continue
        trace.metadata["framework_detection"] = detection.as_dict()
        if not trace.framework:
            trace.framework = detection.framework
        if not trace.spans:
            trace.spans = (frameworks.extract_spans(trace.framework, candidate)
                           or frameworks.extract_spans(detection.framework, candidate))
            if trace.error is None:
                trace.error = frameworks.run_error(detection.framework, candidate)
        return trace
    found = frameworks.from_traceback(trace.error.traceback) if trace.error is not None else None
    if found is not None and not trace.framework:
        trace.metadata["framework_detection"] = found.as_dict()
        trace.framework = found.framework
    return trace


def _split_msgspec_error(message: str) -> tuple[str, str]:
    reason, sep, path = message.rpartition(" - at `")
    if not sep:
        return "$", message
    return path.rstrip("`"), reason


def _with_utc_times(trace: Trace) -> Trace:
    if trace.started_at is not None and trace.started_at.tzinfo is None:
        trace.started_at = trace.started_at.replace(tzinfo=UTC)
    for span in trace.spans:
        if span.started_at is not None and span.started_at.tzinfo is None:
            span.started_at = span.started_at.replace(tzinfo=UTC)
    return trace


def from_legacy(item: dict[str, Any]) -> dict[str, Any]:
    """Map the roadmap's shape (execution_time in seconds, tool_calls, llm_calls, cost_data...) onto v1."""
    canonical = {k: v for k, v in item.items() if k not in LEGACY_KEYS}
    if "execution_time" in item and "duration_ms" not in item:
        canonical["duration_ms"] = _seconds_to_ms(item["execution_time"], "$.execution_time")
    if "timestamp" in item and "started_at" not in item:
        canonical["started_at"] = item["timestamp"]
    if "error" in item and isinstance(item["error"], str):
        canonical["error"] = {"type": "Error", "message": item["error"]}
    if "spans" not in item:
        canonical["spans"] = _legacy_spans(item)
    if isinstance(item.get("cost_data"), dict):
        canonical.setdefault("metadata", {})
        if isinstance(canonical["metadata"], dict):
            canonical["metadata"] = {**canonical["metadata"], "cost_data": item["cost_data"]}
    return canonical


def _seconds_to_ms(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidTrace(field, "must be a number of seconds")
    return float(value) * 1000


def _legacy_spans(item: dict[str, Any]) -> list[dict[str, Any]]:
    spans: list[dict[str, Any]] = []
    for field, kind in (("llm_calls", "llm"), ("tool_calls", "tool")):
        calls = item.get(field) or []
        if not isinstance(calls, list):
            raise InvalidTrace(f"$.{field}", "must be a list")
        for n, call in enumerate(calls):
            spans.append(_legacy_span(call, kind, f"{kind}-{n}", f"$.{field}[{n}]"))
    cost = item.get("cost_data")
    if isinstance(cost, dict) and spans and not any(s["kind"] == "llm" for s in spans):
        model = cost.get("model")
        if isinstance(model, str):
            spans.append({"span_id": "llm-cost", "kind": "llm", "name": model, "model": model,
                          "usage": {"input_tokens": cost.get("input_tokens", 0),
                                    "output_tokens": cost.get("output_tokens", 0)},
                          "cost_usd": cost.get("total_cost", cost.get("cost"))})
    return spans


def _legacy_span(call: Any, kind: str, span_id: str, field: str) -> dict[str, Any]:
    if isinstance(call, str):
        return {"span_id": span_id, "kind": kind, "name": call}
    if not isinstance(call, dict):
        raise InvalidTrace(field, "must be a name or an object")
    span = {"span_id": str(call.get("id") or span_id), "kind": kind,
            "name": str(call.get("name") or call.get("tool") or call.get("model") or kind)}
    for source, target in (("arguments", "input"), ("args", "input"), ("input", "input"),
                           ("result", "output"), ("output", "output"), ("response", "output"),
                           ("model", "model"), ("provider", "provider"), ("cost", "cost_usd")):
        if source in call and target not in span:
            span[target] = call[source]
    if "duration" in call:
        span["duration_ms"] = _seconds_to_ms(call["duration"], f"{field}.duration")
    if "duration_ms" in call:
        span["duration_ms"] = call["duration_ms"]
    if call.get("error"):
        error = call["error"]
        span["error"] = error if isinstance(error, dict) else {"type": "Error", "message": str(error)}
    usage = call.get("usage") or {k: call[k] for k in ("input_tokens", "output_tokens") if k in call}
    if usage:
        span["usage"] = usage
    return span

