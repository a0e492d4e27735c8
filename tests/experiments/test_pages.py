"""The Experiments tab as the team uses it: one-click datasets, uploads, runs added from traces, the matrix,
the comparison; what a viewer and an outsider may do."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from evaluations.models import Evaluation
from experiments.models import Dataset, DatasetItem, Experiment
from tests.conftest import sample_trace
from tests.experiments.conftest import make_dataset, report, start
from tests.workbench.conftest import failing_trace, logged_in

pytestmark = pytest.mark.django_db


def test_a_patterns_scenarios_become_a_dataset_in_one_click(acme, acme_api):
    acme_api.post("/api/v1/traces", [failing_trace(f"bad-{i}", input={"q": f"order {i}"}) for i in range(3)])
    pattern = acme.organisation.failure_patterns.get()
    owner = logged_in(acme.owner)
    page = owner.get(f"/o/acme/patterns/{pattern.id}/")
    assert f"/o/acme/experiments/datasets/from-pattern/{pattern.id}/" in page.content.decode()
    response = owner.post(f"/o/acme/experiments/datasets/from-pattern/{pattern.id}/")
    dataset = Dataset.objects.get(organisation=acme.organisation)
    assert response.status_code == 302 and response.url.endswith(f"/datasets/{dataset.id}/")
    items = list(DatasetItem.objects.filter(dataset=dataset))
    # three example inputs: each replayed, and each with the tool timeout injected
    assert len(items) == 6 and {i.source for i in items} == {"scenario"}
    assert sum(1 for i in items if i.metadata["fault"]) == 3 and all(i.expected_behaviour for i in items)
    assert "order 1" in owner.get(response.url).content.decode()
    again = owner.post(f"/o/acme/experiments/datasets/from-pattern/{pattern.id}/", follow=True)
    assert "already holds every scenario" in again.content.decode()
    acme_api.post("/api/v1/traces", [failing_trace("bad-3", input={"q": "order 9"})])
    owner.post(f"/o/acme/experiments/datasets/from-pattern/{pattern.id}/")  # a new failing input: a new version
    dataset.refresh_from_db()
    assert dataset.version == 2 and DatasetItem.objects.filter(dataset=dataset, added_in=2).count() == 2


def test_upload_keeps_good_lines_and_lists_bad_ones(acme):
    owner = logged_in(acme.owner)
    dataset = Dataset.objects.create(organisation=acme.organisation, name="uploads")
    jsonl = b'{"input": {"q": 1}, "expected_output": "a"}\n{not json}\n{"input": 2, "checks": [{"type": "nope"}]}\n'
    owner.post(f"/o/acme/experiments/datasets/{dataset.id}/upload/",
               {"file": SimpleUploadedFile("cases.jsonl", jsonl)})
    csv = b'input,expected_output,checks\n"{""q"": 3}",42,"[{""type"": ""numeric"", ""tolerance"": 1}]"\nhello,,\n'
    owner.post(f"/o/acme/experiments/datasets/{dataset.id}/upload/", {"file": SimpleUploadedFile("more.csv", csv)})
    page = owner.get(f"/o/acme/experiments/datasets/{dataset.id}/").content.decode()
    items = list(DatasetItem.objects.filter(dataset=dataset).order_by("position"))
    assert [(i.input, i.expected_output) for i in items] == [({"q": 1}, "a"), ({"q": 3}, 42), ("hello", None)]
    assert items[1].checks == [{"type": "numeric", "tolerance": 1}] and items[2].source_ref == "more.csv line 3"
    assert "uploaded 2 item(s) from more.csv" in page
    dataset.refresh_from_db()
    assert dataset.version == 2


def test_upload_errors_are_shown(acme):
    owner = logged_in(acme.owner)
    dataset = Dataset.objects.create(organisation=acme.organisation, name="bad-uploads")
    response = owner.post(f"/o/acme/experiments/datasets/{dataset.id}/upload/",
                          {"file": SimpleUploadedFile("cases.jsonl", b'{not json}\n{"input": 1, "colour": 2}\n')},
                          follow=True)
    text = response.content.decode()
    assert "line 1: not JSON" in text and "line 2.colour: unknown field" in text
    assert not DatasetItem.objects.exists()


def test_a_run_labelled_correct_is_added_with_its_output_as_expected(acme, acme_api):
    created = acme_api.post("/api/v1/traces", [sample_trace("good-run")]).json()["traces"][0]
    acme_api.post(f"/api/v1/traces/{created['id']}/feedback", {"correct": True})
    owner = logged_in(acme.owner)
    form = owner.get(f"/o/acme/experiments/datasets/add-run/{created['id']}/").content.decode()
    assert "labelled this run correct" in form and "Shipped" in form
    response = owner.post(f"/o/acme/experiments/datasets/add-run/{created['id']}/",
                          {"new_dataset": "regressions", "expected_output": '{"answer": "Shipped"}'})
    item = DatasetItem.objects.get()
    assert response.status_code == 302 and item.dataset.name == "regressions"
    assert item.input == {"q": "Where is order 1042?"} and item.expected_output == {"answer": "Shipped"}
    assert item.source == "label" and str(item.source_trace_id) == created["id"]
    trace_page = owner.get(f"/o/acme/traces/{created['id']}/").content.decode()
    assert f"/o/acme/experiments/datasets/add-run/{created['id']}/" in trace_page


def test_a_run_labelled_incorrect_brings_the_notes_as_expected_behaviour(acme, acme_api):
    created = acme_api.post("/api/v1/traces", [sample_trace("bad-run")]).json()["traces"][0]
    acme_api.post(f"/api/v1/traces/{created['id']}/feedback", {"correct": False, "notes": "must give a date"})
    owner = logged_in(acme.owner)
    form = owner.get(f"/o/acme/experiments/datasets/add-run/{created['id']}/").content.decode()
    assert "labelled this run incorrect" in form and "must give a date" in form


def experiment_pair(acme_api):
    dataset = make_dataset(acme_api, "qa", [{"input": {"case": i}, "expected_output": f"a{i}"} for i in range(4)])
    before, after = start(acme_api, dataset, "before", 2), start(acme_api, dataset, "after", 2)
    for experiment, right in ((before, {0, 1}), (after, {0, 2, 3})):
        report(acme_api, experiment, [{"item": item["id"], "repeat": r, "output": f"a{i}" if i in right else "?"}
                                      for i, item in enumerate(dataset["items"]) for r in range(2)])
    return dataset, before, after


def test_the_matrix_shows_each_repeat_and_filters_to_the_changed_items(acme, acme_api):
    acme_api.post("/api/v1/traces", [sample_trace("linked")])
    dataset, before, after = experiment_pair(acme_api)
    report(acme_api, after, [{"item": dataset["items"][0]["id"], "repeat": 0, "output": "a0", "trace_id": "linked"}])
    owner = logged_in(acme.owner)
    page = owner.get(f"/o/acme/experiments/{after['id']}/").content.decode()
    assert page.count('class="mark pass"') == 6 + 4 and page.count('class="mark fail"') == 2 + 4
    trace = Evaluation.objects.get(trace__trace_id="linked").trace_id
    assert f'href="/o/acme/traces/{trace}/"' in page
    changed = owner.get(f"/o/acme/experiments/{after['id']}/?show=changed").content.decode()
    assert changed.count("&quot;case&quot;") == 3  # items 1, 2 and 3 changed; item 0 passed in both


def test_the_comparison_page(acme, acme_api):
    _, before, after = experiment_pair(acme_api)
    page = logged_in(acme.owner).get(f"/o/acme/experiments/compare/?a={before['id']}&b={after['id']}")
    text = page.content.decode()
    assert page.status_code == 200 and "Fixed <span class=\"muted small\">(2)" in text
    assert "Broke <span class=\"muted small\">(1)" in text and "p = 1.0000" in text
    assert "Reliability" in text and "50%" in text and "75%" in text


def test_index_lists_datasets_and_experiments_with_their_success(acme, acme_api):
    experiment_pair(acme_api)
    text = logged_in(acme.owner).get("/o/acme/experiments/").content.decode()
    assert "qa" in text and "75%" in text and "50%" in text and "New dataset" in text
    assert "<title>Experiments · Acme</title>" in text and text.count("Replays for a cheaper model") == 1
    assert "New dataset" not in logged_in(acme.viewer).get("/o/acme/experiments/").content.decode()


def test_a_viewer_cannot_change_datasets(acme, acme_api):
    dataset = make_dataset(acme_api, "viewed", [{"input": 1}])
    viewer = logged_in(acme.viewer)
    assert viewer.post("/o/acme/experiments/datasets/new/", {"name": "x"}).status_code == 403
    assert viewer.post(f"/o/acme/experiments/datasets/{dataset['id']}/items/", {"input": "2"}).status_code == 403
    item = dataset["items"][0]["id"]
    assert viewer.post(f"/o/acme/experiments/datasets/{dataset['id']}/items/{item}/", {"input": "3"}).status_code \
        == 403
    assert Dataset.objects.get().version == 1 and Experiment.objects.count() == 0


def test_an_outsider_gets_404(acme, acme_api, globex):
    dataset, before, after = experiment_pair(acme_api)
    stranger = logged_in(globex.owner)
    for path in (f"/o/acme/experiments/datasets/{dataset['id']}/", f"/o/acme/experiments/{after['id']}/",
                 f"/o/globex/experiments/datasets/{dataset['id']}/", f"/o/globex/experiments/{after['id']}/",
                 f"/o/globex/experiments/compare/?a={before['id']}&b={after['id']}"):
        assert stranger.get(path).status_code == 404, path
