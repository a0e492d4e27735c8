"""The engine API with evaluation done by a real Celery worker process on Redis."""

from __future__ import annotations

import re

import pytest
from django.conf import settings

from evaluations.models import AgentHour, Evaluation, FailurePattern
from tests.conftest import sample_trace
from tests.evaluations.test_engine_api import failing
from tests.processes import celery_worker, log_path, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (make test sets it)")]


def test_worker_evaluation_feeds_analysis_patterns_and_reliability(acme_api):
    with celery_worker():
        traces = acme_api.post("/api/v1/traces", [failing(f"w{i}") for i in range(2)]).json()["traces"]
        ids = [t["id"] for t in traces]
        assert wait_until(lambda: set(Evaluation.objects.filter(trace_id__in=ids)
                                      .values_list("status", flat=True)) == {"done"})
    analysis = acme_api.get(traces[0]["analysis_url"]).json()
    assert analysis["failure_category"] == "tool_timeout" and analysis["verdict"] is False
    patterns = acme_api.get("/api/v1/patterns").json()["results"]
    assert [(p["category"], p["occurrences"]) for p in patterns] == [("tool_timeout", 2)]
    assert acme_api.get("/api/v1/agents/support-bot/reliability").json()["runs"] == 2


def test_two_workers_share_a_backlog_and_evaluate_each_run_once(acme_api, acme):
    traces = [failing(f"f{n}") if n % 4 == 0 else sample_trace(f"ok{n}") for n in range(1000)]
    with celery_worker(log_name="test-worker-a"), celery_worker(queue_purge=False, log_name="test-worker-b"):
        # One request, one wake-up: the worker taking the first (full) batch wakes the other.
        assert acme_api.post("/api/v1/traces", traces).status_code == 202
        assert wait_until(lambda: Evaluation.objects.filter(status="done").count() == 1000, timeout=120)
    assert set(Evaluation.objects.values_list("attempts", flat=True)) == {1}
    assert sum(AgentHour.objects.filter(organisation=acme.organisation).values_list("runs", flat=True)) == 1000
    assert FailurePattern.objects.get(organisation=acme.organisation).occurrences == 250
    evaluated = [sum(map(int, re.findall(r"succeeded in [\d.]+s: (\d+)", log_path(name).read_text())))
                 for name in ("test-worker-a", "test-worker-b")]
    assert sum(evaluated) == 1000 and all(evaluated), f"one worker took every batch: {evaluated}"
