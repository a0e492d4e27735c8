from __future__ import annotations

import json
from decimal import Decimal

from evaluations.engine import evaluate, to_trace
from evaluations.engine.evaluate import RunEvaluation

from .conftest import recorded_output


def timeout_trace():
    return to_trace({
        "agent_id": "support-bot", "framework": "openai", "input": {"question": "Where is order 8812?"},
        "output": None, "error": {"type": "TimeoutError", "message": "search timed out after 30s"},
        "duration_ms": 31000,
        "metadata": {"source": {"file": "bot.py", "line": 4, "text": "client = OpenAI()"}},
        "spans": [
            {"span_id": "s1", "kind": "llm", "name": "plan", "model": "gpt-4o-mini", "duration_ms": 800,
             "usage": {"input_tokens": 1_000_000, "output_tokens": 1_000_000}},
            {"span_id": "s2", "kind": "tool", "name": "search", "duration_ms": 30000, "input": {"q": "8812"},
             "error": {"type": "TimeoutError", "message": "search timed out after 30s"}}]})


def test_timeout_run_is_classified_costed_and_fixed():
    result = evaluate(timeout_trace())
    assert isinstance(result, RunEvaluation)
    assert not result.success and result.grade == "F"
    assert result.failure_category == "tool_timeout" and len(result.failure_fingerprint) == 16
    assert result.cost_usd == Decimal("0.75")
    assert (result.llm_calls, result.tool_calls, result.tool_errors) == (1, 1, 1)
    assert (result.llm_ms, result.tool_ms, result.duration_ms) == (800, 30000, 31000)
    fix = result.details["fixes"][0]
    # the fix targets the tool that timed out, not the model client
    assert fix["target"] == {"component": "tool", "name": "search", "failed_in": "tool"}
    assert "search" in fix["title"] and "def search(" in fix["code"] and "timeout=" in fix["code"]
    assert fix["diff"] is None and fix["impact"] is None  # the impact belongs to the agent's pattern
    assert result.details["scenarios"][0]["input"] == {"question": "Where is order 8812?"}


def test_model_timeout_fix_targets_the_client_with_a_diff():
    trace = timeout_trace()
    trace.error.type = trace.spans[1].error.type = "APITimeoutError"
    trace.spans = trace.spans[:1]
    trace.spans[0].error = trace.error
    result = evaluate(trace)
    assert result.failure_category == "llm_timeout"
    fix = result.details["fixes"][0]
    assert fix["target"]["component"] == "llm"
    assert "+client = OpenAI(timeout=30, max_retries=3)" in fix["diff"]


def test_agents_own_error_after_clean_tools_is_not_a_tool_failure():
    result = evaluate(to_trace({
        "agent_id": "shop", "input": {"task": "check out"}, "output": None,
        "error": {"type": "RuntimeError", "message": "payment gateway timeout"},
        "spans": [{"span_id": "t1", "kind": "tool", "name": "get_cart", "output": {"items": 3}}]}))
    assert result.failure_category == "agent_error"
    assert result.details["failure"]["component"] == "agent"
    assert "tool" not in result.details["fixes"][0]["title"].lower()


def test_details_are_json_serialisable():
    for trace in (timeout_trace(), to_trace({"agent_id": "a", "output": recorded_output("langgraph__clean")})):
        json.dumps(evaluate(trace).details)


def test_clean_run_scores_full_marks():
    result = evaluate(to_trace({"agent_id": "a", "input": "hi", "output": recorded_output("langgraph__clean")}))
    assert result.success and result.score == 100.0 and result.grade == "A+"
    assert result.framework == "langgraph"
    assert result.details["framework_detection"]["confidence"] >= 0.9
    assert result.failure_category == "" and "fixes" not in result.details
    factors = {f["factor"]: f["points"] for f in result.details["score"]["factors"]}
    assert sum(factors.values()) == 100


def test_score_reflects_recovered_tool_errors():
    result = evaluate(to_trace({"agent_id": "a", "output": "done", "spans": [
        {"span_id": "1", "kind": "tool", "name": "t", "error": {"message": "boom"}},
        {"span_id": "2", "kind": "tool", "name": "t", "input": {"x": 1}}]}))
    assert result.success
    assert 60 < result.score < 100
    assert result.details["issues"][0]["span_id"] == "1"


def test_human_label_overrides_and_legacy_shape_works():
    legacy = to_trace({"agent_id": "a", "execution_time": 1.5, "output": "ok", "tool_calls": ["search"]})
    assert evaluate(legacy).success and evaluate(legacy).duration_ms == 1500
    labelled = evaluate(legacy, human_label=False)
    assert not labelled.success and labelled.failure_category == "wrong_answer"


def test_unpriced_model_is_flagged():
    result = evaluate(to_trace({"agent_id": "a", "output": "ok", "spans": [
        {"span_id": "1", "kind": "llm", "model": "in-house-llm", "usage": {"input_tokens": 10, "output_tokens": 5}}]}))
    assert result.cost_usd is None and result.unpriced
    assert result.details["cost"]["unpriced_models"] == ["in-house-llm"]
