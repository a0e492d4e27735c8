"""PostgreSQL restarted under ingestion: clients get 503 with Retry-After, never a 500, never a 2xx
without the row; the SDK's retries deliver everything it queued."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from tests.conftest import sample_trace
from tests.processes import wait_until, web_server
from traces.models import Trace

CLUSTERS = Path("/etc/postgresql")
pytestmark = [pytest.mark.slow, pytest.mark.postgres_restart, pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(not (shutil.which("pg_ctlcluster") and CLUSTERS.is_dir() and os.geteuid() == 0
                                      and connection.vendor == "postgresql"),
                                 reason="needs the local PostgreSQL cluster, root and pg_ctlcluster")]


def pg(action: str) -> None:
    version = sorted(p.name for p in CLUSTERS.iterdir())[-1]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action], check=True,
                   capture_output=True, timeout=60)


def post(base: str, key: str, trace_id: str) -> tuple[int, str | None]:
    body = json.dumps(sample_trace(trace_id)).encode()
    request = urllib.request.Request(f"{base}/api/v1/traces", data=body, method="POST",
                                     headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, None
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Retry-After")
    except OSError:
        return 0, None


def test_restart_under_load_loses_nothing_acknowledged(acme):
    from arc_eval import ArcTracer

    answers: list[tuple[str, int, str | None]] = []
    stop = threading.Event()
    with web_server(REDIS_URL="") as (base, _):
        tracer = ArcTracer(api_key=acme.key, base_url=base, agent_id="sdk-during-restart", flush_at_exit=False,
                           backoff_max=1.0, batch_size=20, flush_interval=0.2)

        @tracer.trace_agent
        def agent(n: int) -> dict:
            return {"answer": n}

        def client(worker: int) -> None:
            n = 0
            while not stop.is_set():
                trace_id = f"restart-{worker}-{n}"
                answers.append((trace_id, *post(base, acme.key, trace_id)))
                agent(n)
                n += 1
                time.sleep(0.02)

        threads = [threading.Thread(target=client, args=(w,)) for w in range(3)]
        for thread in threads:
            thread.start()
        try:
            time.sleep(2)
            pg("stop")
            time.sleep(3)
            pg("start")
            time.sleep(3)
        finally:
            stop.set()
            for thread in threads:
                thread.join()
            pg("start") if subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1"]).returncode else None
        connection.close()  # this process's connection died with the restart
        assert wait_until(lambda: tracer.flush(timeout=5), timeout=60)
        tracer.shutdown()

    statuses = {status for _, status, _ in answers}
    assert 503 in statuses, "the restart was not seen by any request"
    assert statuses <= {202, 503}, statuses
    assert all(retry for _, status, retry in answers if status == 503)
    acknowledged = {trace_id for trace_id, status, _ in answers if status == 202}
    stored = set(Trace.objects.filter(trace_id__in=acknowledged).values_list("trace_id", flat=True))
    assert stored == acknowledged
    runs = sum(1 for _ in answers)
    sdk_stored = Trace.objects.filter(agent__name="sdk-during-restart").count()
    assert tracer.stats.dropped == 0 and tracer.stats.failed == 0
    assert sdk_stored == runs  # one SDK run per HTTP request made
