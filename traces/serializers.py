"""Output shapes of the traces API (inputs are validated by the engine's msgspec schema)."""

from __future__ import annotations

from rest_framework import serializers

from .models import Trace


class AcceptedSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the item in the request.")
    id = serializers.UUIDField(help_text="The trace's id in Arc Eval.")
    trace_id = serializers.CharField(help_text="The client's trace id (assigned when absent).")
    status = serializers.ChoiceField(["created", "duplicate"])
    url = serializers.CharField()
    analysis_url = serializers.CharField()


class RejectedSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    field = serializers.CharField(help_text="JSON path of the offending field, e.g. $.spans[0].kind")
    message = serializers.CharField()


class IngestResponseSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    rejected = serializers.IntegerField()
    traces = AcceptedSerializer(many=True)
    errors = RejectedSerializer(many=True)


class TraceSummarySerializer(serializers.ModelSerializer):
    agent = serializers.CharField(source="agent.name")
    evaluation = serializers.SerializerMethodField()

    class Meta:
        model = Trace
        fields = ["id", "trace_id", "agent", "framework", "domain", "started_at", "received_at",
                  "duration_ms", "span_count", "session_id", "user_id", "tags", "evaluation"]

    def get_evaluation(self, trace: Trace) -> dict | None:
        evaluation = getattr(trace, "evaluation", None)
        if evaluation is None:
            return None
        return {
            "status": evaluation.status,
            "success": evaluation.success,
            "score": evaluation.score,
            "grade": evaluation.grade,
            "cost_usd": None if evaluation.cost_usd is None else str(evaluation.cost_usd),
            "failure_category": evaluation.failure_category,
        }


class TraceDetailSerializer(TraceSummarySerializer):
    class Meta(TraceSummarySerializer.Meta):
        fields = [*TraceSummarySerializer.Meta.fields, "success_reported", "input", "output", "error",
                  "spans", "metadata"]


class TracePageSerializer(serializers.Serializer):
    next = serializers.CharField(allow_null=True, help_text="URL of the next (older) page")
    previous = serializers.CharField(allow_null=True)
    results = TraceSummarySerializer(many=True)


class RunGroupSerializer(serializers.Serializer):
    runs = serializers.IntegerField()
    successes = serializers.IntegerField(help_text="A team label wins over the engine's verdict")
    failures = serializers.IntegerField()
    cost_usd = serializers.DecimalField(max_digits=16, decimal_places=8, allow_null=True)
    first_run_at = serializers.DateTimeField()
    last_run_at = serializers.DateTimeField()
    run_id = serializers.UUIDField(help_text="One of its runs: GET /api/v1/traces/{run_id}")


class SessionSerializer(RunGroupSerializer):
    session_id = serializers.CharField()


class UserSerializer(RunGroupSerializer):
    user_id = serializers.CharField()


class SessionPageSerializer(serializers.Serializer):
    results = SessionSerializer(many=True)
    next_page = serializers.IntegerField(allow_null=True)


class UserPageSerializer(serializers.Serializer):
    results = UserSerializer(many=True)
    next_page = serializers.IntegerField(allow_null=True)
