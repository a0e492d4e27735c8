"""The traces API: ingestion (POST /api/v1/traces and the roadmap's POST /api/trace), list, detail, delete."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from arcweb.authentication import IsAdminKey, IsOrganisationMember
from arcweb.errors import error_body
from arcweb.tenancy import get_for_org_or_404
from arcweb.windows import window_param

from . import selectors
from .http import parse_json, read_body
from .ingest import IngestResult, ingest_traces
from .serializers import (
    IngestResponseSerializer,
    SessionPageSerializer,
    TraceDetailSerializer,
    TracePageSerializer,
    TraceSummarySerializer,
    UserPageSerializer,
)

EXAMPLE_TRACE = {
    "trace_id": "run-2026-11-24-0001",
    "agent_id": "support-bot",
    "started_at": "2026-11-24T10:00:00Z",
    "duration_ms": 4210,
    "input": {"question": "Where is my order 1042?"},
    "output": {"answer": "It left the warehouse today."},
    "spans": [
        {"span_id": "s1", "kind": "llm", "name": "plan", "model": "gpt-4o-mini", "provider": "openai",
         "duration_ms": 812, "usage": {"input_tokens": 812, "output_tokens": 96}},
        {"span_id": "s2", "parent_id": "s1", "kind": "tool", "name": "order_status", "duration_ms": 240,
         "input": {"order": 1042}, "output": {"status": "shipped"}},
    ],
}
EXAMPLE_LEGACY = {
    "agent_id": "my-agent", "output": "Final answer", "execution_time": 2.3,
    "tool_calls": ["search", "calculate"], "timestamp": "2026-11-24T10:00:00Z",
}
EXAMPLE_RESPONSE = {
    "accepted": 1, "rejected": 1,
    "traces": [{"index": 0, "id": "0b7c8a0e-3f5e-4c1b-9a53-0c5d2b0c9a11", "trace_id": "run-2026-11-24-0001",
                "status": "created", "url": "/api/v1/traces/0b7c8a0e-3f5e-4c1b-9a53-0c5d2b0c9a11",
                "analysis_url": "/api/v1/traces/0b7c8a0e-3f5e-4c1b-9a53-0c5d2b0c9a11/analysis"}],
    "errors": [{"index": 1, "field": "$.spans[0].kind",
                "message": "Expected `'llm' | 'tool' | 'retrieval' | 'agent' | 'chain' | 'other'`, got `'x'`"}],
}


URL_SENTINEL = uuid.UUID(int=0)


def ingest_response(result: IngestResult) -> Response:
    # Two reverse() calls per response, not per trace: the links differ only by the trace's id.
    sentinel = str(URL_SENTINEL)
    detail_url = reverse("api-trace-detail", args=[URL_SENTINEL])
    analysis_url = reverse("api-trace-analysis", args=[URL_SENTINEL])
    traces = []
    for a in result.accepted:
        id_ = str(a.id)
        traces.append({"index": a.index, "id": id_, "trace_id": a.trace_id,
                       "status": "created" if a.created else "duplicate",
                       "url": detail_url.replace(sentinel, id_),
                       "analysis_url": analysis_url.replace(sentinel, id_)})
    body = {
        "accepted": len(result.accepted),
        "rejected": len(result.rejected),
        "traces": traces,
        "errors": [{"index": r.index, "field": r.field, "message": r.message} for r in result.rejected],
    }
    if not result.accepted:
        return Response(
            error_body("invalid_trace", "No trace in the request is valid.", errors=body["errors"]),
            status=status.HTTP_400_BAD_REQUEST,
        )
    return Response(body, status=status.HTTP_202_ACCEPTED)


def payload_items(payload) -> list:
    items = payload if isinstance(payload, list) else [payload]
    if len(items) > settings.ARC_MAX_BATCH_TRACES:
        raise exceptions.ValidationError(
            error_body("batch_too_large", f"A batch holds at most {settings.ARC_MAX_BATCH_TRACES} traces; "
                       f"this one has {len(items)}.", field="$")
        )
    return items


class TraceListInput(serializers.Serializer):
    agent = serializers.CharField(required=False, default="", help_text="Agent name")
    success = serializers.BooleanField(required=False, allow_null=True, default=None)
    framework = serializers.CharField(required=False, default="")
    session_id = serializers.CharField(required=False, default="")
    user_id = serializers.CharField(required=False, default="")
    tag = serializers.CharField(required=False, default="")
    since = serializers.DateTimeField(required=False, allow_null=True, default=None)
    until = serializers.DateTimeField(required=False, allow_null=True, default=None)


class TracePagination(CursorPagination):
    ordering = "-started_at"
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 500


class TraceCollectionView(APIView):
    ingest_allowed = True

    @extend_schema(
        operation_id="ingest_traces",
        summary="Send one trace or a batch",
        description="One canonical trace object or a list of up to 1,000 (10 MB, gzip accepted). The roadmap's "
                    "legacy shape (execution_time, tool_calls, llm_calls, timestamp) is accepted too. Idempotent "
                    "on trace_id. Valid items are kept when others fail; errors are listed by index.",
        request={"application/json": OpenApiTypes.OBJECT},
        responses={202: IngestResponseSerializer},
        examples=[
            OpenApiExample("Canonical trace", value=EXAMPLE_TRACE, request_only=True),
            OpenApiExample("Roadmap legacy shape", value=EXAMPLE_LEGACY, request_only=True),
            OpenApiExample("Accepted", value=EXAMPLE_RESPONSE, response_only=True, status_codes=["202"]),
        ],
    )
    def post(self, request):
        items = payload_items(parse_json(read_body(request)))
        return ingest_response(ingest_traces(organisation=request.auth.organisation, payloads=items))

    @extend_schema(
        operation_id="list_traces",
        summary="List traces, newest first",
        parameters=[
            OpenApiParameter("agent", str, description="Agent name"),
            OpenApiParameter("success", bool, description="Evaluated outcome"),
            OpenApiParameter("framework", str),
            OpenApiParameter("session_id", str, description="Runs of one session (conversation)"),
            OpenApiParameter("user_id", str, description="Runs of one end user"),
            OpenApiParameter("tag", str, description="Runs carrying this tag"),
            OpenApiParameter("since", OpenApiTypes.DATETIME),
            OpenApiParameter("until", OpenApiTypes.DATETIME),
            OpenApiParameter("limit", int, description="Page size, at most 500"),
        ],
        responses={200: TracePageSerializer},
    )
    def get(self, request):
        filters = TraceListInput(data={k: v for k, v in request.query_params.items() if v != ""})
        filters.is_valid(raise_exception=True)
        queryset = selectors.filter_traces(request.auth.organisation, selectors.TraceQuery(**filters.validated_data))
        paginator = TracePagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(TraceSummarySerializer(page, many=True).data)

    def get_permissions(self):
        return [IsOrganisationMember()]


class LegacyTraceView(TraceCollectionView):
    """The roadmap's door: `POST /api/trace` is the same as `POST /api/v1/traces`."""

    http_method_names = ["post", "options"]

    @extend_schema(operation_id="ingest_trace_legacy", summary="Send a trace (roadmap path)",
                   request={"application/json": OpenApiTypes.OBJECT}, responses={202: IngestResponseSerializer},
                   examples=[OpenApiExample("Roadmap legacy shape", value=EXAMPLE_LEGACY, request_only=True)])
    def post(self, request):
        return super().post(request)


