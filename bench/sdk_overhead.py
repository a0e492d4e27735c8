"""Per-call overhead of tracing an agent function called with a 1 KB argument, in one run, against the peers.

    .venv/bin/python bench/sdk_overhead.py [--calls 50000]

Each contender records the same thing: the call's input and output. arc_eval's decorator snapshots the
arguments at entry and the result at return (a structural copy of the containers) and serialises later in
its exporter thread; the OpenTelemetry span sets input.value / output.value as JSON at call time (what
OpenInference and OpenLLMetry instrumentations do); Langfuse's @observe captures input and output itself.
Every tracer exports to a dead local port, so nothing is measured but the decorator and its queue.
Prints median and p99 of the per-call time and the overhead over the bare function (median - median).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

# About 1 KB as JSON: a short conversation, the argument a chat agent is called with.
MESSAGES = [{"role": "system", "content": "You are a support agent for an online shop. " * 10},
            {"role": "user", "content": "Where is my order 8812? It was due on Friday and has not arrived. " * 3},
            {"role": "assistant", "content": "Let me look that order up for you."},
            {"role": "user", "content": "Thanks, the tracking page shows nothing since Tuesday. " * 3}]
ARGUMENT_BYTES = len(json.dumps(MESSAGES))


def work(messages: list[dict[str, str]]) -> dict[str, Any]:
    return {"answer": "Order 8812 left the depot today.", "sources": ["orders", "tracking"], "turns": len(messages)}


def dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def per_call_ns(fn: Callable[[Any], Any], calls: int) -> list[int]:
    for _ in range(1000):  # warm up
        fn(MESSAGES)
    clock = time.perf_counter_ns
    times = []
    for _ in range(calls):
        t = clock()
        fn(MESSAGES)
        times.append(clock() - t)
    return times


def arc(base: str) -> Callable[[Any], Any]:
    from arc_eval import ArcTracer

    tracer = ArcTracer(api_key="bench", base_url=base, agent_id="bench", max_retries=0, flush_at_exit=False)
    return tracer.trace_agent(work)


def langfuse(base: str) -> Callable[[Any], Any] | None:
    dummy = {"LANGFUSE_PUBLIC_KEY": "pk-lf-bench", "LANGFUSE_SECRET_KEY": "sk-lf-bench"}  # a dead port's keys
    os.environ.update(dummy, LANGFUSE_HOST=base, LANGFUSE_BASE_URL=base)
    try:
        from langfuse import observe
    except ImportError:
        return None
    return observe(name="bench")(work)


def otel(base: str) -> Callable[[Any], Any] | None:
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        return None
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{base}/v1/traces", timeout=1)))
    tracer = provider.get_tracer("bench")

    def traced(messages: list[dict[str, str]]) -> dict[str, Any]:
        with tracer.start_as_current_span("work") as span:
            span.set_attribute("input.value", json.dumps(messages))
            result = work(messages)
            span.set_attribute("output.value", json.dumps(result))
            return result

    return traced


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=50_000)
    calls = parser.parse_args().calls
    base = f"http://127.0.0.1:{dead_port()}"
    import logging

    logging.disable(logging.CRITICAL)  # the dead port makes every exporter complain
    contenders: list[tuple[str, Callable[[Any], Any] | None]] = [
        ("bare function", work),
        ("arc_eval @trace_agent", arc(base)),
        ("langfuse @observe", langfuse(base)),
        ("otel span + input/output attrs", otel(base)),
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
    print(f"{calls:,} calls each with a {ARGUMENT_BYTES:,}-byte argument, Python {platform.python_version()} "
          f"on {platform.machine()} ({sys.platform})")
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
