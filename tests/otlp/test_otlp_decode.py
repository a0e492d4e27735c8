"""decode_otlp on bodies made by the real OpenTelemetry SDK and its OTLP encoder."""

from __future__ import annotations

import gzip
import json
import re
from typing import Any

import pytest
from opentelemetry.trace import Status, StatusCode

from evaluations.engine import evaluate, to_trace
from traces.otlp import MAX_BODY_BYTES, OtlpError, decode_otlp

from .builders import Otel, encode

PROTOBUF, JSON = "application/x-protobuf", "application/json"
ENCODINGS = [(PROTOBUF, False), (PROTOBUF, True), (JSON, False), (JSON, True)]


def decode(otel: Otel, content_type: str = PROTOBUF, compress: bool = False) -> list[dict[str, Any]]:
    body = otel.protobuf(compress=compress) if content_type == PROTOBUF else otel.json(compress=compress)
    traces = decode_otlp(body, content_type=content_type, content_encoding="gzip" if compress else "")
    for trace in traces:
        to_trace(trace)  # every decoded trace is a valid canonical trace
    return traces


def by_name(trace: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {span["name"]: span for span in trace["spans"]}


def genai_agent_run(otel: Otel) -> None:
    """An agent run instrumented with the OpenTelemetry GenAI semantic conventions."""
    tracer = otel.tracer
    with tracer.start_as_current_span("invoke_agent support", attributes={
        "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "support-bot",
        "gen_ai.input.messages": json.dumps([{"role": "user", "parts": [{"type": "text", "content": "refund?"}]}]),
        "gen_ai.output.messages": json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": "done"}]}]),
        "session.id": "sess-1", "user.id": "user-7",
    }):
        with tracer.start_as_current_span("chat gpt-4o-mini", attributes={
            "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "gpt-4o-mini", "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
            "gen_ai.usage.input_tokens": 812, "gen_ai.usage.output_tokens": 96,
            "gen_ai.usage.cache_read.input_tokens": 512, "gen_ai.request.temperature": 0.2,
        }):
            pass
        with tracer.start_as_current_span("execute_tool lookup_order", attributes={
            "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "lookup_order",
            "gen_ai.tool.call.id": "call_1", "gen_ai.tool.call.arguments": '{"order_id": 42}',
            "gen_ai.tool.call.result": '{"status": "shipped"}',
        }):
            pass
        with pytest.raises(TimeoutError), tracer.start_as_current_span("execute_tool refund", attributes={
            "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "refund",
        }):
            raise TimeoutError("payments API timed out")


@pytest.mark.parametrize(("content_type", "compress"), ENCODINGS)
def test_genai_semantic_conventions(otel: Otel, content_type: str, compress: bool) -> None:
    genai_agent_run(otel)
    [trace] = decode(otel, content_type, compress)
    spans = by_name(trace)
    root, chat = spans["invoke_agent support"], spans["chat gpt-4o-mini"]
    lookup, refund = spans["lookup_order"], spans["refund"]

    assert trace["trace_id"] == format(otel.spans()[0].context.trace_id, "032x")
    assert trace["agent_id"] == "support-bot"
    assert [s["kind"] for s in trace["spans"]] == ["agent", "llm", "tool", "tool"]
    assert root["parent_id"] is None
    assert {chat["parent_id"], lookup["parent_id"], refund["parent_id"]} == {root["span_id"]}
    assert trace["started_at"] == root["started_at"] and trace["duration_ms"] == root["duration_ms"] > 0
    assert trace["session_id"] == "sess-1" and trace["user_id"] == "user-7"
    assert trace["input"][0]["parts"][0]["content"] == "refund?"
    assert trace["output"][0]["parts"][0]["content"] == "done"

    assert chat["model"] == "gpt-4o-mini-2024-07-18" and chat["provider"] == "openai"
    assert chat["usage"] == {"input_tokens": 812, "output_tokens": 96, "cached_tokens": 512}
    assert chat["attributes"] == {"gen_ai.request.temperature": 0.2}
    assert lookup["input"] == {"order_id": 42} and lookup["output"] == {"status": "shipped"}
    assert lookup["error"] is None
    assert refund["error"]["type"] == "TimeoutError"
    assert refund["error"]["message"] == "payments API timed out"
    assert "raise TimeoutError" in refund["error"]["traceback"]
    assert "success" not in trace  # the root did not fail: the engine judges the run

    run = evaluate(to_trace(trace))
    assert (run.llm_calls, run.tool_calls, run.tool_errors, run.input_tokens) == (1, 2, 1, 812)


def test_openinference_conventions(otel: Otel) -> None:
    tracer = otel.tracer
    with tracer.start_as_current_span("AgentExecutor", attributes={
        "openinference.span.kind": "AGENT", "input.value": '{"question": "weather?"}',
        "input.mime_type": "application/json", "output.value": "Sunny", "tag.tags": ["beta", "eu"],
    }):
        with tracer.start_as_current_span("ChatOpenAI", attributes={
            "openinference.span.kind": "LLM", "llm.model_name": "gpt-4o", "llm.provider": "openai",
            "llm.token_count.prompt": 120, "llm.token_count.completion": 30,
            "llm.token_count.prompt_details.cache_read": 100, "llm.cost.total": 0.0015,
        }):
            pass
        for name, kind in (("get_weather", "TOOL"), ("vector_store", "RETRIEVER"), ("rerank", "RERANKER"),
                           ("embed", "EMBEDDING"), ("plan", "CHAIN"), ("toxicity", "GUARDRAIL")):
            attributes = {"openinference.span.kind": kind}
            if kind == "TOOL":
                attributes |= {"tool.name": "get_weather", "input.value": '{"city": "Paris"}', "output.value": "18C"}
            with tracer.start_as_current_span(name, attributes=attributes):
                pass
    [trace] = decode(otel)
    spans = by_name(trace)
    assert [s["kind"] for s in trace["spans"]] == ["agent", "llm", "tool", "retrieval", "retrieval", "llm",
                                                   "chain", "other"]
    assert spans["ChatOpenAI"]["model"] == "gpt-4o" and spans["ChatOpenAI"]["provider"] == "openai"
    assert spans["ChatOpenAI"]["usage"] == {"input_tokens": 120, "output_tokens": 30, "cached_tokens": 100}
    assert spans["ChatOpenAI"]["cost_usd"] == "0.0015"
    assert spans["get_weather"]["input"] == {"city": "Paris"} and spans["get_weather"]["output"] == "18C"
    assert trace["input"] == {"question": "weather?"} and trace["output"] == "Sunny"
    assert trace["tags"] == ["beta", "eu"]
    assert trace["agent_id"] == "support-service"  # no agent name: the resource's service.name


def test_error_from_status_alone_fails_the_trace(otel: Otel) -> None:
    with otel.tracer.start_as_current_span("pipeline") as span:
        span.set_status(Status(StatusCode.ERROR, "quota exceeded"))
    [trace] = decode(otel, JSON)
    assert trace["error"] == {"type": "Error", "message": "quota exceeded", "traceback": ""}
    assert trace["success"] is False


def test_exception_event_without_error_status(otel: Otel) -> None:
    with otel.tracer.start_as_current_span("pipeline") as span:
        span.record_exception(KeyError("user"))
    [trace] = decode(otel)
    assert trace["spans"][0]["error"]["type"] == "KeyError"
    assert trace["spans"][0]["error"]["message"] == "'user'"


def test_spans_are_grouped_by_trace_id(otel: Otel) -> None:
    for n in range(3):
        with otel.tracer.start_as_current_span(f"run-{n}"), otel.tracer.start_as_current_span("step"):
            pass
    traces = decode(otel)
    assert len(traces) == 3
    assert len({t["trace_id"] for t in traces}) == 3
    assert all(len(t["spans"]) == 2 for t in traces)
    assert {t["spans"][0]["name"] for t in traces} == {"run-0", "run-1", "run-2"}


def test_parent_outside_the_batch_becomes_a_root(otel: Otel) -> None:
    """A batch exported before its trace's root ended: the orphan is a root, its parent id kept."""
    with otel.tracer.start_as_current_span("root") as root:
        with otel.tracer.start_as_current_span("child"), otel.tracer.start_as_current_span("grandchild"):
            pass
    batch = [s for s in otel.spans() if s.name != "root"]
    body = encode(batch).SerializeToString()
    [trace] = decode_otlp(body, content_type=PROTOBUF)
    child, grandchild = by_name(trace)["child"], by_name(trace)["grandchild"]
    assert child["parent_id"] is None
    assert child["attributes"]["otel.parent_span_id"] == format(root.get_span_context().span_id, "016x")
    assert grandchild["parent_id"] == child["span_id"]
    assert trace["agent_id"] == "support-service"
    to_trace(trace)


def test_agent_id_falls_back_to_root_span_name() -> None:
    otel = Otel()  # the SDK's default service.name is "unknown_service"
    with otel.tracer.start_as_current_span("checkout-agent"), otel.tracer.start_as_current_span("step"):
        pass
    [trace] = decode(otel)
    assert trace["agent_id"] == "checkout-agent"
    otel.provider.shutdown()


def test_agent_name_on_a_child_span_wins(otel: Otel) -> None:
    with otel.tracer.start_as_current_span("request"):
        with otel.tracer.start_as_current_span("agent", attributes={"gen_ai.agent.name": "planner"}):
            pass
    assert decode(otel)[0]["agent_id"] == "planner"


def test_attributes_are_bounded() -> None:
    attributes = [{"key": "app.blob", "value": {"stringValue": "x" * 100_000}}]
    attributes += [{"key": f"app.key{n}", "value": {"intValue": n}} for n in range(150)]
    body = {"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174", "attributes": attributes,
    }]}]}]}
    [trace] = decode_otlp(json.dumps(body).encode(), content_type=JSON)
    kept = trace["spans"][0]["attributes"]
    assert len(kept) == 100 and "app.blob" not in kept and kept["app.key0"] == 0


