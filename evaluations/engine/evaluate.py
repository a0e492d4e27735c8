"""One run's evaluation: the facts of the run and the verdict drawn from them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from . import compliance, cost, failures, reliability, remediation, scenarios
from .trace import Trace

ENGINE_VERSION = "0.3.0"


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
    llm_ms: float = 0.0
    tool_ms: float = 0.0
    compliance_findings: int = 0
    compliance_passed: bool = True
    unpriced: bool = False
    input_fingerprint: str = ""


def evaluate(trace: Trace, *, domain_packs: Iterable[str] | None = None, human_label: bool | None = None,
             known_tools: Iterable[str] | None = None) -> RunEvaluation:
    """Evaluate one canonical trace. `domain_packs` adds compliance packs to the trace's own domain;
    `human_label` overrides the success verdict; `known_tools` makes calls to other tool names wrong."""
    spans = trace.spans
    llm = [s for s in spans if s.kind == "llm"]
    tool_spans = [s for s in spans if s.kind == "tool" and not s.attributes.get("pseudo_tool")]
    framework = trace.framework or "generic"

    findings = compliance.scan(trace, compliance.packs_for(trace.domain, list(domain_packs or ())))
    compliance_passed = not any(f.violation for f in findings)
    accuracy = reliability.tool_accuracy(spans, known_tools)
    loops = reliability.detect_loops(spans)
    success = reliability.run_success(trace, compliance_passed=compliance_passed, human_label=human_label)
    answers, answer_signal = reliability.answers_input(trace)
    issues = _issues(trace, accuracy, loops)
    errors = sum(i["type"] not in ("Loop", "InvalidToolCall") for i in issues)  # those have factors of their own
    score, factors = reliability.quality_score(
        success=success, accuracy=accuracy, loops=loops, compliance_passed=compliance_passed,
        compliance_findings=len(findings), errors=errors, spans=len(spans), answers=answers)
    if not answers and not reliability.empty(trace.output):  # an empty output is its own failure
        issues.append({"span_id": None, "name": "", "kind": "output", "type": "NonAnswer",
                       "message": f"the output does not answer the input ({answer_signal})", "category": "non_answer"})

    spend = cost.trace_cost(trace)
    savings = cost.find_savings(trace, spend)
    failure = failures.classify(trace, success=success, compliance_failed=not compliance_passed,
                                loop_span=_first_span(trace, loops))
    times = reliability.time_split(trace)

    details: dict[str, Any] = {
        "score": {"total": score, "factors": factors},
        "tool_accuracy": accuracy.as_dict(),
        "tools": reliability.tool_summary(spans, known_tools),
        "loops": [loop.as_dict() for loop in loops],
        "issues": issues,
        "answer": {"answers": answers, "signal": answer_signal,
                   "output_recorded": reliability.output_recorded(trace)},
        "time": times,
        "cost": {"spans": [c.as_dict() for c in spend.spans], "unpriced_models": spend.unpriced_models,
                 "savings": [s.as_dict() for s in savings], "headline": cost.headline(spend, savings)},
        "compliance": compliance.summary(findings),
        "failure": failure.as_dict() if failure else None,
        "framework_detection": trace.metadata.get("framework_detection")
        or {"framework": framework, "confidence": 1.0 if trace.framework else 0.0,
            "evidence": ["declared by the client"] if trace.framework else []},
    }
    if failure is not None:
        source = trace.metadata.get("source")
        details["fixes"] = remediation.for_failure(failure, framework=framework,
                                                   source=source if isinstance(source, dict) else None)
        details["scenarios"] = [s.as_dict() for s in scenarios.generate(
            category=failure.category, message=failure.message, step=failure.step,
            fingerprint=failure.fingerprint, example_inputs=[] if trace.input is None else [trace.input], limit=5)]

    return RunEvaluation(
        success=success,
        score=score,
        grade=reliability.grade(score),
        duration_ms=times["total_ms"],
        input_tokens=sum(s.usage.input_tokens for s in llm if s.usage),
        output_tokens=sum(s.usage.output_tokens for s in llm if s.usage),
        llm_calls=len(llm),
        tool_calls=len(tool_spans),
        tool_errors=accuracy.failed,
        error_type=trace.error.type if trace.error else "",
        cost_usd=spend.total_usd,
        framework=framework,
        failure_category=failure.category if failure else "",
        failure_fingerprint=failure.fingerprint if failure else "",
        details=details,
        llm_ms=times["llm_ms"],
        tool_ms=times["tool_ms"],
        compliance_findings=len(findings),
        compliance_passed=compliance_passed,
        unpriced=spend.unpriced,
        input_fingerprint=reliability.input_fingerprint(trace),
    )


def _first_span(trace: Trace, loops: list[reliability.Loop]) -> Any:
    if not loops:
        return None
    first = loops[0].span_ids[0]
    return next(s for s in trace.spans if s.span_id == first)


def _issues(trace: Trace, accuracy: reliability.ToolAccuracy, loops: list[reliability.Loop]) -> list[dict[str, Any]]:
    """Every problem seen in the run, failed or recovered, once each, with its category. The run's own error
    is not listed again when it is a span's error propagated up; a non-answer is listed too."""
    issues: list[dict[str, Any]] = []
    seen: set[tuple[Any, ...]] = set()

    def add(span_id: str | None, name: str, kind: str, type_: str, message: str, category: str) -> None:
        key = (span_id, type_, message[:300])
        if key not in seen:
            seen.add(key)
            issues.append({"span_id": span_id, "name": name, "kind": kind, "type": type_, "message": message[:300],
                           "category": category})

    for span in trace.spans:
        if span.error is not None:
            add(span.span_id, span.name, span.kind, span.error.type, span.error.message,
                failures.category_of(span.error, span.kind))
    if trace.error is not None and failures.origin(trace) is None:
        add(None, "", "agent", trace.error.type, trace.error.message, failures.category_of(trace.error))
    flagged = {i["span_id"] for i in issues}
    names = {s.span_id: s.name for s in trace.spans}
    for span_id in accuracy.failed_span_ids:
        if span_id not in flagged:
            add(span_id, names.get(span_id, ""), "tool", "InvalidToolCall", "malformed arguments or unknown tool",
                "invalid_tool_arguments")
    for loop in loops:
        add(loop.span_ids[-1], loop.tool, "tool", "Loop", f"{loop.tool} called {loop.count} times with identical "
            "arguments", "infinite_loop")
    return issues
