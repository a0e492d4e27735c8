"""The broker goes away for 20 seconds while the worker is busy, and comes back empty: nobody touches a process,
and every acknowledged trace is evaluated, once, within two minutes of the broker answering again."""

from __future__ import annotations

import json
import sys
import time
import urllib.request

import pytest
from django.conf import settings

from evaluations.models import AgentHour, Evaluation
from tests.conftest import sample_trace
from tests.processes import celery_worker, private_redis, process_env, running, wait_until, web_server

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

if not settings.REDIS_URL:
    pytest.skip("needs REDIS_URL (make test sets it)", allow_module_level=True)

QUEUED = 1_500  # before the outage, while the worker works through them
DURING = 200  # acknowledged while the broker is down
OUTAGE_SECONDS = 20
DRAIN_LIMIT_SECONDS = 120


def trace(n: int) -> dict:
    """A run of 40 spans: a worker takes a few seconds over 1,500 of them."""
    spans = [{"span_id": f"s{i}", "kind": "tool" if i % 2 else "llm", "name": f"step-{i % 5}", "model": "gpt-4o-mini",
              "usage": {"input_tokens": 400, "output_tokens": 40}, "input": {"q": f"question {n} part {i}"},
              "output": {"a": f"answer {i}"}, "duration_ms": 20} for i in range(40)]
    return sample_trace(f"outage-{n}", spans=spans)


def post(base: str, key: str, traces: list[dict]) -> int:
    request = urllib.request.Request(f"{base}/api/v1/traces", data=json.dumps(traces).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 202
        return json.loads(response.read())["accepted"]


def count(status: str) -> int:
    return Evaluation.objects.filter(status=status).count()


def test_evaluation_survives_a_broker_outage_without_a_person(acme, tmp_path):
    with private_redis(tmp_path) as redis, web_server(REDIS_URL=redis.url) as (base, _), \
            running([sys.executable, "-m", "celery", "-A", "arcweb", "beat", "--loglevel=INFO",
                     "--schedule", str(tmp_path / "beat-schedule")], process_env(REDIS_URL=redis.url),
                    "test-beat") as beat:
        acknowledged = sum(post(base, acme.key, [trace(n) for n in range(start, start + 100)])
                           for start in range(0, QUEUED, 100))
        with celery_worker(queue_purge=False, pool="prefork", REDIS_URL=redis.url) as worker:
            assert wait_until(lambda: count("done") > 0, timeout=60, interval=0.05), "the worker never started"
            redis.stop()
            assert count("pending") > 0, "the worker finished before the outage: nothing was in flight"
            # Late in the outage, when the worker has run out of what it took from the database meanwhile.
            time.sleep(OUTAGE_SECONDS - 5)
            acknowledged += sum(post(base, acme.key, [trace(n) for n in range(start, start + 100)])
                                for start in range(QUEUED, QUEUED + DURING, 100))
            time.sleep(5)
            waiting = count("pending")
            redis.start()
            back_at = time.monotonic()
            drained = wait_until(lambda: count("done") == acknowledged, timeout=DRAIN_LIMIT_SECONDS, interval=0.5)
            drain_seconds = time.monotonic() - back_at
            alive = (worker.poll(), beat.poll())
    stored = Evaluation.objects.count()
    print(f"\nbroker outage: acknowledged {acknowledged}, stored {stored}, evaluated {count('done')}, "
          f"{waiting} waiting when the broker came back, drained {drain_seconds:.1f} s later")
    assert waiting >= DURING, "nothing was left for the broker's return"
    assert alive == (None, None), "the worker or beat exited"
    assert drained, f"{count('pending')} of {acknowledged} still pending {DRAIN_LIMIT_SECONDS} s after the outage"
    assert acknowledged == QUEUED + DURING == stored
    assert set(Evaluation.objects.values_list("attempts", flat=True)) == {1}  # each run evaluated once
    assert sum(AgentHour.objects.values_list("runs", flat=True)) == acknowledged
