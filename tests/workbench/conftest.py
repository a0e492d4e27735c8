"""Data for the workbench page tests: evaluated runs of acme (some failing the same way) and a hostile one."""

from __future__ import annotations

import pytest
from django.test import Client

from evaluations.models import Baseline, FailurePattern
from tests.conftest import sample_trace
from traces.models import Agent, Trace

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def failing_trace(trace_id: str, **overrides) -> dict:
    trace = sample_trace(trace_id, success=False, output=None,
                         error={"type": "TimeoutError", "message": f"Tool order_status timed out after 30s ({trace_id})"})
    trace["spans"][1]["error"] = {"type": "TimeoutError", "message": "timed out after 30s"}
    trace.update(overrides)
    return trace


@pytest.fixture
def runs(acme, acme_api):
    """Six good runs and three failing the same way, all evaluated in-process."""
    payload = [sample_trace(f"ok-{i}") for i in range(6)] + [failing_trace(f"bad-{i}") for i in range(3)]
    response = acme_api.post("/api/v1/traces", payload)
    assert response.status_code in (200, 201, 202, 207), response.content
    return {t.trace_id: t for t in Trace.objects.filter(organisation=acme.organisation)}


@pytest.fixture
def hostile(acme, acme_api):
    """A run whose every text field is an attack, failing (so it is in patterns and the queue too)."""
    trace = failing_trace("evil", agent_id=EVIL, input={"q": EVIL}, output={"a": EVIL},
                          error={"type": "ValueError", "message": EVIL, "traceback": EVIL})
    trace["spans"][0]["name"] = EVIL
    trace["spans"][0]["output"] = {"content": EVIL}
    trace.update(metadata={"note": EVIL}, session_id=EVIL, user_id=EVIL, tags=[EVIL])
    assert acme_api.post("/api/v1/traces", trace).status_code in (200, 201, 202)
    return Trace.objects.get(organisation=acme.organisation, trace_id="evil")


@pytest.fixture
def pattern(acme, runs) -> FailurePattern:
    return FailurePattern.objects.filter(organisation=acme.organisation).order_by("-occurrences").first()


@pytest.fixture
def agent(acme, runs) -> Agent:
    return Agent.objects.get(organisation=acme.organisation, name="support-bot")


@pytest.fixture
def baseline(acme, agent) -> Baseline:
    from django.utils import timezone

    now = timezone.now()
    return Baseline.objects.create(organisation=acme.organisation, agent=agent, name="v1",
                                   start=now - timezone.timedelta(days=7), end=now)
