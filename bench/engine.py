"""Engine throughput: traces/s for realistic 10- and 100-span traces, and an agent rollup over 100,000 runs.

Run: .venv/bin/python bench/engine.py
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


if __name__ == "__main__":
    print(f"10-span traces:  {traces_per_second(10, 3000):,.0f} traces/s (to_trace + evaluate, one core)")
    print(f"100-span traces: {traces_per_second(100, 300):,.0f} traces/s")
    print(f"agent rollup over 100,000 runs from aggregates: {rollup_seconds(100_000) * 1000:.2f} ms")
