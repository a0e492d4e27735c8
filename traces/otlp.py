"""OpenTelemetry ingestion: an OTLP/HTTP trace request turned into canonical traces (v1).

`decode_otlp` reads an ExportTraceServiceRequest in the protobuf or the JSON encoding, gzip or not,
groups its spans by trace id and maps the OpenTelemetry GenAI semantic conventions (`gen_ai.*`),
OpenInference (`openinference.*`, `llm.*`, `tool.*`, `input.*`, `output.*`) and Langfuse SDK
(`langfuse.*`) attributes onto the canonical fields. Each dict it returns is ready for
`evaluations.engine.to_trace`. Pure Python: no Django. The mapping is documented in docs/otlp.md.
"""

from __future__ import annotations

import base64
import json
import math
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from evaluations.engine.trace import MAX_SPAN_COST_USD

MAX_BODY_BYTES = 50 * 1024 * 1024  # decompressed size cap (gzip bombs)
MAX_DEPTH = 32  # nesting of array/kvlist attribute values
MAX_SPANS = 10_000  # per trace, as the canonical trace allows
MAX_ATTRIBUTES = 100  # kept per span
MAX_ATTRIBUTE_CHARS = 4096  # a bigger attribute value is dropped
TEXT, LONG_TEXT, AGENT_ID = 512, 200_000, 200  # the canonical trace's string bounds
MAX_MS = 31 * 24 * 3600 * 1000
MAX_TOKENS = 10**10
MAX_UNIX_NANO = 253_402_300_800 * 10**9  # year 10000
STATUS_CODE_ERROR = 2
PROTOBUF_TYPES = frozenset({"application/x-protobuf", "application/protobuf"})

_HEX_ID = {16: re.compile(r"[0-9a-fA-F]{32}"), 8: re.compile(r"[0-9a-fA-F]{16}")}
_INT = re.compile(r"-?[0-9]{1,20}")


