"""One run's evaluation: the facts of the run and the verdict drawn from them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from . import compliance, cost, failures, reliability, remediation, scenarios
from .plan import PatternStats
from .trace import Trace

ENGINE_VERSION = "0.2.0"


@dataclass(slots=True)
class RunEvaluation:
    success: bool
    score: float
    grade: str
    duration_ms: float | None
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
    errors = sum(1 for s in spans if s.error is not None) + (trace.error is not None)
    score, factors = reliability.quality_score(
        success=success, accuracy=accuracy, loops=loops, compliance_passed=compliance_passed,
        compliance_findings=len(findings), errors=errors, spans=len(spans))

    spend = cost.trace_cost(trace)
    savings = cost.find_savings(trace, spend)
    failure = failures.classify(trace, success=success, compliance_failed=not compliance_passed,
                                loop_span=_first_span(trace, loops))
    times = reliability.time_split(trace)

    details: dict[str, Any] = {
        "score": {"total": score, "factors": factors},
        "tool_accuracy": accuracy.as_dict(),
        "loops": [loop.as_dict() for loop in loops],
        "issues": _issues(trace, accuracy, loops),
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
        pattern = PatternStats(failure.fingerprint, failure.category, 1, 1)
        source = trace.metadata.get("source")
        details["fixes"] = remediation.suggest([pattern], framework=framework, failing_runs=1,
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
    """Every error seen in the run, failed or recovered, with its category."""
    issues = []
    for span in trace.spans:
        if span.error is not None:
            issues.append({"span_id": span.span_id, "name": span.name, "kind": span.kind, "type": span.error.type,
                           "message": span.error.message[:300],
                           "category": failures.category_of(span.error) or f"{span.kind}_error"})
    if trace.error is not None:
        issues.append({"span_id": None, "name": "", "kind": "trace", "type": trace.error.type,
                       "message": trace.error.message[:300],
                       "category": failures.category_of(trace.error) or "agent_error"})
    for span_id in accuracy.failed_span_ids:
        if not any(i["span_id"] == span_id for i in issues):
            issues.append({"span_id": span_id, "name": "", "kind": "tool", "type": "InvalidToolCall",
                           "message": "malformed arguments or unknown tool", "category": "invalid_tool_arguments"})
    issues += [{"span_id": loop.span_ids[-1], "name": loop.tool, "kind": "tool", "type": "Loop",
                "message": f"{loop.tool} called {loop.count} times with identical arguments", "category": "infinite_loop"}
               for loop in loops]
    return issues
