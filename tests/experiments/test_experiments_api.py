"""Experiments over the API, reported as the SDK reports them: figures, checks, verdicts, comparison, tenancy."""

from __future__ import annotations

import pytest

from experiments.models import ItemRun
from tests.conftest import sample_trace
from tests.experiments.conftest import make_dataset, report, start

pytestmark = pytest.mark.django_db


def cases(n: int) -> list[dict]:
    return [{"input": {"case": i}, "expected_output": f"answer {i}"} for i in range(n)]


def runs(dataset: dict, right: set[int], repeats: int = 1, **extra) -> list[dict]:
    return [{"item": item["id"], "repeat": r, "output": f"answer {i}" if i in right else "no idea",
             "duration_ms": 100.0 + i, **extra} for i, item in enumerate(dataset["items"]) for r in range(repeats)]


def test_figures_of_an_experiment_with_repeats(acme_api):
    dataset = make_dataset(acme_api, "qa", cases(4))
    experiment = start(acme_api, dataset, "baseline", repeats=3)
    assert experiment["dataset_version"] == 1 and experiment["repeats"] == 3
    reported = runs(dataset, right={0, 1}, repeats=3)
    reported[6]["output"] = "answer 2"  # item 2 passes once in three
    assert report(acme_api, experiment, reported)["recorded"] == 12

    detail = acme_api.get(f"/api/v1/experiments/{experiment['id']}").json()
    summary = detail["summary"]
    assert (summary["runs"], summary["passed"], summary["success_rate"]) == (12, 7, 7 / 12)
    assert summary["wilson_low"] == pytest.approx(0.3195, abs=1e-3) and summary["wilson_high"] < 0.85
    # pass^3 per item: 1, 1, C(1,3)/C(3,3) = 0, 0 -> mean 0.5
    assert summary["pass_k"] == 0.5 and summary["k"] == 3 and summary["items_passed_every_time"] == 2
    items = acme_api.get(f"/api/v1/experiments/{experiment['id']}/items").json()["results"]
    assert [(i["passes"], i["pass_k"]) for i in items] == [(3, 1.0), (3, 1.0), (1, 0.0), (0, 0.0)]
    assert items[3]["runs"][0]["checks"][0]["detail"] == 'expected "answer 3", got "no idea"'


def test_a_raised_or_timed_out_run_fails_and_the_verdict_counts(acme_api):
    dataset = make_dataset(acme_api, "mixed", cases(2) + [{"input": {"case": 2}}])
    acme_api.post("/api/v1/traces", [sample_trace("exp-good"), sample_trace("exp-empty", output=None)])
    experiment = start(acme_api, dataset, "mixed-run")
    items = dataset["items"]
    report(acme_api, experiment, [
        {"item": items[0]["id"], "repeat": 0, "output": "answer 0", "trace_id": "exp-good"},
        {"item": items[1]["id"], "repeat": 0, "error": {"type": "TimeoutError", "message": "no answer within 5 s"}},
        {"item": items[2]["id"], "repeat": 0, "output": "", "trace_id": "exp-empty"},  # no checks: the verdict says
    ])
    results = acme_api.get(f"/api/v1/experiments/{experiment['id']}/items").json()["results"]
    passed = [r["runs"][0]["passed"] for r in results]
    assert passed == [True, False, False]
    assert results[0]["runs"][0]["trace"] and results[2]["runs"][0]["verdict"] is False
    assert results[1]["runs"][0]["error"]["type"] == "TimeoutError"


def test_reporting_again_replaces_and_finish_links_late_traces(acme_api):
    dataset = make_dataset(acme_api, "late", cases(1))
    experiment = start(acme_api, dataset, "late-run")
    item = dataset["items"][0]["id"]
    report(acme_api, experiment, [{"item": item, "repeat": 0, "output": "wrong", "trace_id": "late-1"}])
    report(acme_api, experiment, [{"item": item, "repeat": 0, "output": "answer 0", "trace_id": "late-1"}])
    assert ItemRun.objects.get().trace_id is None  # the trace has not arrived yet
    acme_api.post("/api/v1/traces", [sample_trace("late-1")])
    finished = acme_api.post(f"/api/v1/experiments/{experiment['id']}/finish", {}).json()
    assert finished["status"] == "finished" and finished["summary"]["passed"] == 1
    assert ItemRun.objects.get().trace.trace_id == "late-1"
    listed = acme_api.get(f"/api/v1/experiments/{experiment['id']}/runs").json()
    assert listed["count"] == 1 and listed["results"][0]["item"] == item