def test_json_accepts_enum_names_and_numeric_strings() -> None:
    body = {"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": "5B8EFFF798038103D269B633813FC60C", "spanId": "EEE19B7EC3C1B174", "parentSpanId": "",
        "name": "chat", "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": 1700000001500000000,
        "status": {"code": "STATUS_CODE_ERROR", "message": "rate limited"},
        "attributes": [
            {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
            {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "12"}},
            {"key": "gen_ai.usage.output_tokens", "value": {"doubleValue": 3.0}},
            {"key": "app.flags", "value": {"arrayValue": {"values": [{"boolValue": True}, {}]}}},
            {"key": "app.map", "value": {"kvlistValue": {"values": [{"key": "a", "value": {"intValue": 1}}]}}},
        ],
    }]}]}]}
    [trace] = decode_otlp(json.dumps(body).encode(), content_type="application/json; charset=utf-8")
    [span] = trace["spans"]
    assert trace["trace_id"] == "5b8efff798038103d269b633813fc60c"
    assert trace["started_at"] == "2023-11-14T22:13:20.000000Z" and trace["duration_ms"] == 1500.0
    assert span["kind"] == "llm" and span["usage"] == {"input_tokens": 12, "output_tokens": 3}
    assert span["attributes"] == {"app.flags": [True, None], "app.map": {"a": 1}}
    assert trace["error"]["message"] == "rate limited"
    to_trace(trace)


