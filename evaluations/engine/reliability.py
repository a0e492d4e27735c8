"""Reliability of one run and of an agent over a window.

Per run: success (DESIGN.md "Reliability, defined"), tool-call accuracy, loops and a 0-100 quality
score with each factor's contribution. Per agent: functions of plain counts and sums, so a rollup over
any number of runs is computed from stored aggregates (see `WindowCounts`) without loading the runs.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import msgspec

from .failures import stopped_early
from .jsonvalues import map_strings, strings
from .trace import Span, Trace

LOOP_THRESHOLD = 3
PASS_K = (1, 2, 3, 4, 5)
Z95 = 1.959963984540054

GRADES: tuple[tuple[float, str], ...] = (
    (97, "A+"), (93, "A"), (90, "A-"), (87, "B+"), (83, "B"), (80, "B-"),
    (77, "C+"), (73, "C"), (70, "C-"), (67, "D+"), (63, "D"), (60, "D-"), (0, "F"),
)

_UNKNOWN_TOOL = re.compile(r"not a valid tool|unknown tool|no such tool|invalidtool|tool .{0,40} not found", re.IGNORECASE)
_BAD_ARGS = re.compile(r"validation ?error|invalid (?:tool )?arguments?|invalidtoolcall|missing (?:\d+ )?required|"
                       r"unexpected keyword|jsondecodeerror|should be a valid", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


# --- one run ---------------------------------------------------------------------------------------------

def empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | dict) and not (value.strip() if isinstance(value, str) else value))


def output_recorded(trace: Trace) -> bool:
    """False when the door recorded no output at all (an OTLP root without output attributes, a payload
    without an `output` key): that is no evidence about the run, unlike an agent that answered nothing."""
    return trace.metadata.get("output_recorded") is not False


def run_success(trace: Trace, *, compliance_passed: bool = True, human_label: bool | None = None) -> bool:
    """A human label decides; else no error, a non-empty output (when one was recorded), a last tool call that
    did not fail and no failed compliance rule. A client that reports `success: false` is believed; `true` is
    still checked."""
    if human_label is not None:
        return human_label
    if trace.success is False or trace.error is not None or stopped_early(trace.output):
        return False
    if empty(trace.output) and output_recorded(trace):
        return False
    tools = _tool_spans(trace.spans)
    return not (tools and _failed_call(tools[-1])) and compliance_passed


def _failed_call(span: Span) -> bool:
    return span.error is not None or any(_wrong_call(span, None))


def _wrong_call(span: Span, known: set[str] | None) -> tuple[bool, bool]:
    """(unknown tool, invalid arguments) for one tool span."""
    message = f"{span.error.type}: {span.error.message}" if span.error else ""
    is_unknown = bool((known is not None and span.name not in known) or _UNKNOWN_TOOL.search(message))
    is_invalid = bool(span.attributes.get("arguments_invalid") or _BAD_ARGS.search(message)) and not is_unknown
    return is_unknown, is_invalid


@dataclass(frozen=True, slots=True)
class ToolAccuracy:
    calls: int
    failed: int
    unknown_tool: int
    invalid_arguments: int
    failed_span_ids: tuple[str, ...]

    @property
    def accuracy(self) -> float:
        return 1.0 if not self.calls else (self.calls - self.failed) / self.calls

    def as_dict(self) -> dict[str, Any]:
        return {"calls": self.calls, "failed": self.failed, "unknown_tool": self.unknown_tool,
                "invalid_arguments": self.invalid_arguments, "accuracy": round(self.accuracy, 4),
                "failed_span_ids": list(self.failed_span_ids)}


def _tool_spans(spans: list[Span]) -> list[Span]:
    return [s for s in spans if s.kind == "tool" and not s.attributes.get("pseudo_tool")]


def tool_accuracy(spans: list[Span], known_tools: Iterable[str] | None = None) -> ToolAccuracy:
    """A call is wrong when it failed, named a tool that does not exist or had malformed arguments."""
    known = set(known_tools) if known_tools is not None else None
    calls = failed = unknown = invalid = 0
    failed_ids: list[str] = []
    for span in _tool_spans(spans):
        calls += 1
        is_unknown, is_invalid = _wrong_call(span, known)
        unknown += is_unknown
        invalid += is_invalid
        if span.error is not None or is_unknown or is_invalid:  # _failed_call, with the known tools
            failed += 1
            failed_ids.append(span.span_id)
    return ToolAccuracy(calls, failed, unknown, invalid, tuple(failed_ids))


def tool_summary(spans: list[Span], known_tools: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Per tool, in order of first call: calls, failures, unknown-tool and invalid-argument calls, p50 latency."""
    known = set(known_tools) if known_tools is not None else None
    tools: dict[str, dict[str, Any]] = {}
    durations: dict[str, list[float]] = {}
    for span in _tool_spans(spans):
        entry = tools.setdefault(span.name, {"name": span.name, "calls": 0, "failures": 0, "unknown_calls": 0,
                                             "invalid_calls": 0, "p50_ms": None})
        is_unknown, is_invalid = _wrong_call(span, known)
        entry["calls"] += 1
        entry["failures"] += span.error is not None or is_unknown or is_invalid
        entry["unknown_calls"] += is_unknown
        entry["invalid_calls"] += is_invalid
        if span.duration_ms is not None:
            durations.setdefault(span.name, []).append(span.duration_ms)
    for name, values in durations.items():
        p50 = percentile(sorted(values), 50)
        tools[name]["p50_ms"] = None if p50 is None else round(p50, 1)
    return list(tools.values())


