"""POST /api/v1/traces as an agent team uses it: batches, idempotency, clear errors, limits."""

from __future__ import annotations

import gzip
import json

import pytest
from django.core.cache import cache
from django.test import override_settings

from evaluations.models import Evaluation
from tests.conftest import sample_trace
from traces.models import Agent, Trace

pytestmark = pytest.mark.django_db


def test_single_trace_is_stored_with_spans_and_evaluated(acme_api, acme):
    response = acme_api.post("/api/v1/traces", sample_trace())
    assert response.status_code == 202
    body = response.json()
    assert body["accepted"] == 1 and body["errors"] == []
    trace = Trace.objects.get(id=body["traces"][0]["id"])
    assert trace.organisation == acme.organisation and trace.span_count == 2
    evaluation = Evaluation.objects.get(trace=trace)
    assert evaluation.status == "done"
    assert (evaluation.input_tokens, evaluation.output_tokens, evaluation.llm_calls, evaluation.tool_calls) \
        == (500, 40, 1, 1)
    assert body["traces"][0]["analysis_url"] == f"/api/v1/traces/{trace.id}/analysis"


def test_resend_keeps_one_trace_and_returns_the_same_id(acme_api):
    first = acme_api.post("/api/v1/traces", sample_trace("same")).json()["traces"][0]
    again = acme_api.post("/api/v1/traces", sample_trace("same")).json()["traces"][0]
    assert again["id"] == first["id"] and again["status"] == "duplicate"
    assert Trace.objects.filter(trace_id="same").count() == 1
    assert Evaluation.objects.count() == 1


def test_same_trace_id_in_two_organisations_are_two_traces(acme_api, globex_api):
    a = acme_api.post("/api/v1/traces", sample_trace("shared")).json()["traces"][0]["id"]
    b = globex_api.post("/api/v1/traces", sample_trace("shared")).json()["traces"][0]["id"]
    assert a != b


def test_mixed_batch_keeps_valid_items_and_names_the_bad_fields(acme_api):
    batch = [sample_trace("ok-1"), {"agent_id": 5}, sample_trace("ok-2", spans=[{"span_id": "x", "kind": "robot"}]),
             sample_trace("ok-3")]
    response = acme_api.post("/api/v1/traces", batch)
    assert response.status_code == 202
    body = response.json()
    assert [t["index"] for t in body["traces"]] == [0, 3]
    assert {(e["index"], e["field"]) for e in body["errors"]} == {(1, "$.agent_id"), (2, "$.spans[0].kind")}
    assert set(Trace.objects.values_list("trace_id", flat=True)) == {"ok-1", "ok-3"}


def test_all_invalid_is_400_with_every_error(acme_api):
    response = acme_api.post("/api/v1/traces", [{"output": "no agent"}, "not an object"])
    assert response.status_code == 400
    errors = response.json()["error"]["errors"]
    assert errors[0]["field"] == "$" and "agent_id" in errors[0]["message"]
    assert errors[1] == {"index": 1, "field": "$", "message": "a trace must be a JSON object, got str"}


@pytest.mark.parametrize("raw, fragment", [
    (b"{not json", "not valid JSON"),
    (b"", "empty"),
    (b"[" * 20000 + b"]" * 20000, "nested too deeply"),
    (b"[" * 50 + b"]" * 50, "must be a JSON object"),
])
def test_malformed_bodies_are_400(acme_api, raw, fragment):
    response = acme_api.post("/api/v1/traces", raw=raw)
    assert response.status_code == 400
    assert fragment in response.content.decode()


def test_wrong_types_name_the_field(acme_api):
    response = acme_api.post("/api/v1/traces", sample_trace(duration_ms="slow"))
    assert response.status_code == 400
    assert response.json()["error"]["errors"][0]["field"] == "$.duration_ms"


def test_legacy_roadmap_shape_is_mapped(acme_api):
    legacy = {"agent_id": "legacy", "output": "ok", "execution_time": 1.5, "tool_calls": ["search", "calculate"],
              "timestamp": "2026-11-24T10:00:00"}
    response = acme_api.post("/api/v1/traces", legacy)
    assert response.status_code == 202
    trace = Trace.objects.get(id=response.json()["traces"][0]["id"])
    assert trace.duration_ms == 1500
    assert [s["name"] for s in trace.spans] == ["search", "calculate"]
    assert trace.started_at.isoformat() == "2026-11-24T10:00:00+00:00"


def test_roadmap_curl_path_is_the_same_door(acme_api):
    response = acme_api.post("/api/trace", {"agent_id": "my-agent", "output": "Final answer",
                                            "execution_time": 2.3, "tool_calls": ["search"]})
    assert response.status_code == 202
    assert Agent.objects.filter(name="my-agent").exists()


def test_gzip_body_is_accepted(acme_api):
    raw = gzip.compress(json.dumps([sample_trace("gz-1"), sample_trace("gz-2")]).encode())
    response = acme_api.post("/api/v1/traces", raw=raw, HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 202 and response.json()["accepted"] == 2


@override_settings(ARC_MAX_BODY_BYTES=10_000)
def test_body_over_the_limit_is_413(acme_api):
    response = acme_api.post("/api/v1/traces", sample_trace(output="x" * 20_000))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert not Trace.objects.exists()


@override_settings(ARC_MAX_BODY_BYTES=10_000)
def test_gzip_bomb_is_413(acme_api):
    raw = gzip.compress(b'{"agent_id": "a", "output": "' + b"x" * 1_000_000 + b'"}')
    assert len(raw) < 10_000
    response = acme_api.post("/api/v1/traces", raw=raw, HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 413


@override_settings(ARC_MAX_BATCH_TRACES=3)
def test_batch_over_the_count_limit_is_400(acme_api):
    response = acme_api.post("/api/v1/traces", [sample_trace(f"b{i}") for i in range(4)])
    assert response.status_code == 400
    assert "at most 3" in response.json()["error"]["message"]


def test_nul_characters_are_dropped_not_a_500(acme_api):
    response = acme_api.post("/api/v1/traces", sample_trace("nul", output={"answer": "a\u0000b"}))
    assert response.status_code == 202
    assert Trace.objects.get(trace_id="nul").output == {"answer": "ab"}


def test_throttled_key_gets_429_with_retry_after(acme_api, settings):
    cache.clear()
    from arcweb.authentication import ApiKeyRateThrottle

    previous = ApiKeyRateThrottle.THROTTLE_RATES
    ApiKeyRateThrottle.THROTTLE_RATES = {"api_key": "3/day"}  # a window boundary mid-test is unlikely
    try:
        codes = [acme_api.get("/api/v1/traces").status_code for _ in range(4)]
        last = acme_api.get("/api/v1/traces")
    finally:
        ApiKeyRateThrottle.THROTTLE_RATES = previous
        cache.clear()
    assert codes[:3] == [200, 200, 200] and codes[3] == 429
    assert int(last["Retry-After"]) >= 1
    assert last.json()["error"]["code"] == "throttled"