class OtlpError(ValueError):
    """A request that cannot be decoded; `status` is the HTTP status to answer (400, 413 or 415)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


def decode_otlp(body: bytes, *, content_type: str, content_encoding: str = "") -> list[dict[str, Any]]:
    """The canonical traces (one per OTLP trace id) in an OTLP/HTTP ExportTraceServiceRequest."""
    encoding = content_encoding.strip().lower()
    if encoding == "gzip":
        body = _gunzip(body)
    elif encoding not in ("", "identity"):
        raise OtlpError(f"unsupported Content-Encoding {content_encoding!r}: use gzip or none", 415)
    if len(body) > MAX_BODY_BYTES:
        raise OtlpError(f"request body larger than {MAX_BODY_BYTES} bytes", 413)
    media_type = content_type.split(";")[0].strip().lower()
    if media_type in PROTOBUF_TYPES:
        spans = _spans_from_protobuf(body)
    elif media_type == "application/json":
        spans = _spans_from_json(body)
    else:
        raise OtlpError(f"unsupported Content-Type {content_type!r}: use application/x-protobuf "
                        "or application/json", 415)
    by_trace: dict[str, dict[str, _Span]] = {}
    for span in spans:
        by_trace.setdefault(span.trace_id, {}).setdefault(span.span_id, span)
    return [_trace(trace_id, list(group.values())) for trace_id, group in by_trace.items()]


def _gunzip(body: bytes) -> bytes:
    out = bytearray()
    while body:
        member = zlib.decompressobj(wbits=31)
        try:
            out += member.decompress(body, MAX_BODY_BYTES + 1 - len(out))
        except zlib.error as exc:
            raise OtlpError(f"invalid gzip body: {exc}") from None
        if len(out) > MAX_BODY_BYTES:
            raise OtlpError(f"gzip body decompresses to more than {MAX_BODY_BYTES} bytes", 413)
        if not member.eof:
            raise OtlpError("invalid gzip body: truncated")
        body = member.unused_data
    return bytes(out)


@dataclass(slots=True)
class _Span:
    """One OTLP span, decoded from either encoding; ids are lowercase hex, "" when absent."""

    trace_id: str
    span_id: str
    parent_id: str
    name: str
    start_ns: int
    end_ns: int
    attributes: dict[str, Any]
    exceptions: list[dict[str, Any]]
    genai_events: list[tuple[str, dict[str, Any]]]
    status_error: bool
    status_message: str
    resource: dict[str, Any]
    scope: str


# --- protobuf -------------------------------------------------------------------------------------

def _spans_from_protobuf(body: bytes) -> list[_Span]:
    try:
        request = ExportTraceServiceRequest.FromString(body)
    except DecodeError as exc:
        raise OtlpError(f"not an OTLP protobuf ExportTraceServiceRequest: {exc}") from None
    spans = []
    for r, resource_spans in enumerate(request.resource_spans):
        resource = _pb_attributes(resource_spans.resource.attributes, f"resourceSpans[{r}].resource")
        for s, scope_spans in enumerate(resource_spans.scope_spans):
            for n, span in enumerate(scope_spans.spans):
                path = f"resourceSpans[{r}].scopeSpans[{s}].spans[{n}]"
                spans.append(_Span(
                    trace_id=_pb_id(span.trace_id, 16, f"{path}.traceId"),
                    span_id=_pb_id(span.span_id, 8, f"{path}.spanId"),
                    parent_id=_pb_id(span.parent_span_id, 8, f"{path}.parentSpanId") if span.parent_span_id else "",
                    name=span.name,
                    start_ns=span.start_time_unix_nano,
                    end_ns=span.end_time_unix_nano,
                    attributes=_pb_attributes(span.attributes, path),
                    exceptions=[_pb_attributes(e.attributes, f"{path}.events[{i}]")
                                for i, e in enumerate(span.events) if e.name == "exception"],
                    genai_events=[(e.name, _pb_attributes(e.attributes, f"{path}.events[{i}]"))
                                  for i, e in enumerate(span.events) if e.name.startswith("gen_ai.")],
                    status_error=span.status.code == STATUS_CODE_ERROR,
                    status_message=span.status.message,
                    resource=resource,
                    scope=scope_spans.scope.name,
                ))
    return spans


def _pb_id(raw: bytes, size: int, path: str) -> str:
    if len(raw) != size:
        raise OtlpError(f"{path}: must be {size} bytes, got {len(raw)}")
    return raw.hex()


def _pb_attributes(attributes: Iterable[KeyValue], path: str, depth: int = 0) -> dict[str, Any]:
    path = f"{path}.attributes"
    return {kv.key: _pb_value(kv.value, path, depth) for kv in attributes}


def _pb_value(value: AnyValue, path: str, depth: int) -> Any:
    kind = value.WhichOneof("value")
    if kind in ("string_value", "bool_value", "int_value"):
        return getattr(value, kind)
    if kind == "double_value":
        return _finite(value.double_value)
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    if kind is not None and depth >= MAX_DEPTH:
        raise OtlpError(f"{path}: values nested more than {MAX_DEPTH} levels deep")
    if kind == "array_value":
        return [_pb_value(v, path, depth + 1) for v in value.array_value.values]
    if kind == "kvlist_value":
        return _pb_attributes(value.kvlist_value.values, path, depth + 1)
    return None


# --- JSON -----------------------------------------------------------------------------------------

def _spans_from_json(body: bytes) -> list[_Span]:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise OtlpError(f"not valid JSON: {exc}") from None
    spans = []
    for r, resource_spans in enumerate(_json_list(_json_object(document, "$"), "resourceSpans", "")):
        rpath = f"resourceSpans[{r}]"
        resource_spans = _json_object(resource_spans, rpath)
        resource = _json_object(resource_spans.get("resource") or {}, f"{rpath}.resource")
        resource_attributes = _json_attributes(resource, f"{rpath}.resource")
        for s, scope_spans in enumerate(_json_list(resource_spans, "scopeSpans", rpath)):
            spath = f"{rpath}.scopeSpans[{s}]"
            scope_spans = _json_object(scope_spans, spath)
            scope = _json_object(scope_spans.get("scope") or {}, f"{spath}.scope")
            for n, span in enumerate(_json_list(scope_spans, "spans", spath)):
                spans.append(_json_span(_json_object(span, f"{spath}.spans[{n}]"), f"{spath}.spans[{n}]",
                                        resource_attributes, _json_str(scope, "name", f"{spath}.scope")))
    return spans


def _json_span(span: dict[str, Any], path: str, resource: dict[str, Any], scope: str) -> _Span:
    status = _json_object(span.get("status") or {}, f"{path}.status")
    code = status.get("code")
    if not (code is None or code in ("STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR")
            or (type(code) is int and 0 <= code <= 2)):
        raise OtlpError(f"{path}.status.code: must be 0, 1, 2 or a STATUS_CODE_* name")
    exceptions, genai_events = [], []
    for i, event in enumerate(_json_list(span, "events", path)):
        event = _json_object(event, f"{path}.events[{i}]")
        name = _json_str(event, "name", f"{path}.events[{i}]")
        if name == "exception":
            exceptions.append(_json_attributes(event, f"{path}.events[{i}]"))
        elif name.startswith("gen_ai."):
            genai_events.append((name, _json_attributes(event, f"{path}.events[{i}]")))
    parent = span.get("parentSpanId")
    return _Span(
        trace_id=_json_id(span.get("traceId"), 16, f"{path}.traceId"),
        span_id=_json_id(span.get("spanId"), 8, f"{path}.spanId"),
        parent_id=_json_id(parent, 8, f"{path}.parentSpanId") if parent else "",
        name=_json_str(span, "name", path),
        start_ns=_json_int(span.get("startTimeUnixNano"), f"{path}.startTimeUnixNano", signed=False),
        end_ns=_json_int(span.get("endTimeUnixNano"), f"{path}.endTimeUnixNano", signed=False),
        attributes=_json_attributes(span, path),
        exceptions=exceptions,
        genai_events=genai_events,
        status_error=code in (STATUS_CODE_ERROR, "STATUS_CODE_ERROR"),
        status_message=_json_str(status, "message", f"{path}.status"),
        resource=resource,
        scope=scope,
    )


def _json_object(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise OtlpError(f"{path}: must be an object")
    return value


def _json_list(parent: dict[str, Any], key: str, path: str) -> list[Any]:
    value = parent.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise OtlpError(f"{path}.{key}".lstrip(".") + ": must be an array")
    return value


def _json_str(parent: dict[str, Any], key: str, path: str) -> str:
    value = parent.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise OtlpError(f"{path}.{key}: must be a string")
    return value


def _json_id(value: Any, size: int, path: str) -> str:
    if not isinstance(value, str):
        raise OtlpError(f"{path}: must be a hex string of {size * 2} characters")
    if not _HEX_ID[size].fullmatch(value):
        raise OtlpError(f"{path}: not hex of {size * 2} characters")
    return value.lower()


def _json_int(value: Any, path: str, *, signed: bool = True) -> int:
    if value is None:
        return 0
    if type(value) is int or (isinstance(value, str) and _INT.fullmatch(value)):
        number = int(value)
        if signed or number >= 0:
            return number
    raise OtlpError(f"{path}: must be {'an' if signed else 'a non-negative'} integer or a decimal string")


def _json_attributes(parent: dict[str, Any], path: str, depth: int = 0, key: str = "attributes") -> dict[str, Any]:
    attributes = {}
    for i, item in enumerate(_json_list(parent, key, path)):
        item = _json_object(item, f"{path}.{key}[{i}]")
        name = item.get("key")
        if not isinstance(name, str):
            raise OtlpError(f"{path}.{key}[{i}].key: must be a string")
        attributes[name] = _json_value(item.get("value"), f"{path}.{key}[{i}].value", depth)
    return attributes


def _json_value(value: Any, path: str, depth: int) -> Any:
    if value is None:
        return None
    value = _json_object(value, path)
    if depth >= MAX_DEPTH and ("arrayValue" in value or "kvlistValue" in value):
        raise OtlpError(f"{path}: values nested more than {MAX_DEPTH} levels deep")
    for key, raw in value.items():
        if key == "stringValue" and isinstance(raw, str) or key == "boolValue" and isinstance(raw, bool):
            return raw
        if key == "intValue":
            return _json_int(raw, f"{path}.intValue")
        if key == "doubleValue" and raw in ("NaN", "Infinity", "-Infinity"):
            return raw
        if key == "doubleValue" and isinstance(raw, int | float) and not isinstance(raw, bool):
            return _finite(float(raw))
        if key == "bytesValue" and isinstance(raw, str):
            return raw
        if key == "arrayValue":
            array = _json_object(raw, f"{path}.arrayValue")
            return [_json_value(v, f"{path}.arrayValue.values[{i}]", depth + 1)
                    for i, v in enumerate(_json_list(array, "values", f"{path}.arrayValue"))]
        if key == "kvlistValue":
            return _json_attributes(_json_object(raw, f"{path}.kvlistValue"), f"{path}.kvlistValue",
                                    depth + 1, "values")
        if key in ("stringValue", "boolValue", "doubleValue", "bytesValue"):
            raise OtlpError(f"{path}.{key}: wrong type {type(raw).__name__}")
    return None


def _finite(number: float) -> float | str:
    """Non-finite doubles become their OTLP JSON names: stored traces are plain JSON."""
    if math.isfinite(number):
        return number
    return "NaN" if math.isnan(number) else ("Infinity" if number > 0 else "-Infinity")


# --- mapping --------------------------------------------------------------------------------------

LANGFUSE_KINDS = {"generation": "llm", "embedding": "llm", "agent": "agent", "tool": "tool", "chain": "chain",
                  "retriever": "retrieval", "evaluator": "other", "guardrail": "other", "event": "other"}
OPENINFERENCE_KINDS = {"LLM": "llm", "EMBEDDING": "llm", "TOOL": "tool", "RETRIEVER": "retrieval",
                       "RERANKER": "retrieval", "AGENT": "agent", "CHAIN": "chain", "GUARDRAIL": "other",
                       "EVALUATOR": "other", "PROMPT": "other", "UNKNOWN": "other"}
TRACELOOP_KINDS = {"workflow": "chain", "task": "chain", "agent": "agent", "tool": "tool"}
GENAI_KINDS = {"chat": "llm", "text_completion": "llm", "generate_content": "llm", "embeddings": "llm",
               "execute_tool": "tool", "invoke_agent": "agent", "create_agent": "agent",
               "retrieval": "retrieval", "invoke_workflow": "chain"}
LLM_REQUEST_TYPES = frozenset({"chat", "completion", "embedding", "rerank"})  # OpenLLMetry's llm.request.type

KIND_KEYS = ("langfuse.observation.type", "openinference.span.kind", "traceloop.span.kind", "gen_ai.operation.name")
MODEL_KEYS = ("gen_ai.response.model", "gen_ai.request.model", "llm.response.model_name", "llm.model_name",
              "llm.request.model_name", "langfuse.observation.model.name", "embedding.model_name")
PROVIDER_KEYS = ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system")
TOOL_NAME_KEYS = ("gen_ai.tool.name", "tool.name", "traceloop.entity.name")
TRACELOOP_INPUT, TRACELOOP_OUTPUT = "traceloop.entity.input", "traceloop.entity.output"
# The older GenAI conventions put the whole prompt / completion, JSON-encoded, in gen_ai.prompt / gen_ai.completion.
INPUT_KEYS = ("langfuse.observation.input", "input.value", TRACELOOP_INPUT, "gen_ai.tool.call.arguments",
              "gen_ai.input.messages", "gen_ai.prompt")
OUTPUT_KEYS = ("langfuse.observation.output", "output.value", TRACELOOP_OUTPUT, "gen_ai.tool.call.result",
               "gen_ai.output.messages", "gen_ai.completion")
# Messages flattened into indexed attributes: OpenLLMetry's gen_ai.prompt.0.role, OpenInference's
# llm.input_messages.0.message.content (used when no whole-value attribute above is present).
INDEXED_INPUT, INDEXED_OUTPUT = ("gen_ai.prompt", "llm.input_messages"), ("gen_ai.completion", "llm.output_messages")
# Span events of the GenAI conventions that carry content: (input attribute, output attribute) per event name.
CONTENT_EVENTS = {"gen_ai.client.inference.operation.details": ("gen_ai.input.messages", "gen_ai.output.messages"),
                  "gen_ai.content.prompt": ("gen_ai.prompt", None), "gen_ai.content.completion": (None, "gen_ai.completion")}
MESSAGE_EVENTS = {"gen_ai.system.message": "system", "gen_ai.user.message": "user",
                  "gen_ai.assistant.message": "assistant", "gen_ai.tool.message": "tool"}
CHOICE_EVENT = "gen_ai.choice"
USAGE_KEYS = {
    "input_tokens": ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.token_count.prompt"),
    "output_tokens": ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens", "llm.token_count.completion"),
    "cached_tokens": ("gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens",
                      "llm.token_count.prompt_details.cache_read"),
}
LANGFUSE_USAGE = "langfuse.observation.usage_details"
LANGFUSE_USAGE_KEYS = {
    "input_tokens": ("input", "input_tokens", "prompt_tokens"),
    "output_tokens": ("output", "output_tokens", "completion_tokens"),
    "cached_tokens": ("cache_read_input_tokens", "input_cached_tokens", "input_cache_read", "cached_tokens"),
}
LANGFUSE_COST = "langfuse.observation.cost_details"
COST_KEYS = ("llm.cost.total", "gen_ai.usage.cost")
AGENT_KEYS = ("gen_ai.agent.name", "agent.name")
LANGFUSE_TRACE_NAME = "langfuse.trace.name"
SESSION_KEYS = ("session.id", "langfuse.session.id", "gen_ai.conversation.id")
USER_KEYS = ("user.id", "langfuse.user.id", "langfuse.trace.user_id")
TAG_KEYS = ("langfuse.trace.tags", "tag.tags")
TRACE_INPUT, TRACE_OUTPUT = "langfuse.trace.input", "langfuse.trace.output"
LANGFUSE_LEVEL, LANGFUSE_STATUS = "langfuse.observation.level", "langfuse.observation.status_message"
LANGFUSE_TRACE_METADATA = "langfuse.trace.metadata"
MAPPED = frozenset({
    *KIND_KEYS, *MODEL_KEYS, *PROVIDER_KEYS, *TOOL_NAME_KEYS, *INPUT_KEYS, *OUTPUT_KEYS, LANGFUSE_USAGE,
    LANGFUSE_COST, *COST_KEYS, *(k for keys in USAGE_KEYS.values() for k in keys), *AGENT_KEYS,
    LANGFUSE_TRACE_NAME, *SESSION_KEYS, *USER_KEYS, *TAG_KEYS, TRACE_INPUT, TRACE_OUTPUT, LANGFUSE_STATUS,
})
_INDEXED_KEY = re.compile(r"(?:gen_ai\.prompt|gen_ai\.completion|llm\.input_messages|llm\.output_messages)\.\d+\.")
_INDEXED_FIELD = re.compile(r"(?P<i>\d+)\.(?:message\.)?(?P<field>.+)")
_INDEXED_CALL = re.compile(r"tool_calls\.(?P<j>\d+)\.(?:tool_call\.)?(?:function\.)?(?P<field>name|arguments|id)")
MESSAGE_FIELDS = ("role", "content", "finish_reason", "name", "tool_call_id")


def _trace(trace_id: str, spans: list[_Span]) -> dict[str, Any]:
    spans.sort(key=lambda s: s.start_ns)
    ids = {s.span_id for s in spans}
    parents = {s.span_id: s.parent_id if s.parent_id in ids else None for s in spans}
    _break_cycles(parents)
    with_children = set(parents.values())
    root = next((s for s in spans if not s.parent_id), None) or next(s for s in spans if parents[s.span_id] is None)
    ordered = [root, *(s for s in spans if s is not root)]
    kept = ordered[:MAX_SPANS]
    canonical = [_span(s, parents[s.span_id], s.span_id in with_children) for s in kept]
    root_span = canonical[0]
    canonical = [c for _, c in sorted(zip(kept, canonical, strict=True), key=lambda pair: pair[0].start_ns)]
    is_langfuse = any(s.scope == "langfuse-sdk" or any(k.startswith("langfuse.") for k in s.attributes)
                      for s in spans)
    starts = [s.start_ns for s in spans if 0 < s.start_ns < MAX_UNIX_NANO]
    trace: dict[str, Any] = {
        "trace_id": trace_id,
        "agent_id": _agent_id(root, ordered, is_langfuse),
        "started_at": _iso(min(starts, default=0)),
        "duration_ms": _duration_ms(root.start_ns, root.end_ns) if not root.parent_id
        else _duration_ms(min(starts, default=0), max(s.end_ns for s in spans)),
        "input": _json_or_text(_first(ordered, (TRACE_INPUT,))) or root_span["input"],
        "output": _json_or_text(_first(ordered, (TRACE_OUTPUT,))) or root_span["output"],
        "spans": canonical,
        "session_id": _text(_first(ordered, SESSION_KEYS)),
        "user_id": _text(_first(ordered, USER_KEYS)),
        "tags": _tags(_first(ordered, TAG_KEYS)),
        "metadata": {**_trace_metadata(ordered), "source": "langfuse" if is_langfuse else "otlp",
                     "resource": _bounded(root.resource)},
    }
    if trace["output"] is None:
        # nothing recorded the run's answer (content capture is off by default in most instrumentations):
        # "output not recorded" is no evidence of failure, unlike an agent that answered with nothing
        trace["metadata"]["output_recorded"] = False
    if root_span["error"] is not None:
        trace["success"] = False
        trace["error"] = root_span["error"]
    if len(spans) > MAX_SPANS:
        trace["metadata"]["spans_dropped"] = len(spans) - MAX_SPANS
    return trace


def _break_cycles(parents: dict[str, str | None]) -> None:
    """Cut parent links that loop, so every span leads up to a root."""
    reaches_root: set[str] = set()
    for span_id in parents:
        path: set[str] = set()
        current: str | None = span_id
        while current is not None and current not in reaches_root and current not in path:
            path.add(current)
            current = parents[current]
        if current is not None and current in path:
            parents[current] = None
        reaches_root.update(path)


def _span(span: _Span, parent_id: str | None, has_children: bool) -> dict[str, Any]:
    attributes = span.attributes
    kind = _kind(attributes, has_children)
    tool_name = _text(_first_of(attributes, TOOL_NAME_KEYS)) if kind == "tool" else None
    kept = _bounded(attributes)
    if parent_id is None and span.parent_id:
        kept["otel.parent_span_id"] = span.parent_id  # the parent is in another request
    return {
        "span_id": span.span_id,
        "parent_id": parent_id,
        "kind": kind,
        "name": tool_name or span.name[:TEXT],
        "started_at": _iso(span.start_ns),
        "duration_ms": _duration_ms(span.start_ns, span.end_ns),
        "input": _content(span, INPUT_KEYS, INDEXED_INPUT, 0),
        "output": _content(span, OUTPUT_KEYS, INDEXED_OUTPUT, 1),
        "error": _error(span),
        "model": _text(_first_of(attributes, MODEL_KEYS)),
        "provider": _text(_first_of(attributes, PROVIDER_KEYS)),
        "usage": _usage(attributes),
        "cost_usd": _cost(attributes),
        "attributes": kept,
    }


def _kind(attributes: dict[str, Any], has_children: bool) -> str:
    langfuse_type = attributes.get("langfuse.observation.type")
    if langfuse_type == "span":
        return "chain" if has_children else "other"
    for table, key in zip((LANGFUSE_KINDS, OPENINFERENCE_KINDS, TRACELOOP_KINDS, GENAI_KINDS), KIND_KEYS,
                          strict=True):
        value = attributes.get(key)
        if isinstance(value, str) and value in table:
            return table[value]
    if _first_of(attributes, MODEL_KEYS) is not None or attributes.get("llm.request.type") in LLM_REQUEST_TYPES:
        return "llm"
    if _first_of(attributes, TOOL_NAME_KEYS) is not None:
        return "tool"
    return "other"


def _content(span: _Span, keys: tuple[str, ...], indexed: tuple[str, ...], side: int) -> Any:
    """A span's input (side 0) or output (side 1): a whole-value attribute, else indexed message attributes,
    else the GenAI content events."""
    attributes = span.attributes
    key = next((k for k in keys if attributes.get(k) not in (None, "")), None)
    if key is not None:
        value = _json_or_text(attributes[key])
        return _traceloop_call(value) if key == TRACELOOP_INPUT else value
    for prefix in indexed:
        if messages := _indexed_messages(attributes, prefix):
            return messages
    return _event_content(span.genai_events, side)


def _traceloop_call(value: Any) -> Any:
    """OpenLLMetry records a call as {"args": [...], "kwargs": {...}}: the single argument, or the keywords."""
    if isinstance(value, dict) and set(value) == {"args", "kwargs"}:
        args, kwargs = value["args"], value["kwargs"]
        if isinstance(args, list) and isinstance(kwargs, dict):
            if len(args) == 1 and not kwargs:
                return args[0]
            if not args:
                return kwargs
    return value


def _indexed_messages(attributes: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    """Messages from `prefix.<i>.role`, `prefix.<i>.content`, `prefix.<i>.tool_calls.<j>.name`, ... attributes."""
    messages: dict[int, dict[str, Any]] = {}
    start = prefix + "."
    for key, value in attributes.items():
        match = _INDEXED_FIELD.fullmatch(key[len(start):]) if key.startswith(start) else None
        if match is None:
            continue
        message = messages.setdefault(int(match["i"]), {})
        if call := _INDEXED_CALL.fullmatch(match["field"]):
            message.setdefault("tool_calls", {}).setdefault(int(call["j"]), {})[call["field"]] = value
        elif match["field"] in MESSAGE_FIELDS:
            message[match["field"]] = value
    for message in messages.values():
        if "tool_calls" in message:
            message["tool_calls"] = [message["tool_calls"][j] for j in sorted(message["tool_calls"])]
    return [messages[i] for i in sorted(messages)]


def _event_content(events: list[tuple[str, dict[str, Any]]], side: int) -> Any:
    """Input or output from GenAI span events: the operation-details event, the older prompt/completion
    events, or one event per message (gen_ai.user.message, ..., gen_ai.choice)."""
    messages = []
    for name, attributes in events:
        if name in CONTENT_EVENTS and (key := CONTENT_EVENTS[name][side]) and attributes.get(key) not in (None, ""):
            return _json_or_text(attributes[key])
        role = MESSAGE_EVENTS.get(name) if side == 0 else ("assistant" if name == CHOICE_EVENT else None)
        if role is not None:
            body = _json_dict(attributes.get("gen_ai.event.content")) or {
                k: _json_or_text(v) for k, v in attributes.items() if k in (*MESSAGE_FIELDS, "message", "tool_calls")}
            messages.append({"role": role, **body})
    return messages or None


def _error(span: _Span) -> dict[str, str] | None:
    level_error = span.attributes.get(LANGFUSE_LEVEL) == "ERROR"
    if not (span.status_error or span.exceptions or level_error):
        return None
    event = span.exceptions[-1] if span.exceptions else {}
    message = event.get("exception.message") or span.status_message or span.attributes.get(LANGFUSE_STATUS)
    return {"type": _str(event.get("exception.type"))[:TEXT] or "Error",
            "message": _str(message)[:LONG_TEXT],
            "traceback": _str(event.get("exception.stacktrace"))[:LONG_TEXT]}


def _usage(attributes: dict[str, Any]) -> dict[str, int] | None:
    langfuse = _json_dict(attributes.get(LANGFUSE_USAGE))
    usage = {}
    for field, keys in USAGE_KEYS.items():
        count = _first_count(attributes, keys)
        if count is None:
            count = _first_count(langfuse, LANGFUSE_USAGE_KEYS[field])
        if count is not None:
            usage[field] = count
    return usage or None


def _cost(attributes: dict[str, Any]) -> str | None:
    """USD as a decimal string: Langfuse's cost_details total (else the sum of its parts), else llm.cost.total."""
    langfuse = _json_dict(attributes.get(LANGFUSE_COST))
    if _is_amount(langfuse.get("total")):
        amounts = [langfuse["total"]]
    else:
        amounts = [v for v in langfuse.values() if _is_amount(v)]
    if not amounts:
        amounts = [v for v in map(attributes.get, COST_KEYS) if _is_amount(v)][:1]
    total = sum(Decimal(repr(v)) for v in amounts)
    # An amount no call can cost (past the canonical trace's bound) is left out, like any other unusable value.
    return str(total) if amounts and total <= MAX_SPAN_COST_USD else None