@dataclass(frozen=True, slots=True)
class Loop:
    tool: str
    count: int
    span_ids: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"tool": self.tool, "count": self.count, "span_ids": list(self.span_ids)}


def detect_loops(spans: list[Span], threshold: int = LOOP_THRESHOLD) -> list[Loop]:
    """Tools called `threshold` or more times with identical arguments in one run."""
    groups: dict[tuple[str, bytes], list[str]] = {}
    for span in spans:
        if span.kind == "tool":
            key = (span.name, msgspec.json.encode(span.input, order="sorted"))
            groups.setdefault(key, []).append(span.span_id)
    return [Loop(name, len(ids), tuple(ids)) for (name, _), ids in groups.items() if len(ids) >= threshold]


# --- does the output answer the input? (a deterministic signal; semantic correctness is for judges) -----

_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
_STOPWORDS = frozenset("""
the and for are but not you your with this that from have has had was were will would can could should
what which who whom whose when where why how about into onto over under than then them they their there
here these those its our ours out all any some more most such only own same very just also been being
does did doing done please thanks thank found find information info result results regarding following
""".split())
_NON_ANSWER = re.compile(
    r"^\W*(?:(?:i|we) (?:do not|don't|did not|didn't|could not|couldn't|can ?not|can't|am unable to|was unable to|"
    r"am not able to) (?:know|find|help|answer|assist|determine|access|provide)|i'?m (?:not sure|unable|sorry)|"
    r"sorry[,.!]? (?:i|but|we)|(?:no|there (?:is|are) no) (?:results?|information|answer|data) (?:was |were )?"
    r"(?:found|available)|unable to (?:answer|help|find)|here is what i found about\W*$)", re.IGNORECASE)
NON_ANSWER_MAX_CHARS = 300


def _words(value: Any) -> set[str]:
    return {w.lower() for _, text in strings(value) for w in _WORD.findall(text)} - _STOPWORDS


def answers_input(trace: Trace) -> tuple[bool, str]:
    """Whether the output reads as an answer, and the signal behind a no.

    A short output is a non-answer when it is a give-up or refusal formula ("I don't know", "Sorry, I
    can't help", "No results found"), or when it only restates the input: once stop words are left out,
    it brings at most one word the input did not contain ("Here is what I found about: <the question>").
    Long outputs, structured outputs and outputs not recorded are taken as answers.
    """
    output = trace.output
    if empty(output):
        return (False, "no output") if output_recorded(trace) else (True, "")
    if not isinstance(output, str) or len(output) > NON_ANSWER_MAX_CHARS:
        return True, ""
    if _NON_ANSWER.search(output.strip()):
        return False, "give-up or refusal formula"
    asked, said = _words(trace.input), _words(output)
    if len(asked) >= 2 and said and len(said - asked) <= 1:
        return False, "restates the input without adding to it"
    return True, ""


# Weights of the quality factors (they add up to 1). The score is banded by outcome, so no failure ever
# ranks above a success, and spreads inside its band by these factors.
WEIGHTS: dict[str, float] = {"answer": 0.3, "tool_accuracy": 0.25, "no_loops": 0.15, "compliance": 0.15,
                             "clean_errors": 0.15}
# The bands put the letters where the runs differ: a clean success is A+, one with recovered errors or a
# non-answer A or A-; a failure that only missed the answer D to D+, one with failing tools or a crash F.
SUCCESS_BAND = (70.0, 100.0)  # C- to A+
FAILURE_BAND = (40.0, 69.0)  # F to D+


