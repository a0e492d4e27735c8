"""What each convention means, as the real OpenTelemetry SDK encodes it: OpenLLMetry (traceloop.*), the older
GenAI attributes and events, OpenInference's indexed messages, and a run whose output nobody recorded."""

from __future__ import annotations

import json
from typing import Any

from evaluations.engine import evaluate, to_trace
from traces.otlp import decode_otlp

from .builders import Otel

PROTOBUF = "application/x-protobuf"


def one_trace(otel: Otel) -> dict[str, Any]:
    [trace] = decode_otlp(otel.protobuf(), content_type=PROTOBUF)
    return trace


def test_openllmetry_workflow_task_and_tool_spans():
    otel = Otel("weather")
    t = otel.tracer
    with t.start_as_current_span("weather.workflow", attributes={
            "traceloop.span.kind": "workflow", "traceloop.entity.name": "weather",
            "traceloop.entity.input": json.dumps({"args": ["Rain in Bergen?"], "kwargs": {}}),
            "traceloop.entity.output": json.dumps("Yes, 6 mm.")}):
        with t.start_as_current_span("plan.task", attributes={"traceloop.span.kind": "task"}):
            with t.start_as_current_span("openai.chat", attributes={
                    "llm.request.type": "chat", "gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.usage.prompt_tokens": 100, "gen_ai.usage.completion_tokens": 10,
                    "gen_ai.prompt.0.role": "user", "gen_ai.prompt.0.content": "Rain in Bergen?",
                    "gen_ai.completion.0.role": "assistant", "gen_ai.completion.0.finish_reason": "tool_calls",
                    "gen_ai.completion.0.tool_calls.0.name": "get_forecast",
                    "gen_ai.completion.0.tool_calls.0.arguments": '{"city": "Bergen"}'}):
                pass
        with t.start_as_current_span("get_forecast.tool", attributes={
                "traceloop.span.kind": "tool", "traceloop.entity.name": "get_forecast",
                "traceloop.entity.input": json.dumps({"args": [], "kwargs": {"city": "Bergen"}}),
                "traceloop.entity.output": json.dumps({"rain_mm": 6})}):
            pass
    trace = one_trace(otel)
    kinds = {s["name"]: s["kind"] for s in trace["spans"]}
    assert kinds == {"weather.workflow": "chain", "plan.task": "chain", "openai.chat": "llm", "get_forecast": "tool"}
    assert trace["input"] == "Rain in Bergen?" and trace["output"] == "Yes, 6 mm."
    chat = next(s for s in trace["spans"] if s["kind"] == "llm")
    assert chat["input"] == [{"role": "user", "content": "Rain in Bergen?"}]
    assert chat["output"] == [{"role": "assistant", "finish_reason": "tool_calls",
                               "tool_calls": [{"name": "get_forecast", "arguments": '{"city": "Bergen"}'}]}]
    assert not any(k.startswith("gen_ai.prompt.") for k in chat["attributes"])  # mapped, not repeated
    tool = next(s for s in trace["spans"] if s["kind"] == "tool")
    assert tool["input"] == {"city": "Bergen"} and tool["output"] == {"rain_mm": 6}


def test_genai_content_events_old_and_new():
    otel = Otel("chat")
    with otel.tracer.start_as_current_span("chat gpt-4o-mini", attributes={
            "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini"}) as span:
        span.add_event("gen_ai.content.prompt", {"gen_ai.prompt": json.dumps([{"role": "user", "content": "hi"}])})
        span.add_event("gen_ai.choice", {"index": 0, "finish_reason": "stop",
                                         "message": json.dumps({"role": "assistant", "content": "hello"})})
    [chat] = one_trace(otel)["spans"]
    assert chat["input"] == [{"role": "user", "content": "hi"}]
    assert chat["output"] == [{"role": "assistant", "finish_reason": "stop",
                               "message": {"role": "assistant", "content": "hello"}}]

    otel = Otel("chat")
    with otel.tracer.start_as_current_span("chat", attributes={"gen_ai.operation.name": "chat"}) as span:
        span.add_event("gen_ai.client.inference.operation.details", {
            "gen_ai.input.messages": json.dumps([{"role": "user", "parts": [{"type": "text", "content": "2+2?"}]}]),
            "gen_ai.output.messages": json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": "4"}]}])})
    [chat] = one_trace(otel)["spans"]
    assert chat["output"][0]["parts"][0]["content"] == "4"


def test_openinference_indexed_messages_when_no_whole_value():
    otel = Otel("oi")
    with otel.tracer.start_as_current_span("ChatCompletion", attributes={
            "openinference.span.kind": "LLM", "llm.model_name": "gpt-4o-mini",
            "llm.input_messages.0.message.role": "user", "llm.input_messages.0.message.content": "Oslo weather?",
            "llm.output_messages.0.message.role": "assistant",
            "llm.output_messages.0.message.tool_calls.0.tool_call.function.name": "get_weather"}):
        pass
    [llm] = one_trace(otel)["spans"]
    assert llm["input"] == [{"role": "user", "content": "Oslo weather?"}]
    assert llm["output"] == [{"role": "assistant", "tool_calls": [{"name": "get_weather"}]}]


def test_a_run_whose_output_nobody_recorded_is_not_a_failure():
    otel = Otel("quiet")
    with otel.tracer.start_as_current_span("invoke_agent quiet", attributes={"gen_ai.operation.name": "invoke_agent"}):
        with otel.tracer.start_as_current_span("chat", attributes={
                "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini",
                "gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 2}):
            pass
    trace = one_trace(otel)
    assert trace["output"] is None and trace["metadata"]["output_recorded"] is False
    result = evaluate(to_trace(trace))
    assert result.success and result.failure_category == ""
    assert result.details["answer"]["output_recorded"] is False


def test_an_agent_that_answered_nothing_is_empty_output():
    result = evaluate(to_trace({"agent_id": "a", "input": "hi", "output": ""}))
    assert not result.success and result.failure_category == "empty_output"
    # a REST payload without an output key recorded none
    assert evaluate(to_trace({"agent_id": "a", "input": "hi"})).success
