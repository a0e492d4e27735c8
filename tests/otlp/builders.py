"""Real OpenTelemetry SDK spans, encoded as the OTLP/HTTP exporter would send them."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

from google.protobuf.json_format import MessageToDict
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans as encode
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer

HEX_FIELDS = ("traceId", "spanId", "parentSpanId")


class Otel:
    """A tracer whose finished spans can be encoded as OTLP protobuf or OTLP JSON bodies."""

    def __init__(self, service_name: str | None = None):
        self.exporter = InMemorySpanExporter()
        attributes = {"service.name": service_name} if service_name else {}
        self.provider = TracerProvider(resource=Resource.create(attributes))
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.tracer: Tracer = self.provider.get_tracer("tests.otlp")

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def protobuf(self, *, compress: bool = False) -> bytes:
        body = encode(self.spans()).SerializeToString()
        return gzip.compress(body) if compress else body

    def json(self, *, compress: bool = False) -> bytes:
        body = json.dumps(otlp_json(encode(self.spans()))).encode()
        return gzip.compress(body) if compress else body


def otlp_json(message: Any) -> dict[str, Any]:
    """OTLP JSON: protobuf JSON mapping with integer enums and hex (not base64) trace and span ids."""
    document = MessageToDict(message, use_integers_for_enums=True)

    def to_hex(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in HEX_FIELDS and isinstance(value, str):
                    node[key] = base64.b64decode(value).hex()
                else:
                    to_hex(value)
        elif isinstance(node, list):
            for item in node:
                to_hex(item)

    to_hex(document)
    return document
