"""Evaluation through a real Celery worker on Redis, and what happens while the broker is down."""

from __future__ import annotations

import json
import sys
import urllib.request

import pytest
import redis
from django.conf import settings
from django.core.cache import cache

from evaluations.models import Evaluation
from evaluations.tasks import WAKE_KEY
from tests.conftest import sample_trace
from tests.processes import celery_worker, process_env, running, wait_until, web_server

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


def test_broker_down_still_accepts_and_the_sweeper_evaluates_later(acme, tmp_path):
    with celery_worker():  # up before the traces arrive: nothing but the sweeper can tell it about them
        # A web server whose broker is unreachable: ingestion must still answer 202 with the row stored.
        with web_server(REDIS_URL="redis://127.0.0.1:9/0") as (base, _):
            status, body = post(f"{base}/api/v1/traces", acme.key, [sample_trace(f"outage-{i}") for i in range(3)])
        assert status == 202 and body["accepted"] == 3
        ids = [t["id"] for t in body["traces"]]
        assert list(Evaluation.objects.filter(trace_id__in=ids).values_list("status", flat=True)) == ["pending"] * 3

        # Beat's periodic wake-up (the sweeper) has the worker take them from the database.
        beat = [sys.executable, "-m", "celery", "-A", "arcweb", "beat", "--schedule", str(tmp_path / "schedule")]
        with running(beat, process_env(ARC_WAKE_SECONDS="1"), "test-beat"):
            assert wait_until(lambda: all(status_of(i) == "done" for i in ids)), "swept evaluations were not run"


def test_a_burst_of_ingestion_queues_one_wake_up(acme, api_for):
    requests = 20
    broker = redis.Redis.from_url(settings.REDIS_URL)
    broker.delete("celery")
    cache.delete(WAKE_KEY)
    for n in range(requests):
        assert api_for(acme.key).post("/api/v1/traces", sample_trace(f"burst-{n}")).status_code == 202
    assert broker.llen("celery") == 1  # no worker is running: the first request's wake-up is still queued
    with celery_worker(queue_purge=False):
        assert wait_until(lambda: Evaluation.objects.filter(status="done").count() == requests)
