"""Sustained pipeline, end to end: ingestion at a fixed rate against gunicorn, evaluation by real Celery worker
processes, on PostgreSQL and Redis; how far behind the verdicts are.

For each rate given, client threads in this process post realistic 10-span traces (bench/ingest.py's, in batches of
--batch) at that rate for --seconds, spread over --tenants organisations (with --noisy F, one more organisation
sends F times what each of the others sends). A sampler counts the pending runs every second. When the load stops,
the script waits for the backlog to drain, then reads the rows: the lag from 202 to verdict of every run ingested
during the phase (its Evaluation's `evaluated_at` minus its Trace's `received_at`), the rates ingested and
evaluated, and the backlog over time. A phase "holds" when the lag p95 is at most 5 s and the backlog did not grow
over the phase's second half (and the clients reached the rate: on a loaded machine they may not).

Scratch database BENCH_PG_URL (default arc_bench_pipeline, dropped at the end), Redis BENCH_REDIS_URL (default
db 10, which must be empty; emptied at the end).

Run: .venv/bin/python bench/pipeline.py --rates 400,600,800 [--seconds 120] [--workers 1] [--tenants 5]
     [--noisy 20] [--batch 10] [--svg docs/pipeline-backlog.svg]
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import GUNICORN, PYTHON, ROOT, free_port, pg_admin, sh, trace_template, wait_healthy  # noqa: E402
from soak import batch_body, paced, percentile, stop_processes  # noqa: E402

PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/arc_bench_pipeline")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10")
LAG_P95_AIM = 5.0


@dataclass
class Phase:
    rate: float
    started: datetime
    ended: datetime | None = None
    acknowledged: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    backlog: list[tuple[float, int]] = field(default_factory=list)  # (seconds since start, pending)
    load: tuple[str, str] = ("", "")


def pg() -> object:
    import psycopg

    return psycopg.connect(PG_URL.replace("postgres://", "postgresql://"), autocommit=True)


def create_tenants(env: dict[str, str], names: list[str]) -> dict[str, str]:
    """An organisation and an API key per name, made in one Django process."""
    script = ("from arcweb.services import create_api_key, create_organisation, get_or_create_user\n"
              f"for name in {names!r}:\n"
              "    owner = get_or_create_user(name + '@bench.test')\n"
              "    org = create_organisation(name=name, owner=owner, slug=name)\n"
              "    print(name, create_api_key(organisation=org, owner=owner, name='bench')[1])\n")
    out = sh(str(PYTHON), "manage.py", "shell", "-c", script, env=env)
    return dict(words for words in map(str.split, out.splitlines()) if len(words) == 2 and words[0] in names)


def poster(port: int, key: str, tenant: str, phase: Phase, lock: threading.Lock, templates: list[str], batch: int):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json", "Host": "127.0.0.1"}

    def post() -> None:
        nonlocal conn
        try:
            conn.request("POST", "/api/v1/traces", body=batch_body(templates, batch), headers=headers)
            response = conn.getresponse()
            response.read()
            ok = response.status == 202
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            ok = False
        with lock:
            if ok:
                phase.acknowledged[tenant] = phase.acknowledged.get(tenant, 0) + batch
            else:
                phase.errors += 1

    return post


def pending() -> int:
    deadline = time.monotonic() + 30  # PostgreSQL may be restarting (another test run on the machine): wait for it
    while True:
        try:
            with pg() as conn:
                return conn.execute("select count(*) from evaluations_evaluation where status = 'pending'").fetchone()[0]
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def run_phase(port: int, keys: dict[str, str], shares: dict[str, float], rate: float, seconds: float, batch: int,
              templates: list[str]) -> Phase:
    phase = Phase(rate, datetime.now(UTC), load=(Path("/proc/loadavg").read_text().split()[0], ""))
    lock, stop = threading.Lock(), threading.Event()
    threads = []
    for tenant, share in shares.items():
        requests_per_second = rate * share / batch
        clients = max(1, math.ceil(requests_per_second / 8))  # a client sustains ~8 requests/s with room to spare
        for _ in range(clients):
            post = poster(port, keys[tenant], tenant, phase, lock, templates, batch)
            threads.append(threading.Thread(target=paced, args=(stop, requests_per_second / clients, post),
                                            daemon=True))
    start = time.monotonic()

    def sample() -> None:
        while not stop.is_set():
            phase.backlog.append((round(time.monotonic() - start, 1), pending()))
            stop.wait(1)

    sampler = threading.Thread(target=sample, daemon=True)
    for thread in [*threads, sampler]:
        thread.start()
    try:
        stop.wait(seconds)
    finally:
        stop.set()
    for thread in [*threads, sampler]:
        thread.join()
    phase.ended = datetime.now(UTC)
    phase.load = (phase.load[0], Path("/proc/loadavg").read_text().split()[0])
    return phase


def drain(timeout: float, phase: Phase) -> float:
    started = time.monotonic()
    while (waiting := pending()) and time.monotonic() - started < timeout:
        phase.backlog.append((round((datetime.now(UTC) - phase.started).total_seconds(), 1), waiting))
        time.sleep(1)
    return time.monotonic() - started


def figures(phase: Phase, noisy: str | None) -> dict:
    """Lags and rates of the runs ingested during the phase, from the rows' timestamps."""
    with pg() as conn:
        rows = conn.execute(
            "select o.slug, extract(epoch from e.evaluated_at - t.received_at)::float8, e.status "
            "from traces_trace t join evaluations_evaluation e on e.trace_id = t.id "
            "join arcweb_organisation o on o.id = t.organisation_id "
            "where t.received_at >= %s and t.received_at < %s", (phase.started, phase.ended)).fetchall()
        evaluated = conn.execute("select count(*) from evaluations_evaluation where evaluated_at >= %s and "
                                 "evaluated_at < %s", (phase.started, phase.ended)).fetchone()[0]
    seconds = (phase.ended - phase.started).total_seconds()
    lags = sorted(lag for _, lag, status in rows if status == "done")
    quiet = sorted(lag for slug, lag, status in rows if status == "done" and slug != noisy)
    loud = sorted(lag for slug, lag, status in rows if status == "done" and slug == noisy)
    half = [(t, n) for t, n in phase.backlog if seconds / 2 <= t <= seconds]
    growth = _slope(half)
    during = [n for t, n in phase.backlog if t <= seconds]
    out = {
        "rate": phase.rate, "seconds": round(seconds, 1), "acknowledged": sum(phase.acknowledged.values()),
        "stored": len(rows), "errors": phase.errors,
        "ingested_per_s": round(sum(phase.acknowledged.values()) / seconds, 1),
        "evaluated_per_s": round(evaluated / seconds, 1),
        "lag_p50": round(percentile(lags, 0.5), 2), "lag_p95": round(percentile(lags, 0.95), 2),
        "lag_max": round(lags[-1], 2) if lags else None,
        "backlog_max": max(during, default=0), "backlog_end": during[-1] if during else 0,
        "backlog_growth_per_s": round(growth, 1), "load": phase.load,
    }
    if noisy:
        out |= {"quiet_p50": round(percentile(quiet, 0.5), 2), "quiet_p95": round(percentile(quiet, 0.95), 2),
                "noisy_p50": round(percentile(loud, 0.5), 2), "noisy_p95": round(percentile(loud, 0.95), 2)}
    # Held: the load generator reached the rate, the lag p95 is within the aim, and the backlog did not grow by more
    # than 2% of the rate over the second half (the noise of a 1 s sampler).
    out["holds"] = (out["ingested_per_s"] >= 0.95 * phase.rate and out["lag_p95"] <= LAG_P95_AIM
                    and growth <= 0.02 * phase.rate)
    return out


