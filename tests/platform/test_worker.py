"""Evaluation through a real Celery worker on Redis, and what happens while the broker is down."""

from __future__ import annotations

import json
import urllib.request
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from evaluations.models import Evaluation
from evaluations.tasks import sweep_pending
from tests.conftest import sample_trace
from tests.processes import celery_worker, wait_until, web_server

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (make test sets it)")]


def post(url: str, key: str, body) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read())


def status_of(trace_id: str) -> str:
    return Evaluation.objects.get(trace_id=trace_id).status


def test_a_real_worker_evaluates_an_ingested_trace(acme, api_for):
    with celery_worker():
        created = api_for(acme.key).post("/api/v1/traces", sample_trace("via-worker")).json()["traces"][0]
        assert wait_until(lambda: status_of(created["id"]) == "done"), "the worker did not evaluate the trace"
    evaluation = Evaluation.objects.get(trace_id=created["id"])
    assert (evaluation.llm_calls, evaluation.tool_calls, evaluation.attempts) == (1, 1, 1)


def test_broker_down_still_accepts_and_the_sweeper_evaluates_later(acme):
    # A web server whose broker is unreachable: ingestion must still answer 202 with the row stored.
    with web_server(REDIS_URL="redis://127.0.0.1:9/0") as (base, _):
        status, body = post(f"{base}/api/v1/traces", acme.key, [sample_trace(f"outage-{i}") for i in range(3)])
    assert status == 202 and body["accepted"] == 3
    ids = [t["id"] for t in body["traces"]]
    assert list(Evaluation.objects.filter(trace_id__in=ids).values_list("status", flat=True)) == ["pending"] * 3

    # The broker is back: the sweeper re-enqueues what waited past ARC_SWEEP_AFTER and a worker evaluates it.
    Evaluation.objects.filter(trace_id__in=ids).update(enqueued_at=timezone.now() - timedelta(minutes=10))
    with celery_worker():
        assert sweep_pending() == 3
        assert wait_until(lambda: all(status_of(i) == "done" for i in ids)), "swept evaluations were not run"


def test_sweeper_leaves_fresh_pending_rows_alone(acme):
    with web_server(REDIS_URL="redis://127.0.0.1:9/0") as (base, _):
        _, body = post(f"{base}/api/v1/traces", acme.key, sample_trace("fresh"))
    assert sweep_pending() == 0
    assert status_of(body["traces"][0]["id"]) == "pending"
