"""The labelling queue, assignments, agreement and the label exports."""

from __future__ import annotations

import csv
import io
import json

import pytest

from arcweb.models import Membership, Role
from evaluations.models import Evaluation, Feedback, LabelAssignment
from tests.conftest import sample_trace
from tests.html import parse
from traces.models import Trace

from .conftest import logged_in

pytestmark = pytest.mark.django_db


def test_labelling_next_run_loads_by_htmx(acme, runs):
    owner = logged_in(acme.owner)
    html = owner.get("/o/acme/labelling/").content.decode()
    current = parse(html).find(id="labeller").attrs["data-trace"]
    response = owner.post(f"/o/acme/labelling/{current}/label/", {"correct": "false", "score": "2",
                                                                  "label": "tool_timeout", "notes": "n"},
                          HTTP_HX_REQUEST="true")
    swapped = response.content.decode()
    assert response.status_code == 200 and swapped.lstrip().startswith('<div id="workspace"')
    assert "<html" not in swapped and "Labelled incorrect" in swapped
    following = parse(swapped).find(id="labeller").attrs["data-trace"]
    assert following != current
    feedback = Feedback.objects.get(trace_id=current)
    assert (feedback.correct, feedback.score, feedback.label, feedback.author) == (False, 2, "tool_timeout", acme.owner)
    assert Evaluation.objects.get(trace_id=current).label_success is False


def test_labelling_skip_and_filters(acme, runs):
    owner = logged_in(acme.owner)
    html = owner.get("/o/acme/labelling/?auto=fail").content.decode()
    current = parse(html).find(id="labeller").attrs["data-trace"]
    assert Trace.objects.get(id=current).trace_id.startswith("bad-")
    skipped = owner.get(f"/o/acme/labelling/?auto=fail&skip={current}", HTTP_HX_REQUEST="true").content.decode()
    assert parse(skipped).find(id="labeller").attrs["data-trace"] != current


def test_label_without_a_verdict_says_what_is_missing(acme, runs):
    trace = runs["ok-0"]
    response = logged_in(acme.owner).post(f"/o/acme/labelling/{trace.id}/label/", {"score": "3"},
                                          HTTP_HX_REQUEST="true")
    assert "Choose correct (c) or incorrect (x)" in response.content.decode()
    assert not Feedback.objects.filter(trace=trace).exists()


def test_assign_a_run_to_a_teammate(acme, runs):
    teammate = acme.viewer
    Membership.objects.filter(organisation=acme.organisation, user=teammate).update(role=Role.MEMBER)
    owner = logged_in(acme.owner)
    trace = runs["bad-1"]
    owner.post(f"/o/acme/labelling/{trace.id}/assign/", {"assignee": str(teammate.pk)}, HTTP_HX_REQUEST="true")
    assert LabelAssignment.objects.get(trace=trace).assignee == teammate
    mine = logged_in(teammate).get("/o/acme/labelling/?assigned=me").content.decode()
    assert f'data-trace="{trace.id}"' in mine
    owner.post(f"/o/acme/labelling/{trace.id}/assign/", {"assignee": ""})
    assert not LabelAssignment.objects.filter(trace=trace).exists()


def test_cannot_assign_to_a_stranger(acme, globex, runs):
    response = logged_in(acme.owner).post(f"/o/acme/labelling/{runs['bad-1'].id}/assign/",
                                          {"assignee": str(globex.owner.pk)})
    assert response.status_code == 404 and not LabelAssignment.objects.exists()


def test_agreement_and_who_labelled_what(acme, runs):
    owner = logged_in(acme.owner)
    for trace_id, correct in (("ok-0", "true"), ("ok-1", "false"), ("bad-0", "false")):
        owner.post(f"/o/acme/labelling/{runs[trace_id].id}/label/", {"correct": correct})
    html = owner.get("/o/acme/labelling/").content.decode()
    agreement = parse(html).under("Agreement: engine vs team").find("table").rows()
    assert agreement[1][:3] == ["support-bot", "3", "66.7%"]  # 2 of 3 verdicts agree
    assert "owner@acme.test: 3" in html


def test_labels_export_csv_and_jsonl(acme, runs):
    owner = logged_in(acme.owner)
    owner.post(f"/o/acme/labelling/{runs['ok-0'].id}/label/", {"correct": "true", "score": "5", "notes": "good"})
    response = owner.get("/o/acme/labelling/export.csv")
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows == [{**rows[0], "trace_id": "ok-0", "agent": "support-bot", "correct": "True", "score": "5",
                     "notes": "good", "author": "owner@acme.test", "automatic_verdict": "True"}]
    lines = b"".join(owner.get("/o/acme/labelling/export.jsonl").streaming_content).decode().splitlines()
    assert [json.loads(line)["trace_id"] for line in lines] == ["ok-0"]


def test_labels_export_holds_only_the_orgs_labels(acme, globex, runs, globex_api):
    globex_api.post("/api/v1/traces", sample_trace("g-1"))
    logged_in(globex.owner).post(
        f"/o/globex/labelling/{Trace.objects.get(trace_id='g-1').id}/label/", {"correct": "true"})
    logged_in(acme.owner).post(f"/o/acme/labelling/{runs['ok-0'].id}/label/", {"correct": "true"})
    text = b"".join(logged_in(acme.owner).get("/o/acme/labelling/export.jsonl").streaming_content).decode()
    assert "ok-0" in text and "g-1" not in text
