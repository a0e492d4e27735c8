"""The evaluations API: a trace's analysis."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from arcweb.tenancy import get_for_org_or_404

from .models import Evaluation


class AnalysisSerializer(serializers.ModelSerializer):
    trace = serializers.UUIDField(source="trace_id")
    agent = serializers.CharField(source="agent.name")
    cost_usd = serializers.DecimalField(max_digits=14, decimal_places=8, allow_null=True, coerce_to_string=True)

    class Meta:
        model = Evaluation
        fields = ["trace", "agent", "status", "engine_version", "evaluated_at", "success", "score", "grade",
                  "cost_usd", "input_tokens", "output_tokens", "llm_calls", "tool_calls", "tool_errors",
                  "duration_ms", "error_type", "failure_category", "failure_fingerprint", "framework", "details"]


class TraceAnalysisView(APIView):
    @extend_schema(
        operation_id="get_trace_analysis",
        summary="The evaluation of a trace",
        description="status is pending until a worker has evaluated the trace.",
        responses={200: AnalysisSerializer},
        examples=[OpenApiExample("Evaluated", response_only=True, value={
            "trace": "0b7c8a0e-3f5e-4c1b-9a53-0c5d2b0c9a11", "agent": "support-bot", "status": "done",
            "engine_version": "0.1.0", "evaluated_at": "2026-11-24T10:00:05Z", "success": True, "score": 92.0,
            "grade": "A", "cost_usd": "0.00018000", "input_tokens": 812, "output_tokens": 96, "llm_calls": 1,
            "tool_calls": 1, "tool_errors": 0, "duration_ms": 4210.0, "error_type": "", "failure_category": "",
            "failure_fingerprint": "", "framework": "generic", "details": {}})],
    )
    def get(self, request, trace_id):
        evaluation = get_for_org_or_404(
            Evaluation.objects.select_related("agent"), request.auth.organisation, trace_id=trace_id
        )
        return Response(AnalysisSerializer(evaluation).data)
