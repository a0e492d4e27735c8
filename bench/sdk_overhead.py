"""Per-call overhead of tracing a trivial agent function, in one run, against the peers.

    .venv/bin/python bench/sdk_overhead.py [--calls 50000]

Every tracer exports to a dead local port, so nothing is measured but the decorator and its queue.
Prints median and p99 of the per-call time and the overhead over the bare function (median - median).
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any


def work(x: int) -> dict[str, Any]:
    return {"output": x * 2, "tool_calls": ["search"]}


def dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def per_call_ns(fn: Callable[[int], Any], calls: int) -> list[int]:
    for i in range(1000):  # warm up
        fn(i)
    clock = time.perf_counter_ns
    times = []
    for i in range(calls):
        t = clock()
        fn(i)
        times.append(clock() - t)
    return times


def arc(base: str) -> Callable[[int], Any]:
    from arc_eval import ArcTracer

    tracer = ArcTracer(api_key="bench", base_url=base, agent_id="bench", max_retries=0, flush_at_exit=False)
    return tracer.trace_agent(work)


def langfuse(base: str) -> Callable[[int], Any] | None:
    dummy = {"LANGFUSE_PUBLIC_KEY": "pk-lf-bench", "LANGFUSE_SECRET_KEY": "sk-lf-bench"}  # a dead port's keys
    os.environ.update(dummy, LANGFUSE_HOST=base, LANGFUSE_BASE_URL=base)
    try:
        from langfuse import observe
    except ImportError:
        return None
    return observe(name="bench")(work)


def otel(base: str) -> Callable[[int], Any] | None:
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        return None
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{base}/v1/traces", timeout=1)))
    tracer = provider.get_tracer("bench")

    def traced(x: int) -> dict[str, Any]:
        with tracer.start_as_current_span("work"):
            return work(x)

    return traced


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=50_000)
    calls = parser.parse_args().calls
    base = f"http://127.0.0.1:{dead_port()}"
    import logging

    logging.disable(logging.CRITICAL)  # the dead port makes every exporter complain
    contenders: list[tuple[str, Callable[[int], Any] | None]] = [
        ("bare function", work),
        ("arc_eval @trace_agent", arc(base)),
        ("langfuse @observe", langfuse(base)),
        ("otel span + BatchSpanProcessor", otel(base)),
    ]
    rows = []
    bare_median = 0.0
    for name, fn in contenders:
        if fn is None:
            rows.append((name, None, None, None))
            continue
        times = per_call_ns(fn, calls)
        median = statistics.median(times) / 1000
        p99 = statistics.quantiles(times, n=100)[98] / 1000
        if name == "bare function":
            bare_median = median
        rows.append((name, median, p99, median - bare_median))
    print(f"{calls:,} calls each, Python {platform.python_version()} on {platform.machine()} ({sys.platform})")
    print(f"{'':32} {'median µs':>10} {'p99 µs':>10} {'overhead µs':>12}")
    for name, median, p99, over in rows:
        if median is None:
            print(f"{name:32} {'not installed':>34}")
        else:
            print(f"{name:32} {median:10.2f} {p99:10.2f} {over:12.2f}")
    peers = [r[3] for r in rows[2:] if r[3] is not None]
    ours = rows[1][3]
    if peers and ours:
        print(f"arc_eval overhead is {min(peers) / ours:.1f}x lower than the best peer")
    os._exit(0)  # skip the peers' exit-time flushes to a port that never answers


if __name__ == "__main__":
    main()
