"""The evaluations API: analysis, scenarios, improvements, feedback, agents, baselines, compare, patterns."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from arcweb import windows
from arcweb.errors import error_body
from arcweb.tenancy import get_for_org_or_404

from . import figures, patterns, selectors, services
from .feedback import InvalidFeedback, add_feedback
from .models import Baseline, Evaluation, FailurePattern, Feedback
from .views import attachment

WINDOW_PARAM = OpenApiParameter("window", str, description="24h, 7d, 30d (1h to 400d); default 7d")


def evaluation_of(request, trace_id) -> Evaluation:
    return get_for_org_or_404(Evaluation.objects.select_related("agent", "trace"), request.auth.organisation,
                              trace_id=trace_id)


def agent_of(request, ident: str):
    agent = selectors.find_agent(request.auth.organisation, ident)
    if agent is None:
        raise exceptions.NotFound("No such agent.")
    return agent


class ToolSummarySerializer(serializers.Serializer):
    name = serializers.CharField()
    calls = serializers.IntegerField()
    failures = serializers.IntegerField()
    unknown_calls = serializers.IntegerField()
    invalid_calls = serializers.IntegerField()
    p50_ms = serializers.FloatField(allow_null=True)


class AnalysisSerializer(serializers.ModelSerializer):
    trace = serializers.UUIDField(source="trace_id")
    agent = serializers.CharField(source="agent.name")
    cost_usd = serializers.DecimalField(max_digits=14, decimal_places=8, allow_null=True)
    verdict = serializers.BooleanField(allow_null=True)
    tools = serializers.SerializerMethodField()

    @extend_schema_field(ToolSummarySerializer(many=True))
    def get_tools(self, evaluation) -> list:
        """Per tool: calls, failures, unknown-tool and invalid-argument calls, p50 latency."""
        details = evaluation.details if isinstance(evaluation.details, dict) else {}
        return details.get("tools") or []

    class Meta:
        model = Evaluation
        fields = ["trace", "agent", "status", "engine_version", "evaluated_at", "verdict", "success",
                  "label_success", "score", "grade", "cost_usd", "unpriced", "input_tokens", "output_tokens",
                  "llm_calls", "tool_calls", "tool_errors", "tools", "duration_ms", "llm_ms", "tool_ms", "error_type",
                  "failure_category", "failure_fingerprint", "framework", "compliance_findings",
                  "compliance_passed", "details"]


class TraceAnalysisView(APIView):
    @extend_schema(
        operation_id="get_trace_analysis", summary="The evaluation of a trace",
        description="Score and grade with each factor, cost per span with savings, framework detection, issues, "
                    "tool accuracy, compliance findings (masked) and fixes. status is pending until evaluated.",
        responses={200: AnalysisSerializer},
        examples=[OpenApiExample("Evaluated", response_only=True, value={
            "trace": "0b7c8a0e-3f5e-4c1b-9a53-0c5d2b0c9a11", "agent": "support-bot", "status": "done",
            "engine_version": "0.2.0", "verdict": False, "success": False, "label_success": None, "score": 41.0,
            "grade": "F", "cost_usd": "0.00018000", "failure_category": "tool_timeout",
            "details": {"failure": {"category": "tool_timeout", "step": "order_status"}}})],
    )
    def get(self, request, trace_id):
        return Response(AnalysisSerializer(evaluation_of(request, trace_id)).data)


class TraceScenariosView(APIView):
    @extend_schema(operation_id="get_trace_scenarios", summary="Test scenarios generated from this run's failure",
                   responses={200: OpenApiTypes.OBJECT})
    def get(self, request, trace_id):
        evaluation = evaluation_of(request, trace_id)
        pattern = FailurePattern.objects.for_org(request.auth.organisation).filter(
            agent=evaluation.agent, fingerprint=evaluation.failure_fingerprint).first() \
            if evaluation.failure_fingerprint else None
        found = ([s.as_dict() for s in selectors.pattern_scenarios(pattern)] if pattern
                 else evaluation.details.get("scenarios", []))
        return Response({"trace": str(evaluation.trace_id), "pattern": str(pattern.id) if pattern else None,
                         "scenarios": found})


class TraceImprovementsView(APIView):
    @extend_schema(operation_id="get_trace_improvements", summary="Fixes and savings for this run",
                   responses={200: OpenApiTypes.OBJECT})
    def get(self, request, trace_id):
        evaluation = evaluation_of(request, trace_id)
        cost = evaluation.details.get("cost", {})
        return Response({"trace": str(evaluation.trace_id),
                         "fixes": selectors.trace_fixes(request.auth.organisation, evaluation),
                         "savings": cost.get("savings", []), "cost_headline": cost.get("headline"),
                         "issues": evaluation.details.get("issues", [])})


class FeedbackInput(serializers.Serializer):
    correct = serializers.BooleanField(required=False, allow_null=True, default=None)
    score = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=5)
    label = serializers.CharField(required=False, allow_blank=True, default="", max_length=40)
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)


class FeedbackOutput(serializers.ModelSerializer):
    class Meta:
        model = Feedback
        fields = ["id", "trace", "source", "correct", "score", "label", "notes", "created_at"]


class TraceFeedbackView(APIView):
    @extend_schema(operation_id="post_trace_feedback", summary="Label a run (the latest label wins)",
                   request=FeedbackInput, responses={201: FeedbackOutput},
                   examples=[OpenApiExample("Incorrect", request_only=True,
                                            value={"correct": False, "score": 2, "label": "tool_timeout",
                                                   "notes": "answered before the lookup returned"})])
    def post(self, request, trace_id):
        evaluation = evaluation_of(request, trace_id)
        data = FeedbackInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            feedback = add_feedback(evaluation=evaluation, source="api", **data.validated_data)
        except InvalidFeedback as exc:
            raise exceptions.ValidationError(error_body("invalid", exc.message, field=exc.field)) from None
        return Response(FeedbackOutput(feedback).data, status=status.HTTP_201_CREATED)


SUMMARY = ("runs", "reliability", "wilson_low", "wilson_high", "grade", "pass_k", "trend", "cost_per_run_usd",
           "reduction_pct", "tool_success", "latency_p95_ms", "open_compliance_findings")


class AgentListView(APIView):
    @extend_schema(operation_id="list_agents", summary="Agents with their reliability over a window",
                   description="Each agent's headline figures (the same as its reliability, summarised) and "
                               "`display`, the same figures as the pages write them.",
                   parameters=[WINDOW_PARAM], responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        window = windows.window_param(request.query_params)
        agents = selectors.agents_of(request.auth.organisation)[:500]
        return Response({"window": window.name, "results": [
            {"id": str(f.agent.id), "name": f.agent.name, **{k: v for k, v in f.as_dict().items() if k in SUMMARY},
             "display": f.display()}
            for f in figures.agent_figures(request.auth.organisation, agents, window)]})


class AgentReliabilityView(APIView):
    @extend_schema(operation_id="get_agent_reliability", summary="An agent's reliability over a window",
                   description="Success rate with its 95% Wilson interval, grade, pass^k (k=1..5), trend against "
                               "the previous window with its significance, latency p50/p95 and time split, tool "
                               "success, cost per run and possible reduction, and label agreement. Runs still "
                               "pending evaluation are in none of the figures. `display` holds the figures as "
                               "the pages write them.",
                   parameters=[WINDOW_PARAM], responses={200: OpenApiTypes.OBJECT})
    def get(self, request, agent_id):
        organisation = request.auth.organisation
        agent = agent_of(request, agent_id)
        found = figures.figures_of(organisation, agent, windows.window_param(request.query_params))
        return Response({**found.as_dict(), "display": found.display(),
                         "agreement": selectors.agent_agreement(organisation, agent)})


class AgentPlanView(APIView):
    @extend_schema(operation_id="get_agent_plan", summary="The agent's improvement plan",
                   responses={200: OpenApiTypes.OBJECT})
    def get(self, request, agent_id):
        return Response(selectors.improvement_plan(request.auth.organisation, agent_of(request, agent_id)))


class BaselineInput(serializers.Serializer):
    agent = serializers.CharField(help_text="Agent id or name")
    name = serializers.CharField(max_length=120)
    start = serializers.DateTimeField(required=False)
    end = serializers.DateTimeField(required=False)
    window = serializers.CharField(required=False, help_text="Instead of start/end: the last 7d, 24h, …")


class BaselineOutput(serializers.ModelSerializer):
    agent = serializers.CharField(source="agent.name")

    class Meta:
        model = Baseline
        fields = ["id", "agent", "name", "start", "end", "created_at"]


class BaselineView(APIView):
    @extend_schema(operation_id="list_baselines", summary="Baselines",
                   responses={200: BaselineOutput(many=True)})
    def get(self, request):
        return Response(BaselineOutput(selectors.baselines_for(request.auth.organisation)[:500], many=True).data)

    @extend_schema(operation_id="create_baseline", summary="Name a window of an agent's runs",
                   request=BaselineInput, responses={201: BaselineOutput},
                   examples=[OpenApiExample("Last week", request_only=True,
                                            value={"agent": "support-bot", "name": "v1.4", "window": "7d"})])
    def post(self, request):
        data = BaselineInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        agent = agent_of(request, values["agent"])
        baseline = services.save_baseline(organisation=request.auth.organisation, agent=agent, name=values["name"],
                                          span=baseline_span(values))
        return Response(BaselineOutput(baseline).data, status=status.HTTP_201_CREATED)


def baseline_span(values: dict) -> windows.Window:
    if values.get("start") and values.get("end"):
        if values["start"] >= values["end"]:
            raise exceptions.ValidationError(error_body("invalid", "start must be before end", field="start"))
        return windows.Window(values["start"], values["end"])
    return windows.window_param(values)


class CompareView(APIView):
    @extend_schema(
        operation_id="compare", summary="Compare a baseline with a window or another baseline",
        parameters=[OpenApiParameter("baseline", str, required=True, description="Baseline id"),
                    OpenApiParameter("current", str, description="A window (7d) or a baseline id; default 7d")],
        responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        organisation = request.auth.organisation
        baseline = self._baseline(request.query_params.get("baseline"))
        current = request.query_params.get("current") or "7d"
        after = (windows.window_param(request.query_params, "current") if windows.is_window_name(current)
                 else selectors.baseline_window(self._baseline(current)))
        rows = figures.compare_windows(organisation, baseline.agent, selectors.baseline_window(baseline), after)
        return Response({"agent": baseline.agent.name, "baseline": BaselineOutput(baseline).data,
                         "current": {"start": after.start, "end": after.end}, "metrics": rows})

    def _baseline(self, ident: str | None) -> Baseline:
        if not ident:
            raise exceptions.ValidationError(error_body("invalid", "baseline is required", field="baseline"))
        return get_for_org_or_404(Baseline.objects.select_related("agent"), self.request.auth.organisation,
                                  id=ident)


class PatternOutput(serializers.ModelSerializer):
    agent = serializers.CharField(source="agent.name")

    class Meta:
        model = FailurePattern
        fields = ["id", "agent", "fingerprint", "category", "message", "step", "framework", "occurrences",
                  "first_seen", "last_seen", "example_traces", "status", "fix_applied_at", "runs_since_fix",
                  "occurrences_since_fix"]


class PatternListOutput(serializers.Serializer):
    results = PatternOutput(many=True)


class PatternListView(APIView):
    @extend_schema(operation_id="list_patterns", summary="Failure patterns, most recent first",
                   parameters=[OpenApiParameter("agent", str), OpenApiParameter("status", str)],
                   responses={200: PatternListOutput})
    def get(self, request):
        queryset = selectors.patterns_for(request.auth.organisation)
        if request.query_params.get("agent"):
            queryset = queryset.filter(agent=agent_of(request, request.query_params["agent"]))
        if request.query_params.get("status"):
            queryset = queryset.filter(status=request.query_params["status"])
        return Response({"results": PatternOutput(queryset[:500], many=True).data})


def pattern_of(request, pattern_id) -> FailurePattern:
    return get_for_org_or_404(selectors.patterns_for(request.auth.organisation), request.auth.organisation,
                              id=pattern_id)


class PatternDetailView(APIView):
    @extend_schema(operation_id="get_pattern", summary="A failure pattern with its fixes",
                   responses={200: OpenApiTypes.OBJECT})
    def get(self, request, pattern_id):
        pattern = pattern_of(request, pattern_id)
        return Response({**PatternOutput(pattern).data, "fixes": selectors.pattern_fixes(pattern)})


class PatternFixAppliedView(APIView):
    @extend_schema(operation_id="mark_pattern_fixed", summary="Mark that a fix for this pattern is deployed",
                   request=None, responses={200: PatternOutput})
    def post(self, request, pattern_id):
        return Response(PatternOutput(patterns.mark_fix_applied(pattern_of(request, pattern_id))).data)


class PatternScenariosView(APIView):
    @extend_schema(
        operation_id="export_pattern_scenarios", summary="A pattern's scenarios as JSON, JSONL or a pytest file",
        parameters=[OpenApiParameter("format", str, enum=["json", "jsonl", "pytest"]),
                    OpenApiParameter("module", str, description="pytest: the module holding your agent"),
                    OpenApiParameter("function", str, description="pytest: your agent function")],
        responses={200: OpenApiTypes.OBJECT})
    def get(self, request, pattern_id):
        pattern = pattern_of(request, pattern_id)
        kind = request.query_params.get("format", "json")
        if kind == "json":
            return Response({"pattern": str(pattern.id),
                             "scenarios": [s.as_dict() for s in selectors.pattern_scenarios(pattern)]})
        if kind not in ("jsonl", "pytest"):
            raise exceptions.ValidationError(error_body("invalid", "format is json, jsonl or pytest", field="format"))
        try:
            return attachment(selectors.scenario_file(pattern, kind,
                                                      module=request.query_params.get("module", "my_agent"),
                                                      function=request.query_params.get("function", "run_agent")))
        except ValueError as exc:
            raise exceptions.ValidationError(error_body("invalid", str(exc), field="module")) from None


