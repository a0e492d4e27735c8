from __future__ import annotations

import json

import pytest

from evaluations.engine import to_trace
from evaluations.engine.frameworks import FRAMEWORK_NAMES, detect

from .conftest import all_recorded, recorded, recorded_output
from .holdout_figures import FIXTURES

HOLDOUT2 = FIXTURES / "holdout2"


def trace_of(name: str):
    return to_trace({"agent_id": "bot", "input": "q", "output": recorded_output(name)})


RETURNED = [n for n in all_recorded() if recorded(n)["output"] is not None]


def test_every_framework_is_recorded():
    assert {recorded(n)["library"] for n in all_recorded()} >= set(FRAMEWORK_NAMES) - {"generic"}


@pytest.mark.parametrize("name", [n for n in RETURNED if recorded(n)["error"] is None])
def test_returned_object_detected_with_evidence_and_spans_extracted(name):
    detection = detect(recorded_output(name))
    assert 0.5 <= detection.confidence <= 1.0
    assert detection.evidence
    trace = trace_of(name)
    assert trace.framework == detection.framework
    assert trace.spans
    assert trace.metadata["framework_detection"]["framework"] == detection.framework


def test_langchain_unknown_tool_observation_is_a_failed_call():
    [tool] = [s for s in trace_of("langchain__unknown_tool").spans if s.kind == "tool"]
    assert tool.name == "get_forecast" and tool.error.type == "InvalidTool"


def test_openai_chat_usage_and_malformed_arguments():
    [llm] = trace_of("openai__clean__completion").spans
    assert (llm.model, llm.usage.input_tokens, llm.usage.output_tokens) == ("gpt-4o-mini", 160, 25)
    [call] = [s for s in trace_of("openai__bad_arguments").spans if s.kind == "tool"]
    assert call.attributes["arguments_invalid"] is True and call.input == '{"city": '


def test_tool_results_are_paired_with_calls_by_id():
    [tool] = [s for s in trace_of("openai__clean").spans if s.kind == "tool"]
    assert (tool.name, tool.input, tool.output) == ("get_weather", {"city": "Oslo"}, "4 degrees, cloudy")


def test_anthropic_is_error_result():
    [tool] = [s for s in trace_of("anthropic__tool_error").spans if s.kind == "tool"]
    assert tool.error is not None and "Atlantis" in tool.error.message


def test_pydantic_ai_retried_tool_returns_carry_their_cause():
    [tool] = [s for s in trace_of("pydantic_ai__unknown_tool").spans if s.kind == "tool"]
    assert tool.error.type == "UnknownTool"
    [tool] = [s for s in trace_of("pydantic_ai__bad_arguments").spans if s.kind == "tool"]
    assert tool.error.type == "ValidationError"


def test_adk_camel_and_snake_case_agree():
    snake, camel = trace_of("google_adk__clean").spans, trace_of("google_adk__clean__camel").spans
    assert [(s.kind, s.name, s.model) for s in snake] == [(s.kind, s.name, s.model) for s in camel]


def test_smolagents_failed_step_keeps_its_call():
    [tool] = [s for s in trace_of("smolagents__tool_error").spans if s.kind == "tool" and s.name == "get_weather"]
    assert tool.error.type == "AgentToolExecutionError"


def test_run_that_raised_names_its_framework_from_the_traceback():
    record = recorded("pydantic_ai__max_iterations")
    trace = to_trace({"agent_id": "bot", "error": record["error"]})
    assert trace.framework == "pydantic_ai"
    assert trace.metadata["framework_detection"]["evidence"] == ["traceback through pydantic_ai"]


def test_generic_tool_calls_list():
    trace = to_trace({"agent_id": "bot", "output": {"answer": "Done", "tool_calls": [
        {"name": "search", "arguments": {"q": "refund policy"}, "result": "30 days"},
        {"name": "send_email", "arguments": {"to": "customer"}, "error": "SMTPAuthenticationError: 535"}]}})
    assert trace.framework == "generic"
    assert [(s.name, s.error is not None) for s in trace.spans] == [("search", False), ("send_email", True)]


def test_canonical_trace_with_spans_is_left_alone():
    trace = to_trace({"agent_id": "bot", "framework": "custom",
                      "spans": [{"span_id": "s1", "kind": "tool", "name": "x"}],
                      "output": recorded_output("crewai__clean")})
    assert trace.framework == "custom"
    assert [s.span_id for s in trace.spans] == ["s1"]


def test_framework_detected_from_metadata_raw_when_output_is_text():
    trace = to_trace({"agent_id": "bot", "output": "Paris", "metadata": {"raw": recorded_output("crewai__clean")}})
    assert trace.framework == "crewai"


def test_plain_output_stays_without_framework():
    trace = to_trace({"agent_id": "bot", "input": "hi", "output": "hello"})
    assert trace.framework is None and trace.spans == []


def _chat_run(tool: str, arguments: str, result: str) -> list[dict]:
    """A hand loop's messages: one call of `tool`, its result, then an answer."""
    return [{"role": "user", "content": "q"},
            {"role": "assistant", "content": None,
             "tool_calls": [{"id": "c1", "type": "function", "function": {"name": tool, "arguments": arguments}}]},
            {"role": "tool", "tool_call_id": "c1", "content": result},
            {"role": "assistant", "content": "done"}]


@pytest.mark.parametrize(("result", "failed"), [
    ('{"status": "error", "message": "seat taken"}', True),
    ('{"ok": false, "error": {"type": "Conflict", "message": "seat taken"}}', True),
    ('{"success": false}', True),
    ('{"status": "delivered", "error": null}', False),
    ('{"order_id": "7", "errors": []}', False),
])
def test_an_error_object_returned_as_the_tools_result_is_a_failed_call(result, failed):
    [tool] = [s for s in to_trace({"agent_id": "a", "input": "q", "output": _chat_run("book", "{}", result)}).spans
              if s.kind == "tool"]
    assert (tool.error is not None) is failed


def test_a_team_tool_named_transfer_to_is_not_a_handoff():
    trace = to_trace({"agent_id": "a", "input": "q",
                      "output": _chat_run("transfer_to_account", '{"iban": "NO93"}', '{"status": "sent"}')})
    assert [s.kind for s in trace.spans if s.name == "transfer_to_account"] == ["tool"]


def test_handoffs_are_agent_spans_not_tools():
    for name in ("openai_agents__handoff__input_list", "google_adk__handoff"):
        record = json.loads((HOLDOUT2 / f"{name}.json").read_text())
        spans = to_trace({"agent_id": "a", "input": "q", "output": record["output"]}).spans
        assert {s.name for s in spans if s.kind == "tool"} == {"book_seat"}
        assert any(s.name.startswith("transfer_to_") and s.kind == "agent" for s in spans)
