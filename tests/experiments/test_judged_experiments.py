"""Experiments scored by the organisation's judges, against a scripted model server on a real local socket: each
run's judge scores, per judge the pass rate with its Wilson interval, the mean score and the runs still waiting,
the paired difference between two experiments (McNemar), the same figures on the API, the pages and the CLI; a
deciding judge's verdict counts in the success rate as it counts everywhere."""

from __future__ import annotations

import json

import pytest
from arc_eval.cli import main

from evaluations.engine.reliability import wilson_interval
from evaluations.models import Evaluation
from judges.models import Score
from tests.experiments.conftest import make_dataset, report, start
from tests.judges.conftest import WRONG, openai_server  # noqa: F401  (the scripted model server fixture)
from tests.judges.test_judges import connect, make_judge, send, settled
from tests.processes import wait_until
from tests.workbench.conftest import logged_in
from traces.verdicts import verdict_q

pytestmark = pytest.mark.django_db(transaction=True)

ITEMS = 4
REPEATS = 2


def judged_experiment(api, dataset: dict, name: str, judged_wrong: set[int]) -> dict:
    """An experiment whose runs all answer (no checks fail, the rules pass them); the judge fails the runs of
    the items in `judged_wrong`."""
    experiment = start(api, dataset, name, repeats=REPEATS)
    runs, traces = [], []
    for i, item in enumerate(dataset["items"]):
        for r in range(REPEATS):
            trace_id = f"{name}-{i}-{r}"
            answer = f"{WRONG} for case {i}" if i in judged_wrong else f"case {i} done"
            traces.append({"trace_id": trace_id, "agent_id": "bot (experiments)", "input": {"case": i},
                           "output": {"answer": answer}, "duration_ms": 100})
            runs.append({"item": item["id"], "repeat": r, "output": answer, "trace_id": trace_id})
    ids = send(api, *traces)
    assert wait_until(settled(ids, count=1), timeout=60)
    report(api, experiment, runs)
    return experiment


@pytest.fixture
def judged(acme_api, openai_server):  # noqa: F811
    judge = make_judge(acme_api, connect(acme_api, openai_server), name="correctness")
    dataset = make_dataset(acme_api, "judged", [{"input": {"case": i}} for i in range(ITEMS)])
    before = judged_experiment(acme_api, dataset, "before", judged_wrong={2, 3})
    after = judged_experiment(acme_api, dataset, "after", judged_wrong=set())
    return {"judge": judge, "before": before, "after": after}


def test_judge_scores_per_run_per_experiment_and_compared_agree_on_api_pages_and_cli(
        acme, acme_api, judged, live_server, capsys):
    judge, before, after = judged["judge"], judged["before"], judged["after"]
    summary = acme_api.get(f"/api/v1/experiments/{before['id']}").json()["summary"]
    low, high = wilson_interval(4, 8)
    (figures,) = summary["judges"]
    assert figures == {"judge": judge["id"], "name": "correctness", "judged": 8, "passed": 4, "pass_rate": 0.5,
                       "wilson_low": low, "wilson_high": high, "mean_value": 0.5, "waiting": 0, "errors": 0,
                       "skipped": 0}
    assert summary["success_rate"] == 1.0  # a judge that does not decide leaves the verdict to the rules
    items = acme_api.get(f"/api/v1/experiments/{before['id']}/items").json()["results"]
    assert [[s["passed"] for r in i["runs"] for s in r["judge_scores"]] for i in items] == \
        [[True, True], [True, True], [False, False], [False, False]]
    assert items[2]["runs"][0]["judge_scores"][0] == {"judge": judge["id"], "name": "correctness", "passed": False,
                                                       "value": 0.0, "status": "done"}

    comparison = acme_api.get(f"/api/v1/experiments/compare?a={before['id']}&b={after['id']}").json()
    (difference,) = comparison["judges"]
    assert (difference["items"], difference["pass_rate_before"], difference["pass_rate_after"], difference["delta"]) \
        == (4, 0.5, 1.0, 0.5)
    # two items fixed, none broke: exact p = 2 * P(X <= 0), X ~ Binomial(2, 1/2) = 2 * 1/4
    assert (difference["mcnemar"]["fixed"], difference["mcnemar"]["broke"], difference["mcnemar"]["p_value"]) == \
        (2, 0, 0.5)
    assert difference["text"] == "Judge correctness 50% → 100% (+50pp, 2 fixed, 0 broke, p = 0.5000)"

    page = logged_in(acme.owner).get(f"/o/{acme.organisation.slug}/experiments/{before['id']}/").content.decode()
    assert "correctness" in page and "4/8" in page and f"{low * 100:.0f}%–{high * 100:.0f}%" in page
    assert page.count("⚖ 2/2") == 2 + 4 and page.count("⚖ 0/2") == 2  # this column and the "after" column
    compared = logged_in(acme.owner).get(
        f"/o/{acme.organisation.slug}/experiments/compare/?a={before['id']}&b={after['id']}").content.decode()
    assert 'id="judge-differences"' in compared and "+50pp" in compared and "0.5000" in compared

    args = ["--url", live_server.url, "--key", acme.key]
    assert main(["experiment", "show", "before", *args, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["judges"] == summary["judges"]
    assert main(["experiment", "show", "before", *args]) == 0
    assert f"judge correctness: 50% passed (4/8 judged, 95% CI {low * 100:.0f}%–{high * 100:.0f}%), " \
           "mean score 0.50" in capsys.readouterr().out
    assert main(["experiment", "compare", "before", "after", *args, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["judges"] == comparison["judges"]
    assert main(["experiment", "compare", "before", "after", *args]) == 0
    assert difference["text"] in capsys.readouterr().out


def test_runs_waiting_for_their_judge_are_counted(acme_api, judged):
    before = judged["before"]
    Score.objects.filter(trace__trace_id__in=["before-0-0", "before-2-1"]).update(status="pending", passed=None,
                                                                                 value=None)
    (figures,) = acme_api.get(f"/api/v1/experiments/{before['id']}").json()["summary"]["judges"]
    assert (figures["judged"], figures["passed"], figures["waiting"], figures["pass_rate"]) == (6, 3, 2, 0.5)


def test_a_deciding_judges_verdict_counts_in_the_success_rate_as_everywhere(acme, acme_api, openai_server):  # noqa: F811
    make_judge(acme_api, connect(acme_api, openai_server), decides_success=True)
    dataset = make_dataset(acme_api, "decided", [{"input": {"case": i}} for i in range(ITEMS)])
    experiment = judged_experiment(acme_api, dataset, "decided", judged_wrong={1})
    assert wait_until(lambda: Evaluation.objects.filter(judge_success__isnull=False).count() == ITEMS * REPEATS)
    summary = acme_api.get(f"/api/v1/experiments/{experiment['id']}").json()["summary"]
    counted = Evaluation.objects.for_org(acme.organisation).filter(
        verdict_q(True), trace__trace_id__startswith="decided-").count()
    assert summary["passed"] == counted == 6 and summary["success_rate"] == 0.75
    items = acme_api.get(f"/api/v1/experiments/{experiment['id']}/items").json()["results"]
    assert [r["verdict"] for r in items[1]["runs"]] == [False, False] and items[1]["passes"] == 0


def test_another_organisation_sees_no_judge_figures(acme_api, globex_api, judged):
    for path in (f"/api/v1/experiments/{judged['before']['id']}",
                 f"/api/v1/experiments/{judged['before']['id']}/items",
                 f"/api/v1/experiments/compare?a={judged['before']['id']}&b={judged['after']['id']}"):
        assert globex_api.get(path).status_code == 404, path
