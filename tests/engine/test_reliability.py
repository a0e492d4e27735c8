from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evaluations.engine import to_trace
from evaluations.engine.reliability import (
    LATENCY_EDGES_MS,
    WindowCounts,
    detect_loops,
    grade,
    histogram_percentile,
    input_fingerprint,
    latency_bucket,
    pass_k_curve,
    percentile,
    rollup,
    run_success,
    tool_accuracy,
    trend,
    wilson_interval,
)


def trace(**fields):
    return to_trace({"agent_id": "bot", **fields})


def test_wilson_interval_hand_checked():
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4)
    assert high == pytest.approx(0.9433, abs=1e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_pass_k_hand_checked():
    curve = pass_k_curve([(4, 3), (2, 2)])  # (runs, successes) per input fingerprint
    assert curve["1"] == pytest.approx((3 / 4 + 1) / 2)
    assert curve["2"] == pytest.approx((3 / 6 + 1) / 2)  # C(3,2)/C(4,2) and C(2,2)/C(2,2)
    # past its 2 runs, the second task's next run succeeds with the rule-of-succession rate (2+1)/(2+2)
    assert curve["3"] == pytest.approx((1 / 4 + 3 / 4) / 2)
    assert curve["5"] == pytest.approx((0 + (3 / 4) ** 3) / 2, abs=1e-4)


def test_pass_k_uses_only_repeated_inputs():
    assert pass_k_curve([(1, 1), (1, 0)]) == {str(k): None for k in range(1, 6)}
    # the report's case: single runs that failed no longer sit under a pass^2 computed from other tasks
    assert pass_k_curve([(1, 0)] * 8 + [(5, 5)] * 2)["1"] == 1.0


@given(st.lists(st.integers(min_value=1, max_value=40).flatmap(
    lambda n: st.tuples(st.just(n), st.integers(min_value=0, max_value=n))), max_size=60))
def test_pass_k_never_rises_with_k(tasks):
    curve = pass_k_curve(tasks, ks=range(1, 12))
    values = [curve[str(k)] for k in range(1, 12)]
    if all(v is None for v in values):
        assert all(n < 2 for n, _ in tasks)
        return
    assert all(0.0 <= v <= 1.0 for v in values)
    assert all(later <= earlier for earlier, later in zip(values, values[1:], strict=False)), values


@pytest.mark.parametrize(("score", "letter"), [(100, "A+"), (97, "A+"), (95, "A"), (91, "A-"), (85, "B"),
                                                (72, "C-"), (61, "D-"), (59.9, "F"), (0, "F")])
def test_grade_mapping(score, letter):
    assert grade(score) == letter


def test_trend_flags_only_significant_change():
    drop = trend(95, 100, 80, 100)
    assert drop["significant"] and drop["direction"] == "down" and drop["delta_pp"] == -15.0
    noise = trend(45, 50, 46, 50)
    assert not noise["significant"] and noise["direction"] == "flat"


def test_success_definition():
    assert run_success(trace(output="ok"))
    assert not run_success(trace(output=""))
    assert not run_success(trace(output="ok", error={"type": "E", "message": "x"}))
    assert not run_success(trace(output="ok", success=False))
    assert not run_success(trace(output="ok"), compliance_passed=False)
    last_failed = trace(output="ok", spans=[{"span_id": "a", "kind": "tool", "name": "t", "error": {"message": "boom"}}])
    assert not run_success(last_failed)
    assert run_success(last_failed, human_label=True)
    assert not run_success(trace(output={"output": "Agent stopped due to iteration limit or time limit."}))


def test_tool_accuracy_counts_failed_unknown_and_invalid_calls():
    t = trace(spans=[
        {"span_id": "1", "kind": "tool", "name": "search", "input": {"q": "a"}},
        {"span_id": "2", "kind": "tool", "name": "calc", "error": {"type": "InvalidTool", "message": "calc is not a valid tool"}},
        {"span_id": "3", "kind": "tool", "name": "refund", "error": {"type": "ValidationError", "message": "1 validation error"}},
        {"span_id": "4", "kind": "tool", "name": "fetch", "error": {"type": "TimeoutError", "message": "timed out"}},
        {"span_id": "5", "kind": "llm", "name": "gpt"}])
    accuracy = tool_accuracy(t.spans)
    assert (accuracy.calls, accuracy.failed, accuracy.unknown_tool, accuracy.invalid_arguments) == (4, 3, 1, 1)
    assert accuracy.accuracy == 0.25
    assert tool_accuracy(t.spans[:1], known_tools=["lookup"]).unknown_tool == 1


def test_loop_detection_needs_same_tool_and_same_arguments_three_times():
    spans = [{"span_id": str(n), "kind": "tool", "name": "search", "input": {"q": "x"}} for n in range(3)]
    spans.append({"span_id": "9", "kind": "tool", "name": "search", "input": {"q": "y"}})
    loops = detect_loops(trace(spans=spans).spans)
    assert [(loop.tool, loop.count, loop.span_ids) for loop in loops] == [("search", 3, ("0", "1", "2"))]
    assert detect_loops(trace(spans=spans[:2]).spans) == []


def test_input_fingerprint_ignores_case_and_whitespace_only():
    a = trace(input={"question": "Where is  my order?"})
    b = trace(input={"question": " where is my ORDER? "})
    c = trace(input={"question": "Where is my refund?"})
    assert input_fingerprint(a) == input_fingerprint(b) != input_fingerprint(c)


def test_percentiles():
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    counts = [0] * 80
    for ms in [100.0] * 90 + [5000.0] * 10:
        counts[latency_bucket(ms)] += 1
    assert 93 < histogram_percentile(counts, 50) < 117  # inside the bucket of 100 ms
    assert 4400 < histogram_percentile(counts, 95) < 5600  # inside the bucket of 5 s
    assert histogram_percentile([0] * 80, 95) is None


def test_histogram_percentiles_are_within_ten_percent_of_the_exact_ones():
    rng = random.Random(7)
    durations = sorted(rng.lognormvariate(7, 0.8) for _ in range(2000))
    counts = [0] * (len(LATENCY_EDGES_MS) + 1)
    for ms in durations:
        counts[latency_bucket(ms)] += 1
    for q in (50, 95, 99):
        assert histogram_percentile(counts, q) == pytest.approx(percentile(durations, q), rel=0.1)


def test_rollup_from_aggregates():
    current, previous = WindowCounts(), WindowCounts()
    for n in range(100):
        current.add(success=n < 90, score=90.0, duration_ms=1000.0, llm_ms=600.0, tool_ms=300.0, tool_calls=2,
                    tool_errors=0, cost_usd=None, compliance_passed=True)
        previous.add(success=n < 70, score=70.0, duration_ms=1000.0, llm_ms=600.0, tool_ms=300.0, tool_calls=2,
                     tool_errors=1, cost_usd=None, compliance_passed=True)
    result = rollup(current, previous, tasks=[(2, 2), (2, 1)])
    assert result["reliability"] == 90.0 and result["grade"] == "A-"
    assert result["wilson_low"] < 90.0 < result["wilson_high"]
    assert result["trend"]["significant"] and result["trend"]["direction"] == "up"
    assert result["time_split"] == {"llm": 0.6, "tool": 0.3, "own": 0.1}
    assert result["pass_k"]["2"] == 0.5  # (1 + 0) / 2
    assert result["pass_k"]["3"] == 0.375  # (3/4 + 0) / 2
    assert result["cost_per_run_usd"] is None
