"""A worker process killed in the middle of an evaluation: the task comes back and runs exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from evaluations.models import AgentHour, Evaluation
from tests.conftest import sample_trace
from tests.processes import celery_worker, log_path, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (make test sets it)")]

RUNS = 60


def heavy_trace(n: int) -> dict:
    """A run with 300 spans: evaluating a batch of them takes long enough to be interrupted."""
    spans = [{"span_id": f"s{i}", "kind": "tool" if i % 2 else "llm", "name": f"step-{i % 7}",
              "model": "gpt-4o-mini", "usage": {"input_tokens": 900, "output_tokens": 90},
              "input": {"q": f"question {n} part {i} " * 5}, "output": {"a": f"answer {i} " * 8},
              "duration_ms": 12} for i in range(300)]
    return sample_trace(f"heavy-{n}", spans=spans)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/<pid>/stat, fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pool_child(parent: int) -> int | None:
    found = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True).stdout.split()
    return int(found[0]) if found else None


def test_killed_worker_child_is_replaced_and_every_run_is_evaluated_once(acme_api, acme):
    response = acme_api.post("/api/v1/traces", [heavy_trace(n) for n in range(RUNS)])
    assert response.status_code == 202, response.content[:300]
    assert Evaluation.objects.filter(status="pending").count() == RUNS
    with celery_worker(queue_purge=False, pool="prefork") as worker:
        log = log_path("test-worker")
        assert wait_until(lambda: b"Task evaluations.tasks.evaluate_traces" in log.read_bytes()
                          or b"evaluate_traces[" in log.read_bytes(), timeout=30)
        child = pool_child(worker.pid)
        assert child is not None, "no pool process to kill"
        busy_from = cpu_seconds(child)
        # inside the engine: the pool process has spent 0.1 s of CPU on the batch (all of it takes seconds)
        assert wait_until(lambda: cpu_seconds(child) - busy_from >= 0.1, timeout=30, interval=0.01)
        os.kill(child, signal.SIGKILL)
        assert Evaluation.objects.filter(status="done").count() == 0  # killed before the batch committed
        assert wait_until(lambda: Evaluation.objects.filter(status="done").count() == RUNS, timeout=120), \
            log.read_text()[-3000:]
        text = log.read_text()
    assert "WorkerLostError" in text and "signal 9 (SIGKILL)" in text  # the batch was in the killed process
    assert Evaluation.objects.count() == RUNS
    hours = AgentHour.objects.filter(organisation=acme.organisation)
    assert sum(h.runs for h in hours) == RUNS  # counted once, though one batch ran twice
