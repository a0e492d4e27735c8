"""One source for every figure: the API, the overview, the agent page and a report snapshot show the same
reliability, pass^k, cost per run and grade of an agent over a window — also while some of its runs are still
waiting for their verdict (those are in no figure anywhere)."""

from __future__ import annotations

import pytest
from django.test import Client

from arcweb import formatting
from evaluations.models import Evaluation, EvaluationStatus
from tests.conftest import sample_trace
from tests.html import parse
from traces.models import Agent

pytestmark = pytest.mark.django_db
AGENT = "agree-bot"


def run(n: int, task: int, ok: bool) -> dict:
    trace = sample_trace(f"{AGENT}-{task}-{n}", agent_id=AGENT, input={"task": f"order {task}"})
    trace["spans"][0]["cost_usd"] = f"{0.00213 + 0.000137 * (n % 5):.6f}"
    if not ok:
        trace.update(success=False, output=None, error={"type": "ToolError", "message": "order lookup failed"})
    return trace


@pytest.fixture
def agent_with_pending_runs(acme, acme_api, django_capture_on_commit_callbacks):
    wins = [4, 4, 3, 2, 4, 1]  # successes of 4 runs per task
    acme_api.post("/api/v1/traces", [run(n, task, n < w) for task, w in enumerate(wins) for n in range(4)])
    # A burst whose evaluation is never queued (its on-commit publish does not run): it stays pending.
    burst = [run(n, 100 + task, True) for task in range(5) for n in range(3)]
    with django_capture_on_commit_callbacks(execute=False):
        response = Client().post("/api/v1/traces", burst, content_type="application/json",
                                 HTTP_AUTHORIZATION=f"Bearer {acme.key}")
    assert response.status_code == 202
    pending = Evaluation.objects.filter(organisation=acme.organisation, status=EvaluationStatus.PENDING).count()
    assert pending == len(burst)
    return Agent.objects.get(organisation=acme.organisation, name=AGENT)


def test_api_pages_and_snapshot_agree_while_runs_are_pending(acme, acme_api, agent_with_pending_runs):
    agent = agent_with_pending_runs
    api = acme_api.get(f"/api/v1/agents/{AGENT}/reliability?window=7d").json()
    assert api["runs"] == 24 and api["successes"] == 18  # the 15 pending runs are not counted
    assert api["pass_k"]["4"] == pytest.approx((1 + 1 + 0 + 0 + 1 + 0) / 6, abs=1e-4)
    expected = {"reliability": formatting.percent(api["reliability"], 1), "grade": api["grade"],
                "cost": formatting.usd(api["cost_per_run_usd"]),
                "pass_k": " · ".join(f"k={k}: {formatting.share(v)}" for k, v in api["pass_k"].items())}

    owner = Client()
    owner.force_login(acme.owner)
    overview = parse(owner.get("/o/acme/?window=7d").content).find("table", class_="overview")
    header, *rows = overview.rows()
    row = dict(zip(header, next(r for r in rows if r[0] == AGENT), strict=True))
    best_k = max(k for k, v in api["pass_k"].items() if v is not None)
    assert (row["Reliability"], row["Grade"], row["Runs"]) == (expected["reliability"], expected["grade"], "24")
    assert row["Cost / run"].startswith(expected["cost"])
    assert row["pass^k"] == f"{formatting.share(api['pass_k'][best_k])} k={best_k}"

    page = parse(owner.get(f"/o/acme/agents/{agent.id}/?window=7d").content)
    stats = {s.find(class_="label").text: s for s in page.find_all("div", class_="stat")}
    assert stats["Reliability"].find(class_="value").text == expected["reliability"]
    assert stats["pass^k"].find(class_="hint").text == expected["pass_k"]
    headline = page.find("p", id="headline").text
    assert f"Grade: {expected['grade']}" in headline and f"Cost: {expected['cost']}/run" in headline

    report = acme_api.post("/api/v1/reports", {"agent": AGENT, "window": "7d"}).json()
    figures = report["snapshot"]["agents"][0]["figures"]
    for name in ("runs", "reliability", "grade", "pass_k", "cost_per_run_usd", "wilson_low", "wilson_high"):
        assert figures[name] == api[name], name
    headline = report["snapshot"]["headline"]
    assert (headline["reliability"], headline["grade"], headline["runs"]) == (api["reliability"], api["grade"], 24)

    agents = acme_api.get("/api/v1/agents?window=7d").json()["results"]
    listed = next(a for a in agents if a["name"] == AGENT)
    assert {k: listed[k] for k in ("reliability", "grade", "pass_k", "cost_per_run_usd")} == {
        k: api[k] for k in ("reliability", "grade", "pass_k", "cost_per_run_usd")}
    assert listed["display"] == api["display"] and api["display"]["grade"] == api["grade"]


def test_a_report_of_several_agents_has_the_engines_headline(acme, acme_api, agent_with_pending_runs):
    acme_api.post("/api/v1/traces", [sample_trace(f"other-{i}", agent_id="other-bot") for i in range(6)])
    report = acme_api.post("/api/v1/reports", {"agents": [AGENT, "other-bot"], "window": "7d"}).json()
    headline = report["snapshot"]["headline"]
    assert (headline["runs"], headline["successes"]) == (30, 24)
    assert headline["reliability"] == 80.0 and headline["grade"] == "B-"  # 24 of 30, graded by the engine
