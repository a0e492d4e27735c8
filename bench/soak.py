"""Soak: ten minutes of mixed traffic at about half the measured capacity, against gunicorn + a Celery worker
on PostgreSQL and Redis. Prints, per minute, requests, errors and p95 latency, the resident memory of the web
and worker processes at the start and the end, whether every acknowledged trace was stored and evaluated, and
how far the verdicts were behind (202 → verdict, from the rows' timestamps).

Traffic (paced, from threads in this process): 10-trace batches and single traces (about 100 traces/s
together), the overview page, the trace explorer and an explorer text search (logged in), and API reads (trace
list, agent reliability).

Run: .venv/bin/python bench/soak.py [--minutes 10] [--traces-per-second 100]
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import GUNICORN, PYTHON, ROOT, free_port, pg_admin, sh, trace_template, wait_healthy  # noqa: E402

PG_URL = os.environ.get("SOAK_PG_URL", "postgres://postgres@127.0.0.1:5432/arc_soak")
REDIS_URL = os.environ.get("SOAK_REDIS_URL", "redis://127.0.0.1:6379/8")
PASSWORD = "soak-password-" + uuid.uuid4().hex[:8]


class Recorder:
    def __init__(self, start: float):
        self.start = start
        self.lock = threading.Lock()
        self.latencies: dict[int, list[float]] = defaultdict(list)
        self.errors: dict[int, list[str]] = defaultdict(list)
        self.acknowledged = 0

    def add(self, kind: str, seconds: float, status: int, traces: int = 0) -> None:
        minute = int((time.monotonic() - self.start) // 60)
        with self.lock:
            self.latencies[minute].append(seconds * 1000)
            if status >= 400 or status == 0:
                self.errors[minute].append(f"{kind}:{status}")
            elif traces:
                self.acknowledged += traces


def rss_mb(pid: int) -> float:
    total = 0
    for p in [pid, *children(pid)]:
        try:
            text = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        total += int(re.search(r"VmRSS:\s+(\d+)", text).group(1))
    return round(total / 1024, 1)


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in out]


def paced(stop: threading.Event, per_second: float, action) -> None:
    interval = 1 / per_second
    next_at = time.monotonic()
    while not stop.is_set():
        action()
        next_at += interval
        delay = next_at - time.monotonic()
        if delay > 0:
            stop.wait(delay)
        else:
            next_at = time.monotonic()


def api_client(port: int, key: str, recorder: Recorder):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json", "Host": "127.0.0.1"}

    def call(kind: str, method: str, path: str, body: bytes | None = None, traces: int = 0) -> None:
        nonlocal conn
        started = time.monotonic()
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            status = 0
        recorder.add(kind, time.monotonic() - started, status, traces)

    return call


def batch_body(templates: list[str], size: int) -> bytes:
    return ("[" + ",".join(templates[n % len(templates)].replace("@@TRACE_ID@@", uuid.uuid4().hex)
                           for n in range(size)) + "]").encode()


def browser_session(port: int) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/accounts/login/", headers={"Host": "127.0.0.1"})
    response = conn.getresponse()
    html = response.read().decode()
    cookies = {c.split("=", 1)[0]: c.split("=", 1)[1].split(";")[0] for c in response.headers.get_all("Set-Cookie")}
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    body = urlencode({"login": "soak@example.com", "password": PASSWORD, "csrfmiddlewaretoken": token})
    conn.request("POST", "/accounts/login/", body=body, headers={
        "Host": "127.0.0.1", "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()), "Referer": f"http://127.0.0.1:{port}/"})
    response = conn.getresponse()
    response.read()
    cookies.update({c.split("=", 1)[0]: c.split("=", 1)[1].split(";")[0]
                    for c in response.headers.get_all("Set-Cookie") or []})
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--traces-per-second", type=float, default=100)
    args = parser.parse_args()
    import redis

    env = {**os.environ, "DATABASE_URL": PG_URL, "REDIS_URL": REDIS_URL, "DJANGO_DEBUG": "0",
           "SECRET_KEY": "soak-" + uuid.uuid4().hex * 2, "ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "false",
           "ARC_API_RATE": "1000000/min", "LOG_LEVEL": "WARNING", "ARC_VAR_DIR": str(ROOT / "var" / "soak")}
    db = PG_URL.rsplit("/", 1)[1]
    broker = redis.Redis.from_url(REDIS_URL)
    if broker.dbsize():
        raise SystemExit(f"{REDIS_URL} is not empty; pick another with SOAK_REDIS_URL")
    pg_admin(f'drop database if exists "{db}" with (force)')
    pg_admin(f'create database "{db}"')
    processes: list[subprocess.Popen] = []
    try:
        sh(str(PYTHON), "manage.py", "migrate", "--noinput", "-v0", env=env)
        sh(str(PYTHON), "manage.py", "collectstatic", "--noinput", "-v0", env=env)
        sh(str(PYTHON), "manage.py", "create_org", "soak", "--owner", "soak@example.com", env=env)
        sh(str(PYTHON), "manage.py", "shell", "-c",
           "from django.contrib.auth import get_user_model as g; u = g().objects.get(email='soak@example.com'); "
           f"u.set_password('{PASSWORD}'); u.save()", env=env)
        key = sh(str(PYTHON), "manage.py", "create_api_key", "soak", env=env).strip().splitlines()[-1]
        port = free_port()
        web = subprocess.Popen([str(GUNICORN), "arcweb.wsgi:application", "--bind", f"127.0.0.1:{port}",
                                "--workers", "2", "--log-level", "warning"], cwd=ROOT, env=env, start_new_session=True)
        worker = subprocess.Popen([str(PYTHON), "-m", "celery", "-A", "arcweb", "worker", "--concurrency=1",
                                   "--loglevel=WARNING"], cwd=ROOT, env=env, start_new_session=True)
        processes += [web, worker]
        wait_healthy(port, web)
        time.sleep(5)
        cookie = browser_session(port)
        templates = [trace_template(seed) for seed in range(20)]
        start = time.monotonic()
        recorder = Recorder(start)
        memory = {"web": [rss_mb(web.pid)], "worker": [rss_mb(worker.pid)]}
        stop = threading.Event()

        def batches():
            call = api_client(port, key, recorder)
            paced(stop, args.traces_per_second * 0.8 / 10,
                  lambda: call("batch", "POST", "/api/v1/traces", batch_body(templates, 10), traces=10))

        def singles():
            call = api_client(port, key, recorder)
            paced(stop, args.traces_per_second * 0.2,
                  lambda: call("single", "POST", "/api/v1/traces", batch_body(templates, 1)[1:-1], traces=1))

        def reads():
            call = api_client(port, key, recorder)
            paths = ["/api/v1/traces?limit=50", "/api/v1/agents?window=24h"]
            paced(stop, 4, lambda: call("api", "GET", paths[int(time.monotonic()) % 2]))

        def pages():
            conn_headers = {"Cookie": cookie, "Host": "127.0.0.1"}

            def view():
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                started = time.monotonic()
                path = ("/o/soak/", "/o/soak/traces/", "/o/soak/traces/?q=refund+policy")[int(started) % 3]
                try:
                    conn.request("GET", path, headers=conn_headers)
                    status = conn.getresponse().status
                except OSError:
                    status = 0
                recorder.add("page", time.monotonic() - started, status)
                conn.close()

            paced(stop, 2, view)

        threads = [threading.Thread(target=t) for t in (batches, singles, reads, pages)]
        for thread in threads:
            thread.start()
        deadline = start + args.minutes * 60
        while time.monotonic() < deadline:
            time.sleep(min(60, deadline - time.monotonic()))
            memory["web"].append(rss_mb(web.pid))
            memory["worker"].append(rss_mb(worker.pid))
            minute = int((time.monotonic() - start) // 60) - 1  # the minute that just ended
            print(f"minute {minute + 1}: {len(recorder.latencies[minute])} requests, "
                  f"{len(recorder.errors[minute])} errors, web {memory['web'][-1]} MB, "
                  f"worker {memory['worker'][-1]} MB", flush=True)
        stop.set()
        for thread in threads:
            thread.join()
        drained = wait_evaluated(env, timeout=300)
        print()
        print(f"{'minute':>6} {'requests':>8} {'errors':>6} {'p50 ms':>7} {'p95 ms':>7}")
        for minute in sorted(recorder.latencies):
            values = sorted(recorder.latencies[minute])
            p95 = values[int(len(values) * 0.95) - 1] if len(values) > 20 else max(values)
            print(f"{minute + 1:>6} {len(values):>8} {len(recorder.errors[minute]):>6} "
                  f"{statistics.median(values):>7.1f} {p95:>7.1f}")
        counts = drained
        errors = sum(len(e) for e in recorder.errors.values())
        print(f"\nresident memory MB, start → end: web {memory['web'][0]} → {memory['web'][-1]}, "
              f"worker {memory['worker'][0]} → {memory['worker'][-1]}")
        print(f"acknowledged traces {recorder.acknowledged}; stored {counts['traces']}; evaluated {counts['done']}; "
              f"pending {counts['pending']}; errors {errors}")
        lag = verdict_lag()
        print(f"verdict lag (202 → verdict): p50 {lag['p50']} s, p95 {lag['p95']} s, max {lag['max']} s; "
              f"p95 per minute: {lag['p95_per_minute']}")
        print(json.dumps({"memory": memory, "acknowledged": recorder.acknowledged, "counts": counts,
                          "errors": errors, "lag": lag}))
        return 0 if errors == 0 and counts["traces"] == recorder.acknowledged and not counts["pending"] else 1
    finally:
        stop_processes(processes)
        pg_admin(f'drop database if exists "{db}" with (force)')
        broker.flushdb()


def stop_processes(processes: list[subprocess.Popen]) -> None:
    """SIGTERM each process group started here (SIGKILL after 20 s)."""
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile of sorted values."""
    return values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))] if values else float("nan")