def quality_score(*, success: bool, accuracy: ToolAccuracy, loops: list[Loop], compliance_passed: bool,
                  compliance_findings: int, errors: int, spans: int, answers: bool = True
                  ) -> tuple[float, list[dict[str, Any]]]:
    """0-100 and each factor's value (0-1) and points: a success scores 70-100, a failure 40-69."""
    values = {
        "answer": 1.0 if answers else 0.0,
        "tool_accuracy": accuracy.accuracy,
        "no_loops": 0.0 if loops else 1.0,
        "compliance": 0.0 if not compliance_passed else (0.5 if compliance_findings else 1.0),
        "clean_errors": 1.0 - min(1.0, errors / spans) if spans else (0.0 if errors else 1.0),
    }
    low, high = SUCCESS_BAND if success else FAILURE_BAND
    # the outcome's points are its band's floor: all of them for a success, FAILURE_BAND[0] of them for a failure
    factors = [{"factor": "outcome", "weight": SUCCESS_BAND[0], "value": round(low / SUCCESS_BAND[0], 4),
                "points": low}]
    factors += [{"factor": name, "weight": round((high - low) * weight, 2), "value": round(values[name], 4),
                 "points": round((high - low) * weight * values[name], 2)} for name, weight in WEIGHTS.items()]
    score = round(sum(f["points"] for f in factors), 2)
    return score, factors


def grade(score: float) -> str:
    return next(letter for floor, letter in GRADES if score >= floor)


def input_fingerprint(trace: Trace) -> str:
    """Same task, same fingerprint: agent + input with case and whitespace of strings normalised."""
    normalised = map_strings(trace.input, lambda text: _SPACE.sub(" ", text).strip().lower())
    payload = msgspec.json.encode([trace.agent_id, normalised], order="sorted")
    return hashlib.sha256(payload).hexdigest()[:32]


def time_split(trace: Trace) -> dict[str, float]:
    """Milliseconds spent in model calls, in tool calls and in the agent's own code (the remainder)."""
    llm = sum(s.duration_ms or 0.0 for s in trace.spans if s.kind == "llm")
    tool = sum(s.duration_ms or 0.0 for s in trace.spans if s.kind in ("tool", "retrieval"))
    total = trace.duration_ms if trace.duration_ms is not None else max(llm + tool, 0.0)
    return {"llm_ms": llm, "tool_ms": tool, "own_ms": max(total - llm - tool, 0.0), "total_ms": total}


# --- an agent over a window: plain numbers in ------------------------------------------------------------

def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


MIN_REPEATS = 2  # pass^k is estimated from inputs that were run at least this many times


def _task_curve(runs: int, successes: int, ks: tuple[int, ...]) -> list[float]:
    """One task's chance that k runs in a row all succeed, for each k: C(c, k) / C(n, k) (unbiased) while
    k <= n, built as a running product of factors in [0, 1]; past n runs, each further run succeeds with
    the rule-of-succession rate (c + 1) / (n + 2). A product of factors <= 1 never grows with k."""
    curve, value = [], 1.0
    for k in range(1, max(ks) + 1):
        value *= (successes - k + 1) / (runs - k + 1) if k <= runs else (successes + 1) / (runs + 2)
        if k in ks:
            curve.append(value)
    return curve


def pass_k_curve(tasks: Iterable[tuple[int, int]], ks: Iterable[int] = PASS_K) -> dict[str, float | None]:
    """pass^k for each k: the mean over the same tasks (inputs run at least MIN_REPEATS times) of each
    task's estimate, from (runs, successes) per input fingerprint. Non-increasing in k by construction:
    every task's estimate is, and the mean is over one set of tasks for every k."""
    wanted = tuple(sorted(set(ks)))
    curves = [_task_curve(n, c, wanted) for n, c in tasks if n >= MIN_REPEATS and 0 <= c <= n]
    if not curves:
        return {str(k): None for k in wanted}
    return {str(k): round(sum(c[i] for c in curves) / len(curves), 4) for i, k in enumerate(wanted)}


