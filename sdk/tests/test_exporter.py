from __future__ import annotations

import logging
import time

import fake_arc

from arc_eval import ArcTracer
from arc_eval.exporter import Exporter


def work(x: int) -> dict:
    return {"output": x * 2, "tool_calls": ["search"]}


def test_batches_land_gzipped_with_the_key(arc):
    tracer = ArcTracer(api_key=fake_arc.KEY, base_url=arc.url, batch_size=50, flush_interval=10,
                       flush_at_exit=False)
    traced = tracer.trace_agent(work)
    for i in range(120):
        traced(i)
    assert tracer.flush(5)
    assert [len(b) for b in arc.batches] == [50, 50, 20]  # size-triggered batches, then the flush
    posts = [r for r in arc.requests if r[0] == "POST"]
    assert all(h.get("Content-Encoding") == "gzip" and h.get("Authorization") == f"Bearer {fake_arc.KEY}"
               for _, _, h in posts)
    assert sorted(t["input"]["x"] for t in arc.received) == list(range(120))
    assert tracer.stats.sent == 120 and tracer.stats.failed == 0 and tracer.stats.dropped == 0


def test_time_triggers_a_batch_without_flush(tracer, arc):
    tracer.trace_agent(work)(1)
    assert arc.batch_event.wait(3)  # flush_interval is 0.05 s in the fixture
    assert len(arc.received) == 1


def test_retry_honours_retry_after_on_429_and_503(arc):
    arc.scripted.extend([
        (429, {"Retry-After": "1"}, {"error": {"message": "slow down"}}),
        (503, {"Retry-After": "0"}, {"error": {"message": "maintenance"}}),
    ])
    tracer = ArcTracer(api_key=fake_arc.KEY, base_url=arc.url, flush_at_exit=False)
    tracer.trace_agent(work)(1)
    started = time.monotonic()
    assert tracer.flush(10)
    assert time.monotonic() - started >= 1.0  # it waited as long as the 429 asked before trying again
    assert len(arc.received) == 1
    assert tracer.stats.retries == 2 and tracer.stats.sent == 1


def test_backoff_has_jitter_and_a_cap():
    exporter = Exporter("http://127.0.0.1:9", None, backoff_base=0.5, backoff_max=4)
    delays = [exporter._backoff(10) for _ in range(50)]
    assert all(0 <= d <= 4 for d in delays) and len(set(delays)) > 40


def test_server_down_leaves_the_agent_alone_and_counts_drops(dead_url, caplog):
    tracer = ArcTracer(api_key="k", base_url=dead_url, max_queue_size=100, max_retries=1, flush_at_exit=False)
    traced = tracer.trace_agent(work)
    with caplog.at_level(logging.WARNING, logger="arc_eval"):
        started = time.perf_counter()
        results = [traced(i) for i in range(2000)]
        elapsed = time.perf_counter() - started
        assert results[-1] == {"output": 3998, "tool_calls": ["search"]}
        assert elapsed < 10, elapsed  # a blocking send would take seconds per call, not µs
        tracer.flush(5)
    stats = tracer.stats
    assert stats.dropped >= 1500
    assert stats.failed > 0 and stats.sent == 0
    assert stats.dropped + stats.failed + len(tracer._exporter.queue) == 2000
    drops = [r for r in caplog.records if "dropping" in r.getMessage()]
    assert len(drops) == 1  # logged once, not per trace


def test_bad_key_is_not_retried(arc, caplog):
    tracer = ArcTracer(api_key="wrong", base_url=arc.url, flush_at_exit=False)
    with caplog.at_level(logging.WARNING, logger="arc_eval"):
        tracer.trace_agent(work)(1)
        assert tracer.flush(5)
    assert tracer.stats.failed == 1 and tracer.stats.retries == 0
    assert any("HTTP 401" in r.getMessage() for r in caplog.records)


def test_invalid_items_are_counted_as_failed_and_the_rest_sent(arc):
    exporter = Exporter(arc.url, fake_arc.KEY)
    exporter.enqueue({"agent_id": "ok"})
    exporter.enqueue({"no_agent": True})
    assert exporter.flush(5)
    assert exporter.stats.sent == 1 and exporter.stats.failed == 1
