"""The ingestion doors outside /api/v1/: OpenTelemetry (OTLP/HTTP, and Langfuse's path) and the roadmap's POST."""

from django.urls import path

from .api import LegacyTraceView
from .otlp_api import LangfuseOtlpTracesView, OtlpTracesView, otlp_signal_not_received

urlpatterns = [
    path("api/trace", LegacyTraceView.as_view(), name="api-trace-legacy"),
    path("v1/traces", OtlpTracesView.as_view(), name="otlp-traces"),
    path("v1/metrics", otlp_signal_not_received, {"signal": "metrics"}, name="otlp-metrics"),
    path("v1/logs", otlp_signal_not_received, {"signal": "logs"}, name="otlp-logs"),
    path("api/public/otel/v1/traces", LangfuseOtlpTracesView.as_view(), name="otlp-traces-langfuse"),
]