def _agent_id(root: _Span, ordered: list[_Span], is_langfuse: bool) -> str:
    service = root.resource.get("service.name")
    candidates = [
        _first(ordered, AGENT_KEYS),
        _first(ordered, (LANGFUSE_TRACE_NAME,)) if is_langfuse else None,
        root.name if is_langfuse else None,
        service if isinstance(service, str) and not service.startswith("unknown_service") else None,
        root.name,
    ]
    return next((c.strip()[:AGENT_ID] for c in candidates if isinstance(c, str) and c.strip()), "unknown")


def _trace_metadata(ordered: list[_Span]) -> dict[str, Any]:
    """Langfuse trace metadata (`langfuse.trace.metadata.<key>`, each value JSON-encoded by the SDK)."""
    metadata: dict[str, Any] = {}
    for span in ordered:
        for key, value in span.attributes.items():
            if key.startswith(LANGFUSE_TRACE_METADATA):
                name = key[len(LANGFUSE_TRACE_METADATA) + 1:] or "metadata"
                metadata.setdefault(name, _json_or_text(value))
    return _bounded(metadata)


def _tags(value: Any) -> list[str]:
    value = _json_or_text(value)
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list):
        return []
    tags = (t.strip()[:TEXT] for t in value if isinstance(t, str) and t.strip())
    return list(dict.fromkeys(tags))[:100]


