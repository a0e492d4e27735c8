"""pass^k's sample (`evaluations.figures.pass_k_tasks`): each agent's latest evaluated runs in the window, counted
per task (input), by the run's verdict (a team label, then a deciding judge, then the engine's rules) — for every agent of a page in one query."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from arcweb import windows
from evaluations import figures
from evaluations.feedback import add_feedback, record_judge_verdict
from evaluations.models import Evaluation
from tests.conftest import sample_trace
from traces.models import Agent

pytestmark = pytest.mark.django_db

# (agent, task): (runs, engine successes); the first runs of a task succeed.
RUNS = {("alpha", 0): (4, 4), ("alpha", 1): (4, 2), ("alpha", 2): (3, 1), ("alpha", 3): (1, 1), ("beta", 0): (2, 1)}


def run(agent: str, task: int, n: int, ok: bool, **overrides) -> dict:
    trace = sample_trace(f"{agent}-{task}-{n}", agent_id=agent, input={"task": f"order {task}"}, **overrides)
    if not ok:
        trace.update(success=False, output=None, error={"type": "ToolError", "message": "order lookup failed"})
    return trace


@pytest.fixture
def known(acme, acme_api, django_capture_on_commit_callbacks):
    acme_api.post("/api/v1/traces", [run(agent, task, n, n < wins)
                                     for (agent, task), (runs, wins) in RUNS.items() for n in range(runs)])
    nine_days_ago = (timezone.now() - timedelta(days=9)).isoformat()
    acme_api.post("/api/v1/traces", [run("alpha", 1, 9, False, started_at=nine_days_ago)])  # outside the window
    for trace_id, correct in (("alpha-2-2", True), ("beta-0-0", False)):  # the team's labels win
        add_feedback(evaluation=Evaluation.objects.get(trace__trace_id=trace_id), correct=correct)
    with django_capture_on_commit_callbacks(execute=False):  # still waiting for its verdict: in no figure
        Client().post("/api/v1/traces", [run("alpha", 0, 9, False)], content_type="application/json",
                      HTTP_AUTHORIZATION=f"Bearer {acme.key}")
    return {a.name: a for a in Agent.objects.filter(organisation=acme.organisation)}


def test_tasks_of_every_agent_in_one_query(acme, known):
    with CaptureQueriesContext(connection) as queries:
        tasks = figures.pass_k_tasks(acme.organisation, [known["alpha"].id, known["beta"].id], windows.window("7d"))
    assert len(queries) == 1
    assert sorted(tasks[known["alpha"].id]) == [(1, 1), (3, 2), (4, 2), (4, 4)]
    assert tasks[known["beta"].id] == [(2, 0)]


def test_a_deciding_judge_counts_below_the_label(acme, known):
    for trace_id in ("beta-0-0", "beta-0-1"):  # beta-0-0 is labelled failed: the label still wins
        record_judge_verdict(evaluation_id=Evaluation.objects.get(trace__trace_id=trace_id).pk, passed=True)
    tasks = figures.pass_k_tasks(acme.organisation, [known["beta"].id], windows.window("7d"))
    assert tasks[known["beta"].id] == [(2, 1)]


def test_pass_k_figures_of_a_known_dataset(acme_api, known):
    # alpha, tasks run at least twice: 4 of 4, 2 of 4, 2 of 3 — e.g. pass^2 = (1 + 1/6 + 1/3) / 3
    alpha = acme_api.get("/api/v1/agents/alpha/reliability?window=7d").json()
    assert alpha["pass_k"] == {"1": 0.7222, "2": 0.5, "3": 0.3333, "4": 0.3333, "5": 0.2778}
    beta = acme_api.get("/api/v1/agents/beta/reliability?window=7d").json()
    assert beta["pass_k"] == {"1": 0.0, "2": 0.0, "3": 0.0, "4": 0.0, "5": 0.0}


def test_the_sample_is_the_latest_runs(acme, acme_api, monkeypatch):
    now = timezone.now()
    older = [run("gamma", 1, n, False, started_at=(now - timedelta(hours=5, minutes=n)).isoformat()) for n in range(3)]
    latest = [run("gamma", 2, n, True, started_at=(now - timedelta(minutes=n + 1)).isoformat()) for n in range(3)]
    acme_api.post("/api/v1/traces", older + latest)
    gamma = Agent.objects.get(organisation=acme.organisation, name="gamma")
    monkeypatch.setattr(figures, "PASS_K_SAMPLE", 3)
    assert figures.pass_k_tasks(acme.organisation, [gamma.id], windows.window("24h")) == {gamma.id: [(3, 3)]}
    monkeypatch.setattr(figures, "PASS_K_SAMPLE", 6)
    tasks = figures.pass_k_tasks(acme.organisation, [gamma.id], windows.window("24h"))
    assert sorted(tasks[gamma.id]) == [(3, 0), (3, 3)]
