"""PostgreSQL restarted under ingestion: clients get 503 with Retry-After, never a 500, never a 2xx
without the row; the SDK's retries deliver everything it queued.

The test restarts a PostgreSQL server of its own (initdb on a free port), never the machine's: other test
runs and services on the machine keep their database.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from tests.conftest import sample_trace
from tests.processes import ROOT, free_port, process_env, wait_until, web_server

PG_BIN = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1:] if Path("/usr/lib/postgresql").is_dir() else []
pytestmark = [pytest.mark.slow, pytest.mark.postgres_restart,
              pytest.mark.skipif(not PG_BIN or (os.geteuid() == 0 and not shutil.which("runuser")),
                                 reason="needs PostgreSQL's server binaries (initdb, pg_ctl), and runuser as root")]


class PrivatePostgres:
    """A PostgreSQL server in a temporary folder, owned by the `postgres` user when run as root."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/arc"

    def run(self, *args: str) -> None:
        command = [str(PG_BIN[0] / args[0]), *args[1:]]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def ctl(self, action: str) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        # The server writes to its own log: a pipe it inherited would keep this call waiting for its end.
        self.run("pg_ctl", "-D", str(self.folder / "data"), "-l", str(self.folder / "server.log"), "-o", options,
                 "-w", "-m", "fast", action)


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    folder = Path(tempfile.mkdtemp(prefix="arc-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    server = PrivatePostgres(folder)
    try:
        server.run("initdb", "-D", str(folder / "data"), "-U", "postgres", "-A", "trust", "--no-sync")
        server.ctl("start")
        with psycopg.connect(server.url.replace("/arc", "/postgres"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE arc")
        yield server
    finally:
        if (folder / "data" / "postmaster.pid").exists():
            server.ctl("stop")
        shutil.rmtree(folder, ignore_errors=True)


def manage(database_url: str, *args: str) -> str:
    env = process_env(DATABASE_URL=database_url, REDIS_URL="")
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True,
                          text=True, timeout=300)
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


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


def test_restart_under_load_loses_nothing_acknowledged():
    from arc_eval import ArcTracer

    answers: list[tuple[str, int, str | None]] = []
    stop = threading.Event()
    with private_postgres() as pg:
        manage(pg.url, "migrate", "--noinput", "-v0")
        manage(pg.url, "create_org", "acme", "--owner", "owner@acme.test")
        key = manage(pg.url, "create_api_key", "acme")
        with web_server(DATABASE_URL=pg.url, REDIS_URL="") as (base, _):
            tracer = ArcTracer(api_key=key, base_url=base, agent_id="sdk-during-restart", flush_at_exit=False,
                               backoff_max=1.0, batch_size=20, flush_interval=0.2)

            @tracer.trace_agent
            def agent(n: int) -> dict:
                return {"answer": n}

            def client(worker: int) -> None:
                n = 0
                while not stop.is_set():
                    trace_id = f"restart-{worker}-{n}"
                    answers.append((trace_id, *post(base, key, trace_id)))
                    agent(n)
                    n += 1
                    time.sleep(0.02)

            threads = [threading.Thread(target=client, args=(w,)) for w in range(3)]
            for thread in threads:
                thread.start()
            try:
                time.sleep(2)
                pg.ctl("stop")
                time.sleep(3)
                pg.ctl("start")
                time.sleep(3)
            finally:
                stop.set()
                for thread in threads:
                    thread.join()
            assert wait_until(lambda: tracer.flush(timeout=5), timeout=60)
            tracer.shutdown()

        with psycopg.connect(pg.url) as conn:
            stored = {row[0] for row in conn.execute("SELECT trace_id FROM traces_trace")}
            sdk_stored = conn.execute(
                "SELECT count(*) FROM traces_trace t JOIN traces_agent a ON a.id = t.agent_id "
                "WHERE a.name = 'sdk-during-restart'").fetchone()[0]

    statuses = {status for _, status, _ in answers}
    assert 503 in statuses, "the restart was not seen by any request"
    assert statuses <= {202, 503}, statuses
    assert all(retry for _, status, retry in answers if status == 503)
    acknowledged = {trace_id for trace_id, status, _ in answers if status == 202}
    assert acknowledged <= stored
    assert tracer.stats.dropped == 0 and tracer.stats.failed == 0
    assert sdk_stored == len(answers)  # one SDK run per HTTP request made
