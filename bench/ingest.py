"""Ingestion throughput against the running server: PostgreSQL + gunicorn, Redis as the Celery broker.

Creates a scratch database (arc_bench), migrates it, creates an organisation and an API key, starts gunicorn
on a free loopback port and drives POST /api/v1/traces from client threads (stdlib http.client, keep-alive) in
this one process, for a bounded time per phase:

  1. single-trace POSTs (one realistic 10-span trace per request)
  2. 100-trace batches

It prints traces/s and p50/p95/p99 request latency per phase, then checks on the server side that every
acknowledged trace is a row in PostgreSQL with its pending Evaluation, and that evaluation went to the broker
(no worker runs: evaluation is not part of this figure). Then it stops gunicorn, drops the database and empties
the Redis database it used.

Run: .venv/bin/python bench/ingest.py [--seconds 20] [--workers 4] [--single-clients 4] [--batch-clients 4]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
PG_BENCH_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/arc_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")

SYSTEM = ("You are a support agent for an online shop. Answer politely, use the tools to look up orders, "
          "never reveal internal notes. ") * 3
TOOLS = ("lookup_order", "search_kb", "refund_order", "get_customer", "track_parcel")
PLACEHOLDER = "@@TRACE_ID@@"


def trace_template(seed: int) -> str:
    """A realistic 10-span agent run (4 LLM calls with usage, 6 tool calls, a few hundred bytes of input and
    output each, ~6 KB of JSON), its trace_id left as a placeholder so each request can make it unique cheaply."""
    rng = random.Random(seed)
    question = f"Where is my order {rng.randint(1000, 9999)}? It was due on Monday and the tracking page is empty."
    spans: list[dict[str, Any]] = []
    for n in range(10):
        start = f"2026-11-24T10:00:{n * 4:02d}.{rng.randint(0, 999):03d}Z"
        if n % 5 in (0, 3):
            spans.append({
                "span_id": f"s{n}", "parent_id": None if n == 0 else "s0", "kind": "llm", "name": "chat",
                "started_at": start, "duration_ms": round(rng.uniform(300, 1500), 1),
                "model": "gpt-4o-mini", "provider": "openai",
                "input": {"messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}]},
                "output": {"role": "assistant",
                           "content": "Let me look that order up for you and check with the carrier. " * 2},
                "usage": {"input_tokens": rng.randint(400, 2000), "output_tokens": rng.randint(20, 200),
                          "cached_tokens": rng.choice((0, 0, 256))},
            })
        else:
            tool = rng.choice(TOOLS)
            failed = rng.random() < 0.05
            spans.append({
                "span_id": f"s{n}", "parent_id": "s0", "kind": "tool", "name": tool,
                "started_at": start, "duration_ms": round(rng.uniform(20, 400), 1),
                "input": {"order_id": str(rng.randint(1000, 9999)), "customer": f"cus_{rng.randint(10**5, 10**6)}",
                          "fields": ["status", "carrier", "eta", "notes"], "verbose": False},
                "output": None if failed else {
                    "status": "shipped", "carrier": "UPS", "tracking": f"1Z{rng.randint(10**9, 10**10)}",
                    "eta": "2026-11-27", "notes": "Customer called twice about delivery; left at the depot once."},
                "error": {"type": "TimeoutError", "message": "timed out after 30s"} if failed else None,
                "attributes": {"http.status_code": 504 if failed else 200, "retry": 0},
            })
    trace = {
        "trace_id": PLACEHOLDER, "agent_id": f"support-bot-{seed % 3}", "framework": "openai",
        "started_at": "2026-11-24T10:00:00Z", "duration_ms": 42100.0, "success": True,
        "input": {"question": question, "channel": "chat", "locale": "en-GB"},
        "output": {"answer": "Your order has shipped with UPS and should arrive on 27 November."},
        "session_id": f"sess-{seed}", "user_id": f"user-{seed % 50}", "tags": ["prod", "eu"],
        "metadata": {"release": "2026.11.3", "region": "eu-west-1"},
        "spans": spans,
    }
    return json.dumps(trace, separators=(",", ":"))


class Bodies:
    """Request bodies with unique trace_ids, built by string substitution (a few µs each)."""

    def __init__(self) -> None:
        self.templates = [trace_template(seed) for seed in range(16)]
        self.run = uuid.uuid4().hex[:8]
        self.counter = 0
        self.lock = threading.Lock()

    def _ids(self, n: int) -> range:
        with self.lock:
            start = self.counter
            self.counter += n
        return range(start, start + n)

    def body(self, n: int) -> bytes:
        traces = [self.templates[i % 16].replace(PLACEHOLDER, f"bench-{self.run}-{i}", 1) for i in self._ids(n)]
        return (traces[0] if n == 1 else "[" + ",".join(traces) + "]").encode()


@dataclass
class Phase:
    name: str
    batch: int
    clients: int
    latencies: list[float] = field(default_factory=list)
    acknowledged: int = 0
    errors: list[str] = field(default_factory=list)
    elapsed: float = 0.0

    def report(self) -> dict[str, Any]:
        lat = sorted(self.latencies)
        q = statistics.quantiles(lat, n=100, method="inclusive") if len(lat) > 1 else [lat[0] if lat else 0] * 99
        return {"phase": self.name, "batch": self.batch, "clients": self.clients, "requests": len(lat),
                "traces": self.acknowledged, "seconds": round(self.elapsed, 1),
                "traces_per_s": round(self.acknowledged / self.elapsed, 1) if self.elapsed else 0.0,
                "requests_per_s": round(len(lat) / self.elapsed, 1) if self.elapsed else 0.0,
                "p50_ms": round(q[49] * 1000, 1), "p95_ms": round(q[94] * 1000, 1), "p99_ms": round(q[98] * 1000, 1),
                "errors": len(self.errors)}


def client(port: int, key: str, bodies: Bodies, phase: Phase, measure_from: float, stop_at: float,
           lock: threading.Lock) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json", "Host": "127.0.0.1"}
    latencies: list[float] = []
    acknowledged = 0
    errors: list[str] = []
    while True:
        body = bodies.body(phase.batch)
        t0 = time.perf_counter()
        if t0 >= stop_at:
            break
        try:
            conn.request("POST", "/api/v1/traces", body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            errors.append(repr(exc))
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        t1 = time.perf_counter()
        if response.status != 202:
            errors.append(f"{response.status} {data[:200]!r}")
            continue
        accepted = json.loads(data)["accepted"]
        if t0 >= measure_from:  # the warm-up's traces are stored (and counted below) but not timed
            latencies.append(t1 - t0)
        acknowledged += accepted
    conn.close()
    with lock:
        phase.latencies.extend(latencies)
        phase.acknowledged += acknowledged
        phase.errors.extend(errors)


def run_phase(port: int, key: str, bodies: Bodies, phase: Phase, seconds: float, warmup: float) -> int:
    """Fill `phase` with the figures of the measured window; return every trace acknowledged, warm-up included."""
    lock = threading.Lock()
    start = time.perf_counter()
    measure_from, stop_at = start + warmup, start + warmup + seconds
    threads = [threading.Thread(target=client, args=(port, key, bodies, phase, measure_from, stop_at, lock))
               for _ in range(phase.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    acknowledged = phase.acknowledged
    phase.elapsed = seconds
    # Every 202 here accepted its whole batch (the trace_ids are unique), so the window's traces are:
    phase.acknowledged = len(phase.latencies) * phase.batch
    return acknowledged


def sh(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    if done.returncode:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(port: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("gunicorn exited during start-up")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("gunicorn did not become healthy")


def pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        conn.execute(sql)


def server_counts(org_slug: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(PG_BENCH_URL.replace("postgres://", "postgresql://")) as conn:
        org = conn.execute("select id from arcweb_organisation where slug = %s", (org_slug,)).fetchone()[0]
        traces = conn.execute("select count(*) from traces_trace where organisation_id = %s", (org,)).fetchone()[0]
        pending = conn.execute("select count(*) from evaluations_evaluation where organisation_id = %s "
                               "and status = 'pending'", (org,)).fetchone()[0]
    return {"traces": traces, "pending_evaluations": pending}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per phase")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds before each phase")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--single-clients", type=int, default=4, help="concurrent clients, single-trace phase")
    parser.add_argument("--batch-clients", type=int, default=4, help="concurrent clients, 100-trace phase")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    parser.add_argument("--without-search-indexes", action="store_true",
                        help="drop the explorer's indexes (text, session, user, tag: migrate traces back to 0001) "
                             "to measure their cost")
    args = parser.parse_args()

    import redis

    env = {
        **os.environ,
        "DATABASE_URL": PG_BENCH_URL, "REDIS_URL": REDIS_URL, "DJANGO_DEBUG": "0",
        "SECRET_KEY": "bench-" + uuid.uuid4().hex * 2, "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false", "ARC_API_RATE": "1000000/min", "LOG_LEVEL": "WARNING",
        "DB_CONN_MAX_AGE": os.environ.get("DB_CONN_MAX_AGE", "600"),
        "ARC_VAR_DIR": str(ROOT / "var" / "bench"),
    }
    db_name = PG_BENCH_URL.rsplit("/", 1)[1]
    broker = redis.Redis.from_url(REDIS_URL)
    if broker.dbsize():
        raise SystemExit(f"{REDIS_URL} is not empty; pick another with BENCH_REDIS_URL")
    pg_admin(f'drop database if exists "{db_name}" with (force)')
    pg_admin(f'create database "{db_name}"')
    server = None
    try:
        print(f"setting up {db_name} …", flush=True)
        sh(str(PYTHON), "manage.py", "migrate", "--noinput", "-v0", env=env)
        if args.without_search_indexes:
            sh(str(PYTHON), "manage.py", "migrate", "traces", "0001", "--noinput", "-v0", env=env)
        sh(str(PYTHON), "manage.py", "create_org", "bench", "--owner", "bench@example.com", env=env)
        key = sh(str(PYTHON), "manage.py", "create_api_key", "bench", env=env).strip().splitlines()[-1]
        port = free_port()
        server = subprocess.Popen(
            [str(GUNICORN), "arcweb.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers",
             str(args.workers), "--worker-class", "sync", "--keep-alive", "30", "--backlog", "256",
             "--log-level", "warning"],
            cwd=ROOT, env=env, start_new_session=True,
        )
        wait_healthy(port, server)
        print(f"gunicorn: {args.workers} sync workers on 127.0.0.1:{port}; clients: threads in this process; "
              f"{os.cpu_count()} CPUs shared by both", flush=True)
        bodies = Bodies()
        results = []
        total_acknowledged = 0
        for phase in (Phase("single trace", 1, args.single_clients),
                      Phase(f"{args.batch}-trace batches", args.batch, args.batch_clients)):
            total_acknowledged += run_phase(port, key, bodies, phase, args.seconds, args.warmup)
            results.append(phase.report())
            if phase.errors:
                print(f"  {phase.name}: {len(phase.errors)} errors, first: {phase.errors[0]}")
        print()
        print(f"{'phase':<20} {'clients':>7} {'requests':>8} {'traces/s':>9} {'req/s':>7} "
              f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'errors':>6}")
        for r in results:
            print(f"{r['phase']:<20} {r['clients']:>7} {r['requests']:>8} {r['traces_per_s']:>9} "
                  f"{r['requests_per_s']:>7} {r['p50_ms']:>7} {r['p95_ms']:>7} {r['p99_ms']:>7} {r['errors']:>6}")
        counts = server_counts("bench")
        queued = broker.llen("celery")
        lost = total_acknowledged - counts["traces"]
        print()
        print(f"acknowledged (202) traces, warm-ups included: {total_acknowledged}")
        print(f"trace rows in PostgreSQL: {counts['traces']}; pending evaluations: {counts['pending_evaluations']}; "
              f"evaluation tasks waiting in the broker: {queued}")
        print("nothing lost" if lost == 0 and counts["pending_evaluations"] == counts["traces"]
              else f"MISMATCH: {lost} acknowledged traces missing")
        if args.json:
            print(json.dumps({"results": results, "server": counts, "acknowledged": total_acknowledged}))
        return 0 if lost == 0 else 1
    finally:
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        pg_admin(f'drop database if exists "{db_name}" with (force)')
        broker.flushdb()
        print(f"dropped {db_name}, emptied {REDIS_URL}")


if __name__ == "__main__":
    sys.exit(main())
