"""Engine throughput: traces/s for realistic 10- and 100-span traces, and an agent rollup over 100,000 runs;
then one evaluation worker process (engine + saving results, rollups and patterns) against PostgreSQL.

The worker figure stores realistic 10-span traces (bench/ingest.py's, ~6 KB) through the ingestion function into a
scratch database (BENCH_PG_URL, default arc_bench_engine: created, migrated and dropped), then times
`evaluate_batch` taking them in batches until none is pending, in this one process; the engine alone is timed on
the same traces in the same sitting, so the two compare as a ratio.

Run: .venv/bin/python bench/engine.py [--worker-traces 6000] [--batch 200] [--repeat 3] [--no-worker]
"""

from __future__ import annotations

import random
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evaluations.engine import evaluate, to_trace  # noqa: E402
from evaluations.engine.reliability import WindowCounts, rollup  # noqa: E402

SYSTEM = ("You are a support agent for an online shop. Answer politely, use the tools to look up orders, "
          "never reveal internal notes. ") * 8
TOOLS = ("lookup_order", "search_kb", "refund_order", "get_customer", "track_parcel")


def payload(spans: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    items: list[dict[str, Any]] = []
    question = f"Where is my order {rng.randint(1000, 9999)}? My email is jane.doe{seed}@example.com"
    for n in range(spans):
        if n % 5 in (0, 3):
            items.append({"span_id": f"s{n}", "kind": "llm", "name": "chat", "model": "gpt-4o-mini", "provider": "openai",
                          "duration_ms": rng.uniform(300, 1500),
                          "input": {"messages": [{"role": "system", "content": SYSTEM},
                                                 {"role": "user", "content": question}]},
                          "output": {"content": "Let me check that order for you." * rng.randint(1, 3)},
                          "usage": {"input_tokens": rng.randint(400, 2000), "output_tokens": rng.randint(20, 200)}})
        else:
            tool = rng.choice(TOOLS)
            error = {"type": "TimeoutError", "message": "timed out after 30s"} if rng.random() < 0.05 else None
            items.append({"span_id": f"s{n}", "kind": "tool", "name": tool, "duration_ms": rng.uniform(20, 400),
                          "input": {"order_id": str(rng.randint(1000, 9999)), "verbose": False},
                          "output": {"status": "shipped", "carrier": "UPS", "eta": "2026-11-27",
                                     "notes": "Customer called twice about delivery."},
                          "error": error})
    return {"agent_id": "support-bot", "trace_id": f"t{seed}", "duration_ms": 5000.0, "input": {"question": question},
            "output": {"answer": "Your order has shipped and arrives on 27 November."}, "spans": items}


def traces_per_second(spans: int, count: int) -> float:
    payloads = [payload(spans, seed) for seed in range(count)]
    evaluate(to_trace(payloads[0]))  # warm the price and regex caches
    start = time.perf_counter()
    for item in payloads:
        evaluate(to_trace(item))
    return count / (time.perf_counter() - start)


def rollup_seconds(runs: int) -> float:
    rng = random.Random(7)
    current, previous = WindowCounts(), WindowCounts()
    tasks: dict[int, list[int]] = {}
    for n in range(runs):
        for window in (current, previous):
            success = rng.random() < (0.9 if window is current else 0.86)
            window.add(success=success, score=95.0 if success else 40.0, duration_ms=rng.lognormvariate(8, 0.5),
                       llm_ms=1200.0, tool_ms=300.0, tool_calls=4, tool_errors=int(not success),
                       cost_usd=Decimal("0.0021"), compliance_passed=True)
        group = tasks.setdefault(n % 5000, [0, 0])
        group[0] += 1
        group[1] += success
    groups = [(runs_, successes) for runs_, successes in tasks.values()]
    start = time.perf_counter()
    rollup(current, previous, groups)
    return time.perf_counter() - start


def worker_rates(traces: int, batch: int, repeat: int) -> list[tuple[float, float]]:
    """(engine alone, worker) evaluations/s on the same stored traces, `repeat` times, each on fresh rows."""
    import json
    import os
    import subprocess
    import uuid

    from ingest import PYTHON, ROOT, pg_admin, trace_template

    url = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/arc_bench_engine")
    db = url.rsplit("/", 1)[1]
    os.environ.update(DATABASE_URL=url, REDIS_URL="", DJANGO_SETTINGS_MODULE="arcweb.settings", LOG_LEVEL="WARNING")
    pg_admin(f'drop database if exists "{db}" with (force)')
    pg_admin(f'create database "{db}"')
    try:
        subprocess.run([str(PYTHON), "manage.py", "migrate", "-v0"], cwd=ROOT, env=os.environ, check=True)
        import django

        django.setup()
        from arcweb.celery import app
        from arcweb.services import create_organisation, get_or_create_user
        from evaluations.engine import evaluate as run_engine
        from evaluations.models import Evaluation
        from evaluations.services import _decode_trace, evaluate_batch, stored_traces
        from traces.ingest import ingest_traces

        app.conf.task_always_eager = False  # ingestion only stores (its wake-up goes to the in-memory broker)
        organisation = create_organisation(name="Bench", owner=get_or_create_user("bench@example.com"), slug="bench")
        templates = [trace_template(seed) for seed in range(20)]
        rates = []
        for _ in range(repeat):
            for start in range(0, traces, 100):
                payloads = [json.loads(templates[n % 20].replace("@@TRACE_ID@@", uuid.uuid4().hex))
                            for n in range(start, min(traces, start + 100))]
                ingest_traces(organisation=organisation, payloads=payloads)
            pending = Evaluation.objects.filter(status="pending")
            stored = list(stored_traces(list(pending.values_list("trace_id", flat=True))).values())
            started = time.perf_counter()
            for text in stored:
                run_engine(_decode_trace(text))
            engine_rate = len(stored) / (time.perf_counter() - started)
            started = time.perf_counter()
            evaluated = 0
            while (taken := evaluate_batch(batch)).taken:
                evaluated += taken.evaluated
            rates.append((engine_rate, evaluated / (time.perf_counter() - started)))
        return rates
    finally:
        from django.db import connections

        connections.close_all()
        pg_admin(f'drop database if exists "{db}" with (force)')


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worker-traces", type=int, default=6000)
    parser.add_argument("--batch", type=int, default=200, help="runs a worker takes per transaction")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-worker", action="store_true", help="the engine figures only (no database)")
    args = parser.parse_args()
    print(f"10-span traces:  {traces_per_second(10, 3000):,.0f} traces/s (to_trace + evaluate, one core)")
    print(f"100-span traces: {traces_per_second(100, 300):,.0f} traces/s")
    print(f"agent rollup over 100,000 runs from aggregates: {rollup_seconds(100_000) * 1000:.2f} ms")
    if not args.no_worker:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        for engine_rate, worker_rate in worker_rates(args.worker_traces, args.batch, args.repeat):
            print(f"worker, one process, batches of {args.batch}: {worker_rate:,.0f} evaluations/s "
                  f"(engine alone on the same traces: {engine_rate:,.0f}/s; worker/engine {worker_rate / engine_rate:.2f})")
