"""The engine's conclusions over the API: what a team reads after sending traces."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from evaluations.models import AgentHour, Evaluation, FailurePattern
from tests.conftest import sample_trace

pytestmark = pytest.mark.django_db

TIMEOUT = {"type": "TimeoutError", "message": "Tool order_status timed out after 30s"}


def failing(trace_id: str, **overrides) -> dict:
    request = hashlib.sha256(trace_id.encode()).hexdigest()[:12]  # an id like a real request's, varying per run
    spans = [{"span_id": "t1", "kind": "tool", "name": "order_status", "duration_ms": 30000,
              "error": {"type": "TimeoutError", "message": f"timed out after 30s (request {request})"}}]
    return sample_trace(trace_id, output=None, error=TIMEOUT, spans=spans, **overrides)


def post(api, traces) -> list[dict]:
    response = api.post("/api/v1/traces", traces)
    assert response.status_code == 202, response.content
    return response.json()["traces"]


def test_analysis_has_cost_grade_and_framework(acme_api):
    trace = sample_trace("priced", spans=[{"span_id": "l1", "kind": "llm", "model": "gpt-4o-mini",
                                           "provider": "openai",
                                           "usage": {"input_tokens": 1_000_000, "output_tokens": 1_000_000}}])
    created = post(acme_api, trace)[0]
    body = acme_api.get(created["analysis_url"]).json()
    assert body["cost_usd"] == "0.75000000"  # gpt-4o-mini list price: $0.15 + $0.60 per million
    assert body["grade"] and body["score"] is not None
    assert body["details"]["framework_detection"]["framework"]


def test_failures_group_into_one_pattern_whatever_the_ids(acme_api, acme):
    post(acme_api, [failing(f"f{i}") for i in range(3)] + [sample_trace("ok")])
    pattern = FailurePattern.objects.get(organisation=acme.organisation)
    assert (pattern.category, pattern.occurrences) == ("tool_timeout", 3)
    listing = acme_api.get("/api/v1/patterns").json()["results"]
    assert [p["occurrences"] for p in listing] == [3]
    detail = acme_api.get(f"/api/v1/patterns/{pattern.id}").json()
    assert any("timeout" in fix["code"].lower() for fix in detail["fixes"])


def test_scenarios_export_as_jsonl_and_pytest(acme_api, acme):
    post(acme_api, [failing("f1", input={"q": "order 1"}), failing("f2", input={"q": "order 2"})])
    pattern = FailurePattern.objects.get(organisation=acme.organisation)
    jsonl = acme_api.get(f"/api/v1/patterns/{pattern.id}/scenarios?format=jsonl")
    assert jsonl["Content-Disposition"].startswith("attachment")
    lines = jsonl.content.decode().strip().splitlines()
    assert len(lines) >= 2
    pytest_file = acme_api.get(f"/api/v1/patterns/{pattern.id}/scenarios?format=pytest&module=bot&function=run")
    text = pytest_file.content.decode()
    assert "from bot import run" in text and "def test_" in text
    compile(text, "test_generated.py", "exec")
    bad = acme_api.get(f"/api/v1/patterns/{pattern.id}/scenarios?format=pytest&module=os;rm&function=run")
    assert bad.status_code == 400


def test_trace_scenarios_and_improvements(acme_api):
    created = post(acme_api, failing("f1"))[0]
    scenarios = acme_api.get(f"/api/v1/traces/{created['id']}/scenarios").json()["scenarios"]
    assert scenarios and all({"name", "input", "expected_behaviour"} <= set(s) for s in scenarios)
    improvements = acme_api.get(f"/api/v1/traces/{created['id']}/improvements").json()
    assert any("timeout" in (f.get("code") or "").lower() for f in improvements["fixes"])


def test_feedback_overrides_the_verdict_and_moves_the_rollup(acme_api, acme):
    created = post(acme_api, sample_trace("labelled"))[0]
    hour = AgentHour.objects.get(organisation=acme.organisation)
    assert (hour.runs, hour.successes) == (1, 1)
    response = acme_api.post(f"/api/v1/traces/{created['id']}/feedback",
                             {"correct": False, "score": 2, "label": "empty_output", "notes": "wrong order"})
    assert response.status_code == 201
    hour.refresh_from_db()
    assert (hour.runs, hour.successes) == (1, 0)
    assert acme_api.get(created["analysis_url"]).json()["verdict"] is False
    reliability = acme_api.get("/api/v1/agents/support-bot/reliability").json()
    assert reliability["successes"] == 0
    assert reliability["agreement"]["n"] == 1 and reliability["agreement"]["accuracy"] == 0.0


@pytest.mark.parametrize("body, field", [({}, "correct"), ({"score": 9}, "score"), ({"label": "vibes"}, "label")])
def test_bad_feedback_is_400_naming_the_field(acme_api, body, field):
    created = post(acme_api, sample_trace("x"))[0]
    response = acme_api.post(f"/api/v1/traces/{created['id']}/feedback", body)
    assert response.status_code == 400
    assert field in response.content.decode()


def test_agent_reliability_has_interval_grade_and_pass_k(acme_api):
    post(acme_api, [sample_trace(f"ok{i}") for i in range(8)] + [failing(f"bad{i}") for i in range(2)])
    body = acme_api.get("/api/v1/agents/support-bot/reliability?window=7d").json()
    assert (body["runs"], body["successes"], body["reliability"]) == (10, 8, 80.0)
    assert body["wilson_low"] < 80 < body["wilson_high"]
    assert body["grade"]
    assert body["pass_k"]  # all runs share one input, so pass^k is estimated
    listing = acme_api.get("/api/v1/agents").json()["results"]
    assert listing[0]["name"] == "support-bot" and listing[0]["runs"] == 10


def test_bad_window_is_400(acme_api):
    post(acme_api, sample_trace("x"))
    assert acme_api.get("/api/v1/agents/support-bot/reliability?window=forever").status_code == 400


def test_baseline_and_compare(acme_api):
    old = (timezone.now() - timedelta(days=10)).isoformat()
    post(acme_api, [failing(f"old{i}", started_at=old) for i in range(5)])
    post(acme_api, [sample_trace(f"new{i}") for i in range(5)])
    start = (timezone.now() - timedelta(days=11)).isoformat()
    end = (timezone.now() - timedelta(days=8)).isoformat()
    baseline = acme_api.post("/api/v1/baselines", {"agent": "support-bot", "name": "before", "start": start,
                                                   "end": end})
    assert baseline.status_code == 201
    compared = acme_api.get(f"/api/v1/compare?baseline={baseline.json()['id']}&current=7d").json()
    reliability = next(m for m in compared["metrics"] if "reliab" in m["metric"])
    assert reliability["delta"] > 0


def test_improvement_plan_ranks_open_patterns(acme_api):
    post(acme_api, [failing(f"f{i}") for i in range(3)] + [sample_trace(f"ok{i}") for i in range(3)])
    plan = acme_api.get("/api/v1/agents/support-bot/plan").json()
    assert plan["open"][0]["category"] == "tool_timeout" and plan["open"][0]["scenarios"]
    assert plan["progress"][-1] == {**plan["progress"][-1], "runs": 6, "reliability": 50.0}
    assert len(plan["progress"]) == 8


def test_pii_is_masked_before_storage_when_the_org_asks(acme_api, acme):
    from traces.models import Trace

    acme.organisation.mask_pii_at_ingestion = True
    acme.organisation.save()
    secret = {"note": "SSN 536-90-4399, mail ann@example.com"}
    acme_api.post("/api/v1/traces", sample_trace("masked", input=secret, output=secret))
    stored = Trace.objects.get(trace_id="masked")
    text = str(stored.input) + str(stored.output) + str(stored.spans)
    assert "536-90-4399" not in text and "ann@example.com" not in text
    assert "SSN" in text  # the surrounding text is kept


def test_fixed_pattern_resolves_after_enough_clean_runs(acme_api, acme):
    post(acme_api, [failing("f0")] + [sample_trace(f"ok{i}") for i in range(3)])
    pattern = FailurePattern.objects.get(organisation=acme.organisation)
    assert acme_api.post(f"/api/v1/patterns/{pattern.id}/fix-applied", {}).json()["status"] == "fix_applied"
    pattern.refresh_from_db()
    needed = pattern.runs_since_fix
    assert needed == 0 and pattern.prior_rate == 0.25
    post(acme_api, [sample_trace(f"clean{i}") for i in range(11)])  # (1 - 0.25)^11 < 0.05
    pattern.refresh_from_db()
    assert pattern.status == "resolved"
    post(acme_api, failing("again"))
    pattern.refresh_from_db()
    assert pattern.status == "regressed"


def test_reevaluate_command_requeues_and_keeps_rollups_right(acme_api, acme, django_capture_on_commit_callbacks):
    post(acme_api, [sample_trace(f"r{i}") for i in range(3)])
    Evaluation.objects.update(engine_version="0.0.1")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("reevaluate")
    assert set(Evaluation.objects.values_list("engine_version", flat=True)) != {"0.0.1"}
    hour = AgentHour.objects.get(organisation=acme.organisation)
    assert hour.runs == 3


class TestOutsider:
    def test_outsider_gets_404_everywhere(self, acme_api, globex_api, acme):
        created = post(acme_api, failing("f1"))[0]
        pattern = FailurePattern.objects.get(organisation=acme.organisation)
        baseline = acme_api.post("/api/v1/baselines", {"agent": "support-bot", "name": "b", "window": "7d"}).json()
        for path in (f"/api/v1/traces/{created['id']}/scenarios", f"/api/v1/traces/{created['id']}/improvements",
                     "/api/v1/agents/support-bot/reliability", "/api/v1/agents/support-bot/plan",
                     f"/api/v1/patterns/{pattern.id}", f"/api/v1/patterns/{pattern.id}/scenarios",
                     f"/api/v1/compare?baseline={baseline['id']}"):
            assert globex_api.get(path).status_code == 404, path
        for path in (f"/api/v1/traces/{created['id']}/feedback", f"/api/v1/patterns/{pattern.id}/fix-applied"):
            assert globex_api.post(path, {"correct": True}).status_code == 404, path
        assert globex_api.post("/api/v1/baselines", {"agent": "support-bot", "name": "x"}).status_code == 404
        assert globex_api.get("/api/v1/patterns").json()["results"] == []
        assert globex_api.get("/api/v1/agents").json()["results"] == []


def test_savings_found_in_runs_show_as_a_possible_reduction(acme_api):
    call = {"kind": "llm", "name": "chat", "model": "gpt-4o", "provider": "openai",
            "input": {"messages": [{"role": "user", "content": "Summarise order 1042"}]},
            "output": {"content": "Shipped."}, "usage": {"input_tokens": 2000, "output_tokens": 20}}
    trace = sample_trace("dupes", spans=[{**call, "span_id": "a"}, {**call, "span_id": "b"}])
    created = acme_api.post("/api/v1/traces", trace).json()["traces"][0]
    savings = acme_api.get(created["analysis_url"]).json()["details"]["cost"]["savings"]
    assert {s["kind"] for s in savings} >= {"duplicate_calls"}
    reliability = acme_api.get("/api/v1/agents/support-bot/reliability").json()
    assert reliability["reduction_pct"] > 0 and float(reliability["savings_per_run_usd"]) > 0
