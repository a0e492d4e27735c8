"""Property tests: any body gives canonical traces or an OtlpError, never another exception."""

from __future__ import annotations

import gzip
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evaluations.engine import to_trace
from traces.otlp import MAPPED, OtlpError, decode_otlp

from .builders import Otel

TYPES = ["application/x-protobuf", "application/json"]
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def decode_or_refuse(body: bytes, content_type: str, content_encoding: str = "") -> list[dict[str, Any]]:
    try:
        traces = decode_otlp(body, content_type=content_type, content_encoding=content_encoding)
    except OtlpError as exc:
        assert exc.message and exc.status in (400, 413, 415)
        return []
    assert isinstance(traces, list)
    for trace in traces:
        to_trace(trace)
        json.dumps(trace, allow_nan=False)  # plain JSON: storable as it is
    return traces


@FUZZ
@given(body=st.binary(max_size=2048), content_type=st.sampled_from(TYPES), gzip_it=st.booleans())
def test_any_bytes(body: bytes, content_type: str, gzip_it: bool) -> None:
    decode_or_refuse(gzip.compress(body) if gzip_it else body, content_type, "gzip" if gzip_it else "")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=30,
)


@FUZZ
@given(document=json_values)
def test_any_json(document: Any) -> None:
    decode_or_refuse(json.dumps(document).encode(), "application/json")


hex_ids = st.sampled_from(["aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb", "cccccccccccccccc", "DDDDDDDDDDDDDDDD"])
nanos = st.integers(0, 2**64 - 1) | st.integers(1_600_000_000 * 10**9, 1_900_000_000 * 10**9)
scalars = (st.builds(lambda v: {"stringValue": v}, st.text(max_size=30) | st.sampled_from(
    ["chat", "execute_tool", "invoke_agent", "LLM", "TOOL", "generation", "span", "ERROR", "{\"input\": 5}",
     '["a", "b"]', '{"total": 0.5}', '"quoted"', "[1e999]", "NaN"]))
           | st.builds(lambda v: {"intValue": str(v)}, st.integers(-(2**63), 2**63 - 1))
           | st.builds(lambda v: {"doubleValue": v}, st.floats() | st.sampled_from(["NaN", "-Infinity"]))
           | st.builds(lambda v: {"boolValue": v}, st.booleans())
           | st.just({}))
any_values = st.recursive(scalars, lambda inner: st.builds(lambda vs: {"arrayValue": {"values": vs}},
                                                           st.lists(inner, max_size=3))
                          | st.builds(lambda kv: {"kvlistValue": {"values": [{"key": k, "value": v}
                                                                             for k, v in kv.items()]}},
                                      st.dictionaries(st.text(max_size=8), inner, max_size=3)), max_leaves=8)
attribute_keys = st.sampled_from(sorted(MAPPED) + ["langfuse.observation.level", "langfuse.trace.metadata.x",
                                                   "service.name", "app.custom"])
attributes = st.dictionaries(attribute_keys, any_values, max_size=8).map(
    lambda d: [{"key": k, "value": v} for k, v in d.items()])
spans = st.fixed_dictionaries({
    "traceId": st.sampled_from(["5b8efff798038103d269b633813fc60c", "0af7651916cd43dd8448eb211c80319c"]),
    "spanId": hex_ids,
    "parentSpanId": hex_ids | st.just(""),
    "name": st.text(max_size=600),
    "startTimeUnixNano": nanos.map(str),
    "endTimeUnixNano": nanos,
    "attributes": attributes,
    "status": st.fixed_dictionaries({"code": st.sampled_from([0, 1, 2, "STATUS_CODE_ERROR"]),
                                     "message": st.text(max_size=20)}),
    "events": st.lists(st.fixed_dictionaries({"name": st.sampled_from(["exception", "log"]),
                                              "attributes": attributes}), max_size=2),
})
requests = st.lists(spans, max_size=8).flatmap(lambda ss: st.fixed_dictionaries({"resourceSpans": st.just([{
    "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]},
    "scopeSpans": [{"scope": {"name": "langfuse-sdk"}, "spans": ss}],
}])}))


@FUZZ
@given(request=requests)
def test_well_formed_requests_always_give_valid_traces(request: dict[str, Any]) -> None:
    span_count = sum(len(s["spans"]) for rs in request["resourceSpans"] for s in rs["scopeSpans"])
    traces = decode_or_refuse(json.dumps(request).encode(), "application/json")
    assert span_count == 0 or traces
    for trace in traces:
        assert sum(s["parent_id"] is None for s in trace["spans"]) >= 1


def real_protobuf_body() -> bytes:
    otel = Otel("svc")
    with otel.tracer.start_as_current_span("agent", attributes={"gen_ai.agent.name": "a", "x": [1, 2]}):
        with otel.tracer.start_as_current_span("chat", attributes={"gen_ai.usage.input_tokens": 5}) as span:
            span.record_exception(ValueError("v"))
    body = otel.protobuf()
    otel.provider.shutdown()
    return body


REAL_BODY = real_protobuf_body()


@FUZZ
@given(edits=st.lists(st.tuples(st.integers(0, len(REAL_BODY) - 1), st.integers(0, 255)), min_size=1, max_size=6))
def test_corrupted_protobuf(edits: list[tuple[int, int]]) -> None:
    body = bytearray(REAL_BODY)
    for position, byte in edits:
        body[position] = byte
    decode_or_refuse(bytes(body), "application/x-protobuf")