def _bounded(attributes: dict[str, Any]) -> dict[str, Any]:
    """At most MAX_ATTRIBUTES of the attributes not mapped elsewhere, without huge keys or values."""
    kept: dict[str, Any] = {}
    for key, value in attributes.items():
        if len(kept) >= MAX_ATTRIBUTES:
            break
        if key in MAPPED or key.startswith(LANGFUSE_TRACE_METADATA) or len(key) > TEXT or _INDEXED_KEY.match(key):
            continue
        if isinstance(value, str):
            small = len(value) <= MAX_ATTRIBUTE_CHARS
        else:
            small = not isinstance(value, list | dict) or len(json.dumps(value)) <= MAX_ATTRIBUTE_CHARS
        if small:
            kept[key] = value
    return kept


# --- small helpers --------------------------------------------------------------------------------

def _first_of(attributes: dict[str, Any], keys: Iterable[str]) -> Any:
    """The first present, non-empty value among `keys`."""
    for key in keys:
        value = attributes.get(key)
        if value is not None and value != "":
            return value
    return None


def _first(spans: list[_Span], keys: tuple[str, ...]) -> Any:
    for span in spans:
        value = _first_of(span.attributes, keys)
        if value is not None:
            return value
    return None


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _text(value: Any) -> str | None:
    if type(value) is int:
        value = str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()[:TEXT]
    return None


