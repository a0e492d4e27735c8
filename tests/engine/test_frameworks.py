from __future__ import annotations

import pytest

from evaluations.engine import to_trace
from evaluations.engine.frameworks import FRAMEWORK_NAMES, detect

from .conftest import all_fixtures, load_fixture


def trace_of(name: str):
    return to_trace({"agent_id": "bot", "input": "q", "output": load_fixture(name)})


def test_every_framework_has_a_fixture():
    assert {name.split("__")[0] for name in all_fixtures()} == set(FRAMEWORK_NAMES)


def test_detection_is_right_on_at_least_95_percent_of_fixtures():
    names = all_fixtures()
    right = sum(detect(load_fixture(n)).framework == n.split("__")[0] for n in names)
    assert right / len(names) >= 0.95


@pytest.mark.parametrize("name", all_fixtures())
def test_fixture_detected_with_evidence_and_spans_extracted(name):
    detection = detect(load_fixture(name))
    assert detection.framework == name.split("__")[0]
    assert 0.5 <= detection.confidence <= 1.0
    assert detection.evidence
    trace = trace_of(name)
    assert trace.framework == detection.framework
    assert trace.spans
    assert trace.metadata["framework_detection"]["framework"] == detection.framework


def test_langchain_timeout_observation_becomes_failed_tool_span():
    spans = trace_of("langchain__dumpd_tool_timeout").spans
    assert [(s.name, s.input) for s in spans] == [("get_weather", {"city": "Paris"}),
                                                  ("convert_units", {"value": 20, "from": "C", "to": "F"})]
    assert spans[0].error is None
    assert spans[1].error.type == "TimeoutError"
    assert "timed out after 30s" in spans[1].error.message


def test_langchain_parsing_exception_and_invalid_tool():
    spans = trace_of("langchain__react_parsing_error").spans
    assert spans[1].error.type == "OutputParserException"
    assert spans[1].attributes["pseudo_tool"] is True
    assert spans[2].error.type == "InvalidTool"


def test_openai_chat_usage_and_malformed_arguments():
    spans = trace_of("openai__chat_completion_tool_calls").spans
    llm, good, bad = spans
    assert (llm.model, llm.usage.input_tokens, llm.usage.output_tokens) == ("gpt-4o-mini-2024-07-18", 82, 17)
    assert good.input == {"location": "Boston, MA", "unit": "celsius"}
    assert "arguments_invalid" not in good.attributes
    assert bad.attributes["arguments_invalid"] is True


def test_tool_results_are_paired_with_calls_by_id():
    spans = trace_of("openai__messages_with_tool_results").spans
    tool = next(s for s in spans if s.kind == "tool")
    assert tool.name == "lookup_order"
    assert tool.output == '{"status": "shipped", "eta": "2024-08-02"}'


def test_anthropic_is_error_and_cached_tokens_counted_in_input():
    spans = trace_of("anthropic__conversation_tool_error").spans
    assert spans[0].usage.input_tokens == 680 and spans[0].usage.cached_tokens == 300
    assert spans[1].error is not None and spans[1].error.type == "ConnectionError"


def test_langgraph_error_status_and_provider():
    spans = trace_of("langgraph__tool_error_status").spans
    assert spans[0].provider == "anthropic"
    assert spans[1].name == "refund_order" and spans[1].error is not None


def test_pydantic_ai_retry_prompt_is_validation_error():
    tool = next(s for s in trace_of("pydantic_ai__retry_prompt").spans if s.kind == "tool")
    assert tool.error.type == "ValidationError"


def test_adk_error_response_and_camel_case():
    snake = [s for s in trace_of("google_adk__events_snake").spans if s.kind == "tool"]
    assert snake[0].error is not None
    camel = trace_of("google_adk__api_server_camel").spans
    assert camel[0].model == "gemini-2.5-flash" and camel[0].usage.input_tokens == 310
    assert camel[1].output == {"result": "Open 9am-5pm."}


def test_smolagents_step_errors():
    spans = trace_of("smolagents__code_agent_error").spans
    assert spans[1].name == "python_interpreter" and spans[1].error.type == "AgentExecutionError"
    assert spans[2].error.type == "AgentMaxStepsError"


def test_canonical_trace_with_spans_is_left_alone():
    trace = to_trace({"agent_id": "bot", "framework": "custom",
                      "spans": [{"span_id": "s1", "kind": "tool", "name": "x"}],
                      "output": load_fixture("crewai__single_task")})
    assert trace.framework == "custom"
    assert [s.span_id for s in trace.spans] == ["s1"]


def test_framework_detected_from_metadata_raw_when_output_is_text():
    trace = to_trace({"agent_id": "bot", "output": "Paris", "metadata": {"raw": load_fixture("crewai__single_task")}})
    assert trace.framework == "crewai"


def test_plain_output_stays_without_framework():
    trace = to_trace({"agent_id": "bot", "input": "hi", "output": "hello"})
    assert trace.framework is None and trace.spans == []