@pytest.mark.parametrize(("body", "message"), [
    (b'{"resourceSpans": {}}', "resourceSpans: must be an array"),
    (b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz", "spanId": "eee19b7ec3c1b174"}]}]}]}',
     "resourceSpans[0].scopeSpans[0].spans[0].traceId: not hex"),
    (b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "5b8efff798038103d269b633813fc60c"}]}]}]}',
     "resourceSpans[0].scopeSpans[0].spans[0].spanId: must be a hex string"),
    (b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "5b8efff798038103d269b633813fc60c", '
     b'"spanId": "eee19b7ec3c1b174", "startTimeUnixNano": "soon"}]}]}]}',
     "resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano: must be a non-negative integer"),
    (b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "5b8efff798038103d269b633813fc60c", '
     b'"spanId": "eee19b7ec3c1b174", "attributes": [{"key": "k", "value": {"stringValue": 1}}]}]}]}]}',
     "resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.stringValue: wrong type int"),
    (b"[]", "$: must be an object"),
    (b"{", "not valid JSON"),
])
def test_bad_json_names_the_field(body: bytes, message: str) -> None:
    with pytest.raises(OtlpError, match="^" + re.escape(message)):
        decode_otlp(body, content_type=JSON)


def test_bad_protobuf() -> None:
    with pytest.raises(OtlpError, match="not an OTLP protobuf") as caught:
        decode_otlp(b"\x0a\xff\xff\xff", content_type=PROTOBUF)
    assert caught.value.status == 400


