"""The OpenTelemetry doors: OTLP/HTTP at /v1/traces, and the Langfuse SDK's /api/public/otel/v1/traces.

/v1/metrics and /v1/logs answer a JSON 404 that says only traces are received, so an exporter or collector
configured with one endpoint for every signal gets a clear reason instead of an HTML page."""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from rest_framework.response import Response
from rest_framework.views import APIView

from arcweb.errors import error_body

from .http import read_body
from .ingest import ingest_traces
from .otlp import PROTOBUF_TYPES, OtlpError, decode_otlp


def export_response(content_type: str, rejected: int, message: str) -> HttpResponse:
    """An ExportTraceServiceResponse in the request's encoding (partial success when spans were refused)."""
    reply = ExportTraceServiceResponse()
    if rejected:
        reply.partial_success.rejected_spans = rejected
        reply.partial_success.error_message = message[:1000]
    if content_type in PROTOBUF_TYPES:
        return HttpResponse(reply.SerializeToString(), content_type="application/x-protobuf")
    from google.protobuf.json_format import MessageToJson

    return HttpResponse(MessageToJson(reply), content_type="application/json")


class OtlpTracesView(APIView):
    """Accepts OTLP/HTTP trace exports (protobuf or JSON, gzip or not) with an Arc API key as Bearer
    token, X-API-Key, or HTTP Basic password (the Langfuse SDK's way)."""

    ingest_allowed = True
    parser_classes: list = []

    @extend_schema(
        operation_id="otlp_export_traces",
        summary="OTLP/HTTP trace export",
        description="An ExportTraceServiceRequest (application/x-protobuf or application/json). Spans are "
                    "grouped into canonical traces by trace id; spans of one trace sent in several requests "
                    "are merged. gen_ai.*, OpenInference and langfuse.* attributes are mapped (docs/otlp.md).",
        request={"application/x-protobuf": OpenApiTypes.BINARY, "application/json": OpenApiTypes.OBJECT},
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request):
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        raw = read_body(request, inflate_gzip=False)
        try:
            traces = decode_otlp(raw, content_type=content_type,
                                 content_encoding=request.META.get("HTTP_CONTENT_ENCODING", ""))
        except OtlpError as exc:
            return Response(error_body("invalid_otlp", exc.message), status=exc.status)
        result = ingest_traces(organisation=request.auth.organisation, payloads=traces, merge_spans=True)
        rejected = sum(len(traces[r.index].get("spans") or []) or 1 for r in result.rejected)
        message = "; ".join(f"trace {r.index}: {r.field}: {r.message}" for r in result.rejected)
        return export_response(content_type, rejected, message)


class LangfuseOtlpTracesView(OtlpTracesView):
    """The Langfuse SDK's endpoint: point LANGFUSE_HOST here, with an Arc API key as the secret key."""

    @extend_schema(operation_id="langfuse_otel_traces", summary="Langfuse SDK door (OTLP/HTTP, Basic auth)",
                   request={"application/x-protobuf": OpenApiTypes.BINARY, "application/json": OpenApiTypes.OBJECT},
                   responses={200: OpenApiTypes.OBJECT})
    def post(self, request):
        return super().post(request)


@csrf_exempt
def otlp_signal_not_received(request, signal: str) -> JsonResponse:
    message = (f"Arc Eval receives OpenTelemetry traces only (POST /v1/traces); {signal} are not stored. "
               f"Point the {signal} exporter elsewhere or turn it off (OTEL_{signal.upper()}_EXPORTER=none).")
    return JsonResponse(error_body("signal_not_supported", message), status=404)
