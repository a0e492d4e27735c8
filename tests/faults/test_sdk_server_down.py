"""The SDK against a server that is down and comes back: nothing lost within the queue bound."""

from __future__ import annotations

import pytest

from tests.processes import free_port, wait_until, web_server
from traces.models import Trace

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

IN_PROCESS = {"REDIS_URL": ""}


def traced_runs(tracer, count: int) -> None:
    @tracer.trace_agent
    def support_bot(question: int) -> dict:
        with tracer.span("lookup", kind="tool") as span:
            span.set_output({"order": question})
        return {"answer": question}

    for n in range(count):
        support_bot(n)


def test_runs_made_while_the_server_is_down_land_when_it_returns(acme):
    from arc_eval import ArcTracer

    port = free_port()
    tracer = ArcTracer(api_key=acme.key, base_url=f"http://127.0.0.1:{port}", agent_id="offline-bot",
                       flush_at_exit=False, backoff_max=0.5)
    traced_runs(tracer, 120)
    assert wait_until(lambda: tracer.stats.retries >= 2, timeout=15)  # it is failing and retrying
    with web_server(port=port, **IN_PROCESS):
        assert tracer.flush(timeout=60)
    tracer.shutdown()
    assert tracer.stats.dropped == 0 and tracer.stats.failed == 0
    assert Trace.objects.filter(organisation=acme.organisation, agent__name="offline-bot").count() == 120


def test_what_overflows_the_queue_is_counted_not_silently_lost(acme):
    from arc_eval import ArcTracer

    port = free_port()
    tracer = ArcTracer(api_key=acme.key, base_url=f"http://127.0.0.1:{port}", agent_id="small-queue-bot",
                       flush_at_exit=False, backoff_max=0.5, max_queue_size=50, batch_size=10)
    traced_runs(tracer, 200)
    with web_server(port=port, **IN_PROCESS):
        assert tracer.flush(timeout=60)
    tracer.shutdown()
    landed = Trace.objects.filter(organisation=acme.organisation, agent__name="small-queue-bot").count()
    assert tracer.stats.dropped > 0
    assert landed + tracer.stats.dropped == 200  # every run is either stored or counted as dropped
