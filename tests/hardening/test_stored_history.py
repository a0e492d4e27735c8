"""An ingest-only key cannot rewrite stored history: an OpenTelemetry export naming a stored trace's id adds
the spans it lacks, and changes nothing the trace already says — never its agent, and none of its root fields
once it has been evaluated or labelled."""

from __future__ import annotations

import json
import time

import pytest

from arcweb.models import ApiScope
from arcweb.services import create_api_key
from tests.conftest import sample_trace
from traces.ingest import ingest_traces
from traces.models import Agent, Trace
from traces.otlp import decode_otlp

pytestmark = pytest.mark.django_db


def attribute(key: str, value: str) -> dict:
    return {"key": key, "value": {"stringValue": value}}


def otlp_export(trace_id: str, span_id: str, *, parent: str = "", agent: str = "intruder", **values: str) -> dict:
    """One OTLP span of `trace_id` as a JSON export; without `parent` it is the trace's root."""
    now = time.time_ns()
    span = {"traceId": trace_id, "spanId": span_id, "name": "root" if not parent else "late step", "kind": 1,
            "startTimeUnixNano": str(now), "endTimeUnixNano": str(now + 10**9),
            "attributes": [attribute("gen_ai.agent.name", agent),
                           *(attribute(f"{k}.value", v) for k, v in values.items())]}
    if parent:
        span["parentSpanId"] = parent
    return {"resourceSpans": [{"resource": {"attributes": [attribute("service.name", agent)]},
                               "scopeSpans": [{"scope": {"name": "test"}, "spans": [span]}]}]}


@pytest.fixture
def ingest_api(acme, api_for):
    _, key = create_api_key(organisation=acme.organisation, owner=acme.owner, scope=ApiScope.INGEST)
    return api_for(key)


TRACE_ID = "5b8efff798038103d269b633813fc60c"


@pytest.mark.parametrize("labelled", [False, True])
def test_an_export_with_a_stored_trace_id_adds_spans_and_rewrites_nothing(acme, acme_api, ingest_api, labelled):
    stored = acme_api.post("/api/v1/traces", sample_trace(TRACE_ID, input={"q": "original"},
                                                          output={"a": "original"})).json()["traces"][0]
    if labelled:
        assert acme_api.post(f"/api/v1/traces/{stored['id']}/feedback", {"correct": True}).status_code == 201
    before = Trace.objects.get(id=stored["id"])
    assert before.evaluation.evaluated_at is not None

    response = ingest_api.post("/v1/traces", otlp_export(TRACE_ID, "00000000000000aa", input="rewritten input",
                                                         output="rewritten output"))
    assert response.status_code == 200
    after = Trace.objects.get(id=stored["id"])
    assert (after.agent.name, after.input, after.output, after.duration_ms, after.started_at) \
        == ("support-bot", {"q": "original"}, {"a": "original"}, before.duration_ms, before.started_at)
    assert [s["span_id"] for s in after.spans] == ["s1", "s2", "00000000000000aa"]  # late spans are added
    assert not Agent.objects.filter(organisation=acme.organisation, name="intruder").exists()
    assert acme_api.get(f"/api/v1/traces/{stored['id']}").json()["agent"] == "support-bot"


def test_an_export_cannot_move_an_evaluated_trace_in_time(acme, acme_api, ingest_api):
    stored = acme_api.post("/api/v1/traces", sample_trace(TRACE_ID, started_at="2026-11-20T10:00:00Z")).json()
    earlier = otlp_export(TRACE_ID, "00000000000000aa")
    span = earlier["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    span["startTimeUnixNano"], span["endTimeUnixNano"] = "1000000000", "2000000000"  # 1970
    assert ingest_api.post("/v1/traces", earlier).status_code == 200
    trace = Trace.objects.get(id=stored["traces"][0]["id"])
    assert trace.started_at.isoformat() == "2026-11-20T10:00:00+00:00"
    assert trace.evaluation.started_at == trace.started_at


def test_a_root_arriving_before_evaluation_fills_only_what_is_empty(acme):
    """Spans of one run exported in two requests (children first, as an exporter does when the root ends last):
    the root fills what the first part left empty and keeps what it said — and the agent the first part named."""
    child = otlp_export(TRACE_ID, "00000000000000bb", parent="00000000000000aa", agent="support-bot",
                        output="the child's output")
    root = otlp_export(TRACE_ID, "00000000000000aa", agent="another-name", input="the run's question",
                       output="the run's answer")
    for part in (child, root):  # no on-commit here: the run is not evaluated between the parts
        traces = decode_otlp(json.dumps(part).encode(), content_type="application/json")
        ingest_traces(organisation=acme.organisation, payloads=traces, merge_spans=True)
    trace = Trace.objects.get(organisation=acme.organisation)
    assert trace.evaluation.evaluated_at is None
    assert (trace.agent.name, trace.input, trace.output) == ("support-bot", "the run's question",
                                                             "the child's output")
    assert {s["span_id"]: s.get("parent_id") for s in trace.spans} == {"00000000000000aa": None,
                                                                    "00000000000000bb": "00000000000000aa"}