def verdict_lag() -> dict:
    """Seconds from a trace's receipt to its verdict (Evaluation.evaluated_at − Trace.received_at), over all
    evaluated runs and per minute of the run."""
    import psycopg

    with psycopg.connect(PG_URL.replace("postgres://", "postgresql://")) as conn:
        rows = conn.execute("select t.received_at, extract(epoch from e.evaluated_at - t.received_at)::float8 "
                            "from traces_trace t join evaluations_evaluation e on e.trace_id = t.id "
                            "where e.status = 'done' order by t.received_at").fetchall()
    lags = sorted(lag for _, lag in rows)
    minutes: dict[int, list[float]] = defaultdict(list)
    for received, lag in rows:
        minutes[int((received - rows[0][0]).total_seconds() // 60)].append(lag)
    return {"p50": round(percentile(lags, 0.5), 2), "p95": round(percentile(lags, 0.95), 2),
            "max": round(lags[-1], 2) if lags else None,
            "p95_per_minute": [round(percentile(sorted(v), 0.95), 2) for _, v in sorted(minutes.items())]}


def wait_evaluated(env: dict[str, str], timeout: float) -> dict[str, int]:
    import psycopg

    deadline = time.monotonic() + timeout
    url = PG_URL.replace("postgres://", "postgresql://")
    while True:
        with psycopg.connect(url) as conn:
            traces = conn.execute("select count(*) from traces_trace").fetchone()[0]
            done = conn.execute("select count(*) from evaluations_evaluation where status = 'done'").fetchone()[0]
            pending = conn.execute("select count(*) from evaluations_evaluation where status = 'pending'").fetchone()[0]
        if not pending or time.monotonic() > deadline:
            return {"traces": traces, "done": done, "pending": pending}
        time.sleep(2)


if __name__ == "__main__":
    sys.exit(main())
