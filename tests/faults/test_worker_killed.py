"""A worker process killed in the middle of an evaluation: the task comes back and runs exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
from django.conf import settings

from evaluations.models import AgentHour, Evaluation
from tests.conftest import sample_trace
from tests.processes import celery_worker, log_path, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

if not settings.REDIS_URL:
    pytest.skip("needs REDIS_URL (make test sets it)", allow_module_level=True)

RUNS = 60


def heavy_trace(n: int) -> dict:
    """A run with 300 spans: evaluating a batch of them takes long enough to be interrupted."""
    spans = [{"span_id": f"s{i}", "kind": "tool" if i % 2 else "llm", "name": f"step-{i % 7}",
              "model": "gpt-4o-mini", "usage": {"input_tokens": 900, "output_tokens": 90},
              "input": {"q": f"question {n} part {i} " * 5}, "output": {"a": f"answer {i} " * 8},
              "duration_ms": 12} for i in range(300)]
    return sample_trace(f"heavy-{n}", spans=spans)


def pool_child(parent: int) -> int | None:
    found = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True).stdout.split()
    return int(found[0]) if found else None


def test_killed_worker_child_is_replaced_and_every_run_is_evaluated_once(acme_api, acme):
    response = acme_api.post("/api/v1/traces", [heavy_trace(n) for n in range(RUNS)])
    assert response.status_code == 202, response.content[:300]
    assert Evaluation.objects.filter(status="pending").count() == RUNS
    with celery_worker(queue_purge=False, pool="prefork") as worker:
        log = log_path("test-worker")
        assert wait_until(lambda: b"Task evaluations.tasks.evaluate_pending" in log.read_bytes()
                          or b"evaluate_pending[" in log.read_bytes(), timeout=30)
        time.sleep(0.3)  # inside the engine, before the batch commits
        child = pool_child(worker.pid)
        assert child is not None, "no pool process to kill"
        os.kill(child, signal.SIGKILL)
        assert wait_until(lambda: Evaluation.objects.filter(status="done").count() == RUNS, timeout=120), \
            log.read_text()[-3000:]
        text = log.read_text()
    assert "WorkerLostError" in text or "SIGKILL" in text or "exited with" in text
    assert Evaluation.objects.count() == RUNS
    hours = AgentHour.objects.filter(organisation=acme.organisation)
    assert sum(h.runs for h in hours) == RUNS  # counted once, though one batch ran twice