def two_proportion_test(s1: int, n1: int, s2: int, n2: int) -> tuple[float, float]:
    """(z, two-sided p) for the difference between two success rates (pooled normal approximation)."""
    if n1 <= 0 or n2 <= 0:
        return 0.0, 1.0
    pooled = (s1 + s2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 0.0, 1.0
    z = (s2 / n2 - s1 / n1) / se
    return z, math.erfc(abs(z) / math.sqrt(2))


def trend(prev_successes: int, prev_runs: int, successes: int, runs: int, alpha: float = 0.05) -> dict[str, Any]:
    """Change of success rate against the previous window, flagged only when significant."""
    z, p = two_proportion_test(prev_successes, prev_runs, successes, runs)
    delta = (successes / runs if runs else 0.0) - (prev_successes / prev_runs if prev_runs else 0.0)
    significant = p < alpha and prev_runs > 0 and runs > 0
    direction = ("up" if delta > 0 else "down") if significant else "flat"
    return {"delta_pp": round(delta * 100, 2), "z": round(z, 3), "p_value": round(p, 4),
            "significant": significant, "direction": direction}


# Latency histogram edges in ms (log-spaced): stored per agent/window so percentiles need no raw runs.
LATENCY_EDGES_MS: tuple[float, ...] = tuple(round(10 * 1.25 ** i, 1) for i in range(60))


def latency_bucket(duration_ms: float) -> int:
    return bisect.bisect_left(LATENCY_EDGES_MS, duration_ms)


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0-100) of already-sorted values."""
    if not sorted_values:
        return None
    position = (len(sorted_values) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def histogram_percentile(counts: list[int], q: float) -> float | None:
    """Percentile from latency-histogram counts (index = `latency_bucket`).

    Runs are taken as spread evenly on a log scale inside their bucket (the edges grow geometrically), so
    the estimate lies between the bucket's edges instead of always at its upper one.
    """
    total = sum(counts)
    if not total:
        return None
    rank = max(total * q / 100, 1)
    running = 0
    for index, count in enumerate(counts):
        if count and running + count >= rank:
            if index >= len(LATENCY_EDGES_MS):
                return LATENCY_EDGES_MS[-1]
            upper = LATENCY_EDGES_MS[index]
            share = (rank - running) / count
            if index == 0:
                return upper * share
            lower = LATENCY_EDGES_MS[index - 1]
            return lower * (upper / lower) ** share
        running += count
    return LATENCY_EDGES_MS[-1]


@dataclass(slots=True)
class WindowCounts:
    """What the Django side stores per agent and window (sums and counts), enough for every rollup figure."""

    runs: int = 0
    successes: int = 0
    score_sum: float = 0.0
    duration_ms_sum: float = 0.0
    duration_ms_sq_sum: float = 0.0
    llm_ms_sum: float = 0.0
    tool_ms_sum: float = 0.0
    tool_calls: int = 0
    tool_errors: int = 0
    cost_usd_sum: Decimal = Decimal(0)
    cost_usd_sq_sum: Decimal = Decimal(0)
    priced_runs: int = 0
    compliance_passed: int = 0
    latency_histogram: list[int] = field(default_factory=list)

    def add(self, *, success: bool, score: float, duration_ms: float, llm_ms: float, tool_ms: float,
            tool_calls: int, tool_errors: int, cost_usd: Decimal | None, compliance_passed: bool) -> None:
        """Fold one run in (the same arithmetic a SQL aggregate does)."""
        self.runs += 1
        self.successes += success
        self.score_sum += score
        self.duration_ms_sum += duration_ms
        self.duration_ms_sq_sum += duration_ms * duration_ms
        self.llm_ms_sum += llm_ms
        self.tool_ms_sum += tool_ms
        self.tool_calls += tool_calls
        self.tool_errors += tool_errors
        if cost_usd is not None:
            self.cost_usd_sum += cost_usd
            self.cost_usd_sq_sum += cost_usd * cost_usd
            self.priced_runs += 1
        self.compliance_passed += compliance_passed
        bucket = latency_bucket(duration_ms)
        if len(self.latency_histogram) <= bucket:
            self.latency_histogram.extend([0] * (bucket + 1 - len(self.latency_histogram)))
        self.latency_histogram[bucket] += 1


def rollup(current: WindowCounts, previous: WindowCounts | None = None,
           tasks: Iterable[tuple[int, int]] = ()) -> dict[str, Any]:
    """An agent's reliability over a window: rate, Wilson 95%, grade, pass^k, trend, latency and time split.

    `tasks` holds (runs, successes) per input fingerprint in the window, for pass^k.
    """
    n = current.runs
    rate = current.successes / n if n else 0.0
    low, high = wilson_interval(current.successes, n)
    own = max(current.duration_ms_sum - current.llm_ms_sum - current.tool_ms_sum, 0.0)
    total_ms = current.duration_ms_sum or 1.0
    return {
        "runs": n,
        "successes": current.successes,
        "reliability": round(rate * 100, 2),
        "wilson_low": round(low * 100, 2),
        "wilson_high": round(high * 100, 2),
        "grade": grade(rate * 100) if n else None,
        "mean_score": round(current.score_sum / n, 2) if n else None,
        "pass_k": pass_k_curve(tasks),
        "trend": trend(previous.successes, previous.runs, current.successes, n) if previous and previous.runs else None,
        "latency_p50_ms": histogram_percentile(current.latency_histogram, 50),
        "latency_p95_ms": histogram_percentile(current.latency_histogram, 95),
        "latency_mean_ms": round(current.duration_ms_sum / n, 1) if n else None,
        "time_split": {"llm": round(current.llm_ms_sum / total_ms, 4), "tool": round(current.tool_ms_sum / total_ms, 4),
                       "own": round(own / total_ms, 4)},
        "tool_success": round(1 - current.tool_errors / current.tool_calls, 4) if current.tool_calls else None,
        "cost_per_run_usd": str(current.cost_usd_sum / current.priced_runs) if current.priced_runs else None,
        "compliance_passed": current.compliance_passed,
    }
