"""The engine API with evaluation done by a real Celery worker process on Redis."""

from __future__ import annotations

import pytest
from django.conf import settings

from evaluations.models import Evaluation
from tests.evaluations.test_engine_api import failing
from tests.processes import celery_worker, wait_until

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