def test_protobuf_with_a_short_span_id() -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    request = ExportTraceServiceRequest()
    request.resource_spans.add().scope_spans.add().spans.add(trace_id=b"\x01" * 16, span_id=b"\x02" * 4)
    with pytest.raises(OtlpError, match=r"resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.spanId: must be 8 bytes"):
        decode_otlp(request.SerializeToString(), content_type=PROTOBUF)


def test_unsupported_media_and_encoding() -> None:
    with pytest.raises(OtlpError, match="Content-Type") as caught:
        decode_otlp(b"{}", content_type="text/plain")
    assert caught.value.status == 415
    with pytest.raises(OtlpError, match="Content-Encoding") as caught:
        decode_otlp(b"{}", content_type=JSON, content_encoding="br")
    assert caught.value.status == 415


def test_gzip_bomb_is_refused_without_inflating_it() -> None:
    bomb = gzip.compress(b"\0" * (MAX_BODY_BYTES + 1))
    with pytest.raises(OtlpError, match="decompresses to more than") as caught:
        decode_otlp(bomb, content_type=PROTOBUF, content_encoding="gzip")
    assert caught.value.status == 413


@pytest.mark.parametrize("body", [b"not gzip", gzip.compress(b"{}")[:-6]])
def test_bad_gzip(body: bytes) -> None:
    with pytest.raises(OtlpError, match="invalid gzip body"):
        decode_otlp(body, content_type=JSON, content_encoding="gzip")


def test_empty_request_has_no_traces() -> None:
    assert decode_otlp(b"", content_type=PROTOBUF) == []
    assert decode_otlp(b"{}", content_type=JSON) == []


def test_parent_cycles_are_cut() -> None:
    def span(span_id: str, parent: str) -> dict[str, Any]:
        return {"traceId": "5b8efff798038103d269b633813fc60c", "spanId": span_id, "parentSpanId": parent}

    body = {"resourceSpans": [{"scopeSpans": [{"spans": [
        span("aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"), span("bbbbbbbbbbbbbbbb", "aaaaaaaaaaaaaaaa"),
        span("cccccccccccccccc", "cccccccccccccccc"),
    ]}]}]}
    [trace] = decode_otlp(json.dumps(body).encode(), content_type=JSON)
    parents = {s["span_id"]: s["parent_id"] for s in trace["spans"]}
    assert list(parents.values()).count(None) == 2  # one cut in the a<->b loop, c no longer its own parent
    assert parents["cccccccccccccccc"] is None
    to_trace(trace)


def test_decoding_100_spans_keeps_every_span_under_its_root(otel: Otel) -> None:
    """How fast this decodes is measured by bench/otlp_decode.py, not asserted here."""
    tracer = otel.tracer
    with tracer.start_as_current_span("invoke_agent", attributes={"gen_ai.operation.name": "invoke_agent"}):
        for n in range(99):
            with tracer.start_as_current_span(f"chat {n}", attributes={
                "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini",
                "gen_ai.provider.name": "openai", "gen_ai.usage.input_tokens": 800 + n,
                "gen_ai.usage.output_tokens": 90, "gen_ai.request.temperature": 0.2,
                "gen_ai.input.messages": json.dumps([{"role": "user", "parts": [{"type": "text", "content": "hi"}]}]),
            }):
                pass
    [trace] = decode_otlp(otel.protobuf(), content_type=PROTOBUF)
    root, *calls = trace["spans"]
    assert len(calls) == 99 and root["name"] == "invoke_agent"
    assert {c["parent_id"] for c in calls} == {root["span_id"]}
    assert sum(c["usage"]["input_tokens"] for c in calls) == sum(800 + n for n in range(99))