class TraceDetailView(APIView):
    def get_permissions(self):
        if self.request.method == "DELETE":
            return [IsOrganisationMember(), IsAdminKey()]
        return [IsOrganisationMember()]

    @extend_schema(operation_id="get_trace", summary="A trace with its spans",
                   responses={200: TraceDetailSerializer})
    def get(self, request, trace_id):
        trace = get_for_org_or_404(selectors.traces_with_evaluation(), request.auth.organisation, id=trace_id)
        return Response(TraceDetailSerializer(trace).data)

    @extend_schema(operation_id="delete_trace", summary="Delete a trace and everything derived from it",
                   responses={204: None})
    def delete(self, request, trace_id):
        trace = get_for_org_or_404(selectors.traces_with_evaluation(), request.auth.organisation, id=trace_id)
        with transaction.atomic():
            trace.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class RunGroupListView(APIView):
    """Sessions (or users) active in a window with their runs' figures: GET /api/v1/sessions, /api/v1/users."""

    kind = "sessions"
    page_serializer: type[serializers.Serializer] = SessionPageSerializer

    def get(self, request):
        page = _page_of(request)
        since = window_param(request.query_params).start
        key = selectors.GROUP_FIELDS[self.kind]
        rows, more = selectors.run_groups(request.auth.organisation, key, since=since, page=page)
        return Response(self.page_serializer({
            "results": [{key: row["value"], "runs": row["runs"], "successes": row["successes"],
                         "failures": row["failures"], "cost_usd": row["cost"], "first_run_at": row["first"],
                         "last_run_at": row["last"], "run_id": uuid.UUID(row["run_id"])} for row in rows],
            "next_page": page + 1 if more and page + 1 < selectors.GROUPS_MAX_PAGES else None,
        }).data)


def _group_schema(kind: str, page: type[serializers.Serializer]):
    return extend_schema_view(get=extend_schema(
        operation_id=f"list_{kind}",
        summary=f"{kind.capitalize()} active in a window, latest activity first",
        description="Each with its runs, successes and failures (a team label wins over the engine's verdict), "
                    "cost in USD, first and last run, and the id of one of its runs. 50 a page; at most 20 pages.",
        parameters=[
            OpenApiParameter("window", str, description="24h, 7d, 30d (1h to 400d); default 7d"),
            OpenApiParameter("page", int, description="0 to 19; default 0"),
        ],
        responses={200: page},
    ))


@_group_schema("sessions", SessionPageSerializer)
class SessionListView(RunGroupListView):
    kind = "sessions"
    page_serializer = SessionPageSerializer


@_group_schema("users", UserPageSerializer)
class UserListView(RunGroupListView):
    kind = "users"
    page_serializer = UserPageSerializer


def _page_of(request) -> int:
    raw = request.query_params.get("page", "0")
    if not raw.isdigit() or int(raw) >= selectors.GROUPS_MAX_PAGES:
        raise exceptions.ValidationError(error_body(
            "invalid", f"page must be a whole number from 0 to {selectors.GROUPS_MAX_PAGES - 1}", field="page"))
    return int(raw)