def _first_count(mapping: dict[str, Any], keys: tuple[str, ...]) -> int | None:
    """The first value among `keys` that is a token count (a whole number in the canonical bounds)."""
    for key in keys:
        value = mapping.get(key)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if type(value) is int and 0 <= value <= MAX_TOKENS:
            return value
    return None


def _is_amount(value: Any) -> bool:
    return type(value) in (int, float) and math.isfinite(value) and 0 <= value <= MAX_SPAN_COST_USD


def _reject_constant(name: str) -> None:
    raise ValueError(name)


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(text)
    return number


def _json_or_text(value: Any) -> Any:
    """A string holding a JSON object, array or string is parsed (if it is plain, finite JSON); else as is."""
    if not isinstance(value, str) or value.lstrip()[:1] not in ("{", "[", '"'):
        return value
    try:
        return json.loads(value, parse_constant=_reject_constant, parse_float=_finite_float)
    except (ValueError, RecursionError):
        return value


def _json_dict(value: Any) -> dict[str, Any]:
    value = _json_or_text(value)
    return value if isinstance(value, dict) else {}


def _iso(unix_nano: int) -> str | None:
    if not 0 < unix_nano < MAX_UNIX_NANO:
        return None
    seconds, nanos = divmod(unix_nano, 10**9)
    moment = datetime.fromtimestamp(seconds, UTC).replace(microsecond=nanos // 1000)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _duration_ms(start_ns: int, end_ns: int) -> float | None:
    if start_ns <= 0 or end_ns < start_ns or (end_ns - start_ns) / 1e6 > MAX_MS:
        return None
    return (end_ns - start_ns) / 1e6
