"""Why a run failed: a fixed taxonomy, one detection rule per category, and a stable fingerprint.

The fingerprint groups runs that failed the same way: it hashes the category, the error message with
ids, numbers, uuids and hex stripped, and the failing step's name, so "order 8812 timed out after 30s"
and "order 9913 timed out after 45s" in the same tool are one pattern.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from .trace import ErrorInfo, Span, Trace

# category -> (what it means, the rule that detects it). Order of MESSAGE_RULES is priority order.
TAXONOMY: dict[str, str] = {
    "tool_timeout": "A tool call did not answer in time (TimeoutError, 'timed out', 'deadline exceeded').",
    "rate_limit": "A provider or tool refused for rate (HTTP 429, 'rate limit', 'too many requests', quota).",
    "auth_error": "Credentials were missing or refused (HTTP 401/403, 'unauthorized', 'invalid api key').",
    "context_length_exceeded": "The prompt did not fit the model's context window ('maximum context length').",
    "unknown_tool": "The model called a tool that does not exist ('is not a valid tool', 'unknown tool').",
    "invalid_tool_arguments": "A tool call's arguments were malformed or failed validation.",
    "output_parse_error": "The model's answer could not be parsed (OutputParserException, 'could not parse').",
    "max_iterations": "The agent hit its step/iteration limit before answering.",
    "infinite_loop": "The same tool was called with the same arguments three or more times.",
    "network_error": "A connection to a tool or provider failed (ConnectionError, DNS, HTTP 5xx).",
    "tool_error": "A tool call raised or returned an error not covered above, and the run failed.",
    "llm_error": "A model call failed for a reason not covered above.",
    "agent_error": "The run raised an exception outside any tool or model call.",
    "compliance_violation": "A compliance rule failed (secret or sensitive personal data leaked).",
    "empty_output": "The run ended without raising but produced no output.",
    "wrong_answer": "A reviewer labelled the run failed and no technical cause was found.",
}

_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple((category, re.compile(pattern, re.IGNORECASE)) for category, pattern in (
    ("tool_timeout", r"timeout|timed? ?out|deadline exceeded|took too long"),
    ("rate_limit", r"\b429\b|rate.?limit|too many requests|quota|throttl|overloaded"),
    ("auth_error", r"\b40[13] (?:unauthori|forbidden)|unauthori[sz]ed|forbidden|authentication|invalid.{0,10}api.?key|permission denied|incorrect api key"),
    ("context_length_exceeded", r"context.?length|context window|maximum context|too many tokens|prompt is too long|token limit"),
    ("unknown_tool", r"not a valid tool|unknown tool|no such tool|tool .{0,40} (?:not found|does not exist)|invalidtool"),
    ("invalid_tool_arguments", r"validation ?error|invalid (?:tool )?arguments?|invalidtoolcall|missing (?:\d+ )?required|"
                               r"unexpected keyword|jsondecodeerror|int_parsing|should be a valid"),
    ("output_parse_error", r"outputparser|could not parse|failed to parse|invalid format|parsing error"),
    ("max_iterations", r"max(?:imum)?.?(?:iterations?|steps?|turns?)|iteration limit|recursion limit|maxturns"),
    ("network_error", r"connection ?(?:error|refused|reset)|name resolution|(?:http|status)\D{0,3}50[0234]|service unavailable|bad gateway"),
))

_STOPPED = re.compile(r"agent stopped due to (?:iteration|max iterations)|reached max (?:steps|iterations)", re.IGNORECASE)

_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.IGNORECASE)
_HEX = re.compile(r"\b(?:0x)?[0-9a-f]{8,}\b", re.IGNORECASE)
_ID_TOKEN = re.compile(r"\b[a-z]+[_-][a-z0-9]*\d[a-z0-9_-]*\b", re.IGNORECASE)  # call_abc123, req-9f2
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_QUOTED = re.compile(r"'[^']{1,80}'|\"[^\"]{1,80}\"")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Failure:
    category: str
    message: str
    step: str
    span_id: str | None
    fingerprint: str

    def as_dict(self) -> dict[str, Any]:
        return {"category": self.category, "message": self.message[:500], "step": self.step,
                "span_id": self.span_id, "fingerprint": self.fingerprint, "description": TAXONOMY[self.category]}


def normalise_message(message: str) -> str:
    """The message with what varies between occurrences (ids, numbers, uuids, hex, quoted values) removed."""
    text = _UUID.sub("<uuid>", message.lower())
    text = _HEX.sub("<hex>", text)
    text = _ID_TOKEN.sub("<id>", text)
    text = _QUOTED.sub("<str>", text)
    text = _NUMBER.sub("<n>", text)
    return _SPACE.sub(" ", text).strip()[:300]


def fingerprint(category: str, message: str, step: str) -> str:
    key = f"{category}\x1f{normalise_message(message)}\x1f{step.lower()}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def category_of(error: ErrorInfo) -> str | None:
    """The specific category an error's type and message point to, or None when nothing specific matches."""
    text = f"{error.type}: {error.message}"
    for category, pattern in _RULES:
        if pattern.search(text):
            return category
    return None


def stopped_early(output: Any) -> bool:
    """Frameworks that give up at their step limit return a sentinel answer instead of raising."""
    if isinstance(output, dict):
        output = output.get("output", output.get("final_output"))
    return isinstance(output, str) and bool(_STOPPED.search(output))


def classify(trace: Trace, *, success: bool, loop_span: Span | None = None,
             compliance_failed: bool = False) -> Failure | None:
    """The failure category of a failed run; None for a successful one.

    The most specific cause wins: a classifiable trace-level error or a step-limit stop first, then the
    last failing span, then earlier failing spans; a generic cause (tool_error, llm_error, agent_error)
    only when nothing specific matched.
    """
    if success:
        return None
    if trace.error is not None and (category := category_of(trace.error)):
        return _failure(category, trace.error.message or trace.error.type, None)
    if stopped_early(trace.output):
        return _failure("max_iterations", "agent stopped at its iteration limit", None)
    candidates: list[tuple[ErrorInfo, Span | None]] = []
    if trace.error is not None:
        candidates.append((trace.error, None))
    candidates += [(s.error, s) for s in reversed(trace.spans) if s.error is not None]
    for error, span in candidates:
        if category := category_of(error):
            return _failure(category, error.message or error.type, span)
    if loop_span is not None:
        return _failure("infinite_loop", f"{loop_span.name} repeated with identical arguments", loop_span)
    if candidates:
        error, span = candidates[0]
        generic = "agent_error" if span is None else {"tool": "tool_error", "llm": "llm_error"}.get(span.kind, "agent_error")
        return _failure(generic, error.message or error.type, span)
    if compliance_failed:
        return _failure("compliance_violation", "sensitive data or a secret was found in the run", None)
    if trace.output in (None, "", {}, []):
        return _failure("empty_output", "no output", None)
    return _failure("wrong_answer", "labelled failed by a reviewer", None)


def _failure(category: str, message: str, span: Span | None) -> Failure:
    step = span.name if span is not None else ""
    return Failure(category, message, step, span.span_id if span is not None else None,
                   fingerprint(category, message, step))
