"""The judges API: model connections and judges (admins change them, members read), scores on runs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from arcweb.authentication import IsAdminKey, IsOrganisationMember
from arcweb.errors import error_body
from arcweb.tenancy import get_for_org_or_404
from traces.models import Trace

from . import selectors, services
from .models import Judge, ModelConnection
from .serializers import (
    BackfillInput,
    BackfillOutput,
    BudgetInput,
    BudgetOutput,
    ConnectionInput,
    ConnectionListOutput,
    ConnectionOutput,
    ConnectionPatch,
    ConnectionTestOutput,
    JudgeDetailOutput,
    JudgeInput,
    JudgeListOutput,
    JudgeOutput,
    JudgePatch,
    ScoreInput,
    ScoreListOutput,
    ScoreOutput,
)

BACKFILL_DEFAULT = timedelta(hours=24)


class JudgesApiView(APIView):
    admin_writes = True  # reading is for members; writing for admins (connections and judges)

    def get_permissions(self):
        if self.admin_writes and self.request.method not in ("GET", "HEAD", "OPTIONS"):
            return [IsOrganisationMember(), IsAdminKey()]
        return [IsOrganisationMember()]

    @property
    def organisation(self):
        return self.request.auth.organisation

    def valid(self, serializer_class) -> dict[str, Any]:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


def invalid(exc: services.InvalidInput) -> exceptions.ValidationError:
    return exceptions.ValidationError(error_body("invalid", exc.message, field=exc.field))


def judge_output(judge: Judge, detail: bool = False) -> dict[str, Any]:
    values = {f: getattr(judge, f) for f in ("id", "name", "template", "rubric", "connection_id", "sample_rate",
                                             "only_failed", "tag", "mode", "daily_budget_usd", "decides_success",
                                             "enabled", "created_at")}
    values["model"] = judge.model or judge.connection.default_model
    values["agents"] = [a.name for a in judge.agents.all()]
    if not detail:
        return JudgeOutput(values).data
    return JudgeDetailOutput({**values, **selectors.cost_figures(judge),
                              "agreement": selectors.calibration(judge)}).data


# -- connections ------------------------------------------------------------------------------------------------
class ConnectionCollectionView(JudgesApiView):
    @extend_schema(operation_id="list_model_connections", summary="The organisation's model connections",
                   responses={200: ConnectionListOutput})
    def get(self, request):
        return Response({"results": ConnectionOutput(selectors.connections(self.organisation), many=True).data})

    @extend_schema(
        operation_id="create_model_connection", summary="Connect a model endpoint (admins)",
        description="The key is sealed at rest and never returned: answers show its last four characters. A URL "
                    "resolving to a private, loopback or link-local address is refused unless the operator sets "
                    "ARC_MODEL_ENDPOINTS_ALLOW_PRIVATE=1.",
        request=ConnectionInput, responses={201: ConnectionOutput},
        examples=[OpenApiExample("OpenAI", request_only=True, value={
            "name": "OpenAI", "provider": "openai", "base_url": "https://api.openai.com/v1", "api_key": "sk-…",
            "default_model": "gpt-4o-mini"})])
    def post(self, request):
        try:
            connection = services.save_connection(organisation=self.organisation, **self.valid(ConnectionInput))
        except services.InvalidInput as exc:
            raise invalid(exc) from None
        return Response(ConnectionOutput(connection).data, status=status.HTTP_201_CREATED)


class ConnectionDetailView(JudgesApiView):
    def connection(self, connection_id) -> ModelConnection:
        return get_for_org_or_404(ModelConnection, self.organisation, id=connection_id)

    @extend_schema(operation_id="get_model_connection", summary="A model connection",
                   responses={200: ConnectionOutput})
    def get(self, request, connection_id):
        return Response(ConnectionOutput(self.connection(connection_id)).data)

    @extend_schema(operation_id="update_model_connection", summary="Change a connection (a new key replaces it)",
                   request=ConnectionPatch, responses={200: ConnectionOutput})
    def patch(self, request, connection_id):
        connection = self.connection(connection_id)
        try:
            connection = services.save_connection(organisation=self.organisation, connection=connection,
                                                  **self.valid(ConnectionPatch))
        except services.InvalidInput as exc:
            raise invalid(exc) from None
        return Response(ConnectionOutput(connection).data)


class ConnectionTestView(JudgesApiView):
    @extend_schema(operation_id="test_model_connection", summary="Call the endpoint's model list with the key",
                   request=None, responses={200: ConnectionTestOutput})
    def post(self, request, connection_id):
        connection = get_for_org_or_404(ModelConnection, self.organisation, id=connection_id)
        error = services.test_connection(connection)
        return Response(ConnectionTestOutput({"ok": not error, "error": error}).data)


# -- judges -----------------------------------------------------------------------------------------------------
class JudgeCollectionView(JudgesApiView):
    @extend_schema(operation_id="list_judges", summary="The organisation's judges",
                   responses={200: JudgeListOutput})
    def get(self, request):
        return Response({"results": [judge_output(j) for j in selectors.judges(self.organisation)]})

    @extend_schema(
        operation_id="create_judge", summary="Set a judge on runs (admins)",
        description="A built-in template (task_completion, tool_use, groundedness, finance, security) or a custom "
                    "rubric, on some agents (empty: all), a sample of their runs, in mode all or uncertain (runs "
                    "the rules failed cost no call), within a daily budget. Runs are judged after their "
                    "rule-based verdict, off the request.",
        request=JudgeInput, responses={201: JudgeOutput},
        examples=[OpenApiExample("Task completion on one agent", request_only=True, value={
            "name": "Answers right", "template": "task_completion", "connection": "0b7c8a0e-3f5e-4c1b-9a53-0c5d2b0c9a11",
            "agents": ["support-bot"], "sample_rate": 0.2, "mode": "uncertain", "daily_budget_usd": "5"})])
    def post(self, request):
        try:
            judge = services.save_judge(organisation=self.organisation, **self.valid(JudgeInput))
        except services.InvalidInput as exc:
            raise invalid(exc) from None
        return Response(judge_output(judge), status=status.HTTP_201_CREATED)


class JudgeDetailView(JudgesApiView):
    def judge(self, judge_id) -> Judge:
        return get_for_org_or_404(Judge.objects.select_related("connection"), self.organisation, id=judge_id)

    @extend_schema(operation_id="get_judge",
                   summary="A judge with its spend, the runs it judged and its agreement with the team's labels",
                   responses={200: JudgeDetailOutput})
    def get(self, request, judge_id):
        return Response(judge_output(self.judge(judge_id), detail=True))

    @extend_schema(operation_id="update_judge", summary="Change a judge (admins)", request=JudgePatch,
                   responses={200: JudgeOutput})
    def patch(self, request, judge_id):
        judge = self.judge(judge_id)
        try:
            judge = services.save_judge(organisation=self.organisation, judge=judge, **self.valid(JudgePatch))
        except services.InvalidInput as exc:
            raise invalid(exc) from None
        return Response(judge_output(judge))


class JudgeBackfillView(JudgesApiView):
    @extend_schema(operation_id="backfill_judge", summary="Judge past runs in a window (admins)",
                   description="Runs of the judge's agents started in [start, end) that it has not scored (or whose "
                               "score was an error or a budget skip) are queued, with its rules and budgets.",
                   request=BackfillInput, responses={202: BackfillOutput})
    def post(self, request, judge_id):
        judge = get_for_org_or_404(Judge, self.organisation, id=judge_id)
        values = self.valid(BackfillInput)
        end = values.get("end") or timezone.now()
        try:
            result = services.backfill(judge, values.get("start") or end - BACKFILL_DEFAULT, end)
        except services.InvalidInput as exc:
            raise invalid(exc) from None
        return Response(BackfillOutput(result).data, status=status.HTTP_202_ACCEPTED)


class JudgingBudgetView(JudgesApiView):
    @extend_schema(operation_id="get_judging_budget",
                   summary="The organisation's daily judging budget over all its judges, and today's spend",
                   responses={200: BudgetOutput})
    def get(self, request):
        return Response(BudgetOutput(selectors.budget_figures(self.organisation)).data)

    @extend_schema(operation_id="set_judging_budget", summary="Set the organisation's daily judging budget (admins)",
                   description="No judge call starts once the organisation's judges together have spent it today "
                               "(UTC); null removes the ceiling. Each judge's own daily budget still holds.",
                   request=BudgetInput, responses={200: BudgetOutput},
                   examples=[OpenApiExample("Five dollars a day", request_only=True,
                                            value={"daily_budget_usd": "5.00"})])
    def put(self, request):
        services.set_organisation_budget(self.organisation, self.valid(BudgetInput)["daily_budget_usd"])
        return Response(BudgetOutput(selectors.budget_figures(self.organisation)).data)


# -- scores -----------------------------------------------------------------------------------------------------
class TraceScoresView(JudgesApiView):
    admin_writes = False  # members post scores

    @extend_schema(operation_id="list_trace_scores", summary="A run's scores (judges', humans', clients')",
                   responses={200: ScoreListOutput})
    def get(self, request, trace_id):
        trace = get_for_org_or_404(Trace, self.organisation, id=trace_id)
        return Response({"results": ScoreOutput(selectors.trace_scores(self.organisation, trace.id), many=True).data})

    @extend_schema(operation_id="create_trace_score", summary="Add your own score to a run",
                   request=ScoreInput, responses={201: ScoreOutput},
                   examples=[OpenApiExample("A user's thumbs-up", request_only=True, value={
                       "name": "user_feedback", "value": 1, "passed": True, "reasoning": "thumbs up"})])
    def post(self, request, trace_id):
        trace = get_for_org_or_404(Trace, self.organisation, id=trace_id)
        try:
            score = services.add_score(organisation=self.organisation, trace=trace, **self.valid(ScoreInput))
        except services.InvalidInput as exc:
            raise invalid(exc) from None
        return Response(ScoreOutput(score).data, status=status.HTTP_201_CREATED)