def _slope(points: list[tuple[float, int]]) -> float:
    if len(points) < 3:
        return 0.0
    mean_t = statistics.fmean(t for t, _ in points)
    mean_n = statistics.fmean(n for _, n in points)
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    return sum((t - mean_t) * (n - mean_n) for t, n in points) / spread if spread else 0.0


def database_growth() -> dict:
    """Rows and bytes (heap, TOAST and indexes) of the tables that grow with every trace."""
    tables = ("traces_trace", "evaluations_evaluation", "evaluations_agenthour", "evaluations_failurepattern")
    with pg() as conn:
        conn.execute("vacuum analyze")
        return {table: {"rows": conn.execute(f"select count(*) from {table}").fetchone()[0],  # noqa: S608
                        "bytes": conn.execute("select pg_total_relation_size(%s)", (table,)).fetchone()[0]}
                for table in tables}


def svg(phases: list[tuple[str, Phase]], path: Path) -> None:
    """The backlog over time, one line per phase, as a small SVG."""
    width, height, left, bottom = 640, 260, 56, 30
    t_max = max(t for _, p in phases for t, _ in p.backlog) or 1
    n_max = max(max((n for _, n in p.backlog), default=1) for _, p in phases) or 1
    step = 10 ** math.floor(math.log10(n_max))
    n_top = math.ceil(n_max / step) * step
    colours = ["#4f46e5", "#0e9f6e", "#d97706", "#dc2626", "#0891b2", "#7c3aed", "#65a30d", "#be185d"]

    def x(t: float) -> float:
        return left + (width - left - 10) * t / t_max

    def y(n: float) -> float:
        return height - bottom - (height - bottom - 10) * n / n_top

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 20 * len(phases)}" '
             f'font-family="sans-serif" font-size="11">', '<rect width="100%" height="100%" fill="white"/>']
    for tick in range(0, int(n_top) + 1, int(step)):
        parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#e5e7eb"/>'
                     f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:,}</text>')
    for tick in range(0, int(t_max) + 1, 30):
        parts.append(f'<text x="{x(tick):.1f}" y="{height - bottom + 16}" text-anchor="middle">{tick} s</text>')
    parts.append(f'<text x="12" y="{(height - bottom) / 2:.0f}" transform="rotate(-90 12 {(height - bottom) / 2:.0f})"'
                 f' text-anchor="middle">runs pending</text>')
    for index, (label, phase) in enumerate(phases):
        colour = colours[index % len(colours)]
        points = " ".join(f"{x(t):.1f},{y(n):.1f}" for t, n in phase.backlog)
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{points}"/>')
        legend_y = height + 14 + 20 * index
        parts.append(f'<line x1="{left}" x2="{left + 20}" y1="{legend_y - 4}" y2="{legend_y - 4}" stroke="{colour}" '
                     f'stroke-width="3"/><text x="{left + 26}" y="{legend_y}">{label}</text>')
    parts.append("</svg>")
    path.write_text("\n".join(parts) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default="600", help="comma-separated traces/s, one phase each")
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--workers", type=int, default=1, help="Celery worker processes")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--tenants", type=int, default=5)
    parser.add_argument("--noisy", type=float, default=0, help="one more tenant sending this many times the others")
    parser.add_argument("--batch", type=int, default=10, help="traces per request")
    parser.add_argument("--svg", type=Path, help="write the backlog over time here")
    parser.add_argument("--label", default="", help="prefix of the phases' labels in the SVG")
    args = parser.parse_args()
    import redis

    env = {**os.environ, "DATABASE_URL": PG_URL, "REDIS_URL": REDIS_URL, "DJANGO_DEBUG": "0",
           "SECRET_KEY": "pipeline-" + uuid.uuid4().hex * 2, "ALLOWED_HOSTS": "127.0.0.1",
           "SECURE_SSL_REDIRECT": "false", "ARC_API_RATE": "100000000/min", "LOG_LEVEL": "WARNING",
           "DB_CONN_MAX_AGE": "600", "ARC_VAR_DIR": str(ROOT / "var" / "pipeline")}
    db = PG_URL.rsplit("/", 1)[1]
    broker = redis.Redis.from_url(REDIS_URL)
    if broker.dbsize():
        raise SystemExit(f"{REDIS_URL} is not empty; pick another with BENCH_REDIS_URL")
    pg_admin(f'drop database if exists "{db}" with (force)')
    pg_admin(f'create database "{db}"')
    processes: list[subprocess.Popen] = []
    try:
        sh(str(PYTHON), "manage.py", "migrate", "--noinput", "-v0", env=env)
        names = [f"tenant-{n}" for n in range(args.tenants)] + (["noisy"] if args.noisy else [])
        keys = create_tenants(env, names)
        weights = {name: (args.noisy if name == "noisy" else 1.0) for name in names}
        shares = {name: weight / sum(weights.values()) for name, weight in weights.items()}
        port = free_port()
        logs = ROOT / "var" / "pipeline"
        logs.mkdir(parents=True, exist_ok=True)
        processes.append(subprocess.Popen(
            [str(GUNICORN), "arcweb.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers",
             str(args.web_workers), "--log-level", "warning"], cwd=ROOT, env=env, start_new_session=True))
        for name in ("worker", "beat"):
            command = ["worker", f"--concurrency={args.workers}", "--without-gossip", "--without-mingle"] \
                if name == "worker" else ["beat", "--schedule", str(logs / "beat-schedule")]
            processes.append(subprocess.Popen(
                [str(PYTHON), "-m", "celery", "-A", "arcweb", *command, "--loglevel=WARNING"], cwd=ROOT, env=env,
                stdout=open(logs / f"{name}.log", "w"), stderr=subprocess.STDOUT, start_new_session=True))
        wait_healthy(port, processes[0])
        time.sleep(5)
        templates = [trace_template(seed) for seed in range(20)]
        results, phases = [], []
        for rate in (float(r) for r in args.rates.split(",")):
            phase = run_phase(port, keys, shares, rate, args.seconds, args.batch, templates)
            drained = drain(300, phase)
            result = figures(phase, "noisy" if args.noisy else None) | {"drained_after_s": round(drained, 1)}
            results.append(result)
            phases.append((f"{args.label}{rate:,.0f} traces/s", phase))
            print(json.dumps(result), flush=True)
        growth = database_growth()
        print()
        print(f"{'rate':>6} {'ingested/s':>10} {'evaluated/s':>11} {'lag p50':>8} {'p95':>6} {'max':>6} "
              f"{'backlog max':>11} {'growth/s':>8} {'load':>10} holds")
        for r in results:
            print(f"{r['rate']:>6.0f} {r['ingested_per_s']:>10.1f} {r['evaluated_per_s']:>11.1f} {r['lag_p50']:>8.2f} "
                  f"{r['lag_p95']:>6.2f} {r['lag_max']:>6.2f} {r['backlog_max']:>11} {r['backlog_growth_per_s']:>8.1f} "
                  f"{r['load'][0]:>4}→{r['load'][1]:<5} {'yes' if r['holds'] else 'no'}")
            if args.noisy:
                print(f"       quiet tenants lag p50 {r['quiet_p50']} s, p95 {r['quiet_p95']} s; "
                      f"noisy tenant ({args.noisy:g}×) p50 {r['noisy_p50']} s, p95 {r['noisy_p95']} s")
        traces = growth["traces_trace"]["rows"] or 1
        total = sum(t["bytes"] for t in growth.values())
        print(f"\ndatabase: {json.dumps(growth)}")
        print(f"per million traces: {total / traces * 1e6 / 2**30:.2f} GiB "
              f"(traces {growth['traces_trace']['bytes'] / traces * 1e6 / 2**30:.2f}, evaluations "
              f"{growth['evaluations_evaluation']['bytes'] / traces * 1e6 / 2**30:.2f})")
        if args.svg:
            svg(phases, args.svg)
        lost = sum(r["acknowledged"] - r["stored"] for r in results)
        print(f"lost: {lost}; errors: {sum(r['errors'] for r in results)}")
        return 0 if not lost else 1
    finally:
        stop_processes(processes)
        pg_admin(f'drop database if exists "{db}" with (force)')
        broker.flushdb()


if __name__ == "__main__":
    sys.exit(main())