def test_bad_reports_are_refused(acme_api):
    dataset = make_dataset(acme_api, "strict", cases(1))
    other = make_dataset(acme_api, "other", cases(1))
    experiment = start(acme_api, dataset, "strict-run", repeats=2)
    foreign = acme_api.post(f"/api/v1/experiments/{experiment['id']}/runs",
                            {"runs": [{"item": other["items"][0]["id"], "repeat": 0, "output": "x"}]})
    assert foreign.status_code == 400 and foreign.json()["error"]["field"] == "runs[0].item"
    too_far = acme_api.post(f"/api/v1/experiments/{experiment['id']}/runs",
                            {"runs": [{"item": dataset["items"][0]["id"], "repeat": 2, "output": "x"}]})
    assert too_far.status_code == 400 and too_far.json()["error"]["field"] == "runs[0].repeat"
    taken = acme_api.post("/api/v1/experiments", {"dataset": dataset["id"], "name": "strict-run"})
    assert taken.status_code == 400 and "resume" in taken.json()["error"]["message"]
    empty = acme_api.post("/api/v1/datasets", {"name": "empty"}).json()
    assert acme_api.post("/api/v1/experiments", {"dataset": empty["id"]}).status_code == 400
    assert acme_api.post("/api/v1/experiments", {"dataset": "no-such"}).status_code == 404


def test_compare_names_fixed_broken_and_still_failing_items(acme_api):
    dataset = make_dataset(acme_api, "cmp", cases(10))
    before, after = start(acme_api, dataset, "v1", 2), start(acme_api, dataset, "v2", 2)
    report(acme_api, before, runs(dataset, right={0, 1, 2, 3, 4, 5}, repeats=2))
    report(acme_api, after, runs(dataset, right={0, 1, 2, 3, 4, 6, 7, 8}, repeats=2))
    body = acme_api.get(f"/api/v1/experiments/compare?a={before['id']}&b=v2").json()
    ids = [i["id"] for i in dataset["items"]]

    def named(key):
        return sorted(ids.index(str(pair["item"]["id"])) for pair in body[key])

    assert (named("fixed"), named("broke"), named("still_failing")) == ([6, 7, 8], [5], [9])
    assert body["still_passing"] == 5 and body["items_compared"] == 10
    # b = 3, c = 1: exact 2 * (1 + 4) / 16; chi-square (|3 - 1| - 1)^2 / 4
    assert body["mcnemar"]["p_value"] == 0.625 and body["mcnemar"]["chi_square"] == 0.25
    assert not body["regressed"] and not body["improved"]
    reliability = body["progress"][0]
    assert (reliability["before"], reliability["after"]) == (0.6, 0.8)
    assert reliability["text"] == "Reliability 60% → 80% (+20pp)"
    assert body["intervals"]["pass_rate"]["delta"] == pytest.approx(0.2)


def test_compare_refuses_two_datasets_and_unknown_experiments(acme_api):
    one, two = make_dataset(acme_api, "one", cases(1)), make_dataset(acme_api, "two", cases(1))
    a, b = start(acme_api, one, "on-one"), start(acme_api, two, "on-two")
    refused = acme_api.get(f"/api/v1/experiments/compare?a={a['id']}&b={b['id']}")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "not_comparable"
    assert acme_api.get(f"/api/v1/experiments/compare?a={a['id']}&b=nope").status_code == 404
    assert acme_api.get("/api/v1/experiments/compare?b=x").status_code == 400


def test_another_organisation_gets_404(acme_api, globex_api):
    dataset = make_dataset(acme_api, "private", cases(1))
    experiment = start(acme_api, dataset, "private-run")
    base = f"/api/v1/experiments/{experiment['id']}"
    for path in (base, f"{base}/items", f"{base}/runs", f"/api/v1/experiments/compare?a={base[-36:]}&b={base[-36:]}"):
        assert globex_api.get(path).status_code == 404, path
    assert globex_api.post(f"{base}/runs", {"runs": [{"item": dataset["items"][0]["id"], "repeat": 0}]}) \
        .status_code == 404
    assert globex_api.post(f"{base}/finish", {}).status_code == 404
    assert globex_api.post("/api/v1/experiments", {"dataset": dataset["id"]}).status_code == 404
    assert globex_api.get("/api/v1/experiments").json()["results"] == []
