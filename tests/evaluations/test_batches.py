"""Batches taken from the database: shared fairly between organisations, and what they write stays exact."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connections
from django.db.models import Count, Q, Sum
from django.utils import timezone

from evaluations.feedback import add_feedback
from evaluations.models import AgentHour, Evaluation, FailurePattern
from evaluations.services import evaluate_batch
from tests.conftest import sample_trace
from tests.evaluations.test_engine_api import failing
from traces.ingest import ingest_traces
from traces.models import Trace

# Ingestion here only stores: no worker runs, the tests take the batches themselves.
pytestmark = [pytest.mark.worker, pytest.mark.django_db]


def test_a_noisy_organisation_does_not_hold_up_the_others(acme, globex):
    ingest_traces(organisation=acme.organisation, payloads=[sample_trace(f"noisy-{n}") for n in range(300)])
    ingest_traces(organisation=globex.organisation, payloads=[sample_trace(f"quiet-{n}") for n in range(10)])
    batch = evaluate_batch(100)
    assert (batch.taken, batch.evaluated, batch.more) == (100, 100, True)
    done = Counter(Evaluation.objects.filter(status="done").values_list("organisation__slug", flat=True))
    assert done == {"globex": 10, "acme": 90}  # globex's runs came after acme's 300, and did not wait for them


def test_batches_take_every_pending_run_once(acme):
    ingest_traces(organisation=acme.organisation, payloads=[sample_trace(f"r{n}") for n in range(250)])
    batches = []
    while (batch := evaluate_batch(100)).taken:
        batches.append((batch.taken, batch.more))
    assert batches == [(100, True), (100, True), (50, False)]
    assert set(Evaluation.objects.values_list("status", "attempts")) == {("done", 1)}


def test_rollups_and_patterns_equal_the_runs_after_reevaluation_and_label_flips(acme, django_capture_on_commit_callbacks):
    earlier = (timezone.now() - timedelta(hours=3)).isoformat()
    payloads = [failing(f"f{n}", started_at=earlier if n % 2 else None) for n in range(7)]
    payloads += [sample_trace(f"ok{n}", started_at=earlier if n % 3 else None) for n in range(13)]
    ingest_traces(organisation=acme.organisation, payloads=payloads)
    while evaluate_batch(6).taken:  # several batches, each folding into the same hours and pattern
        pass
    for trace_id, correct in (("f1", True), ("ok2", False), ("ok3", False)):
        add_feedback(evaluation=Evaluation.objects.get(trace__trace_id=trace_id), correct=correct)
    Evaluation.objects.update(engine_version="0.0.1")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("reevaluate")
    while evaluate_batch(6).taken:
        pass

    runs = Evaluation.objects.filter(organisation=acme.organisation)
    assert set(runs.values_list("status", "attempts")) == {("done", 2)}
    by_hour = {row["counted_in"]: row for row in runs.values("counted_in").annotate(
        runs=Count("id"), successes=Count("id", filter=Q(label_success=True) | Q(label_success=None, success=True)),
        cost=Sum("cost_usd"), tokens=Sum("input_tokens"), tool_errors=Sum("tool_errors"))}
    hours = {h.hour: h for h in AgentHour.objects.filter(organisation=acme.organisation)}
    assert set(hours) == set(by_hour) and len(hours) == 2
    for hour, row in hours.items():
        expected = by_hour[hour]
        assert (row.runs, row.successes, row.input_tokens, row.tool_errors) == \
            (expected["runs"], expected["successes"], expected["tokens"], expected["tool_errors"])
        assert row.cost_usd_sum == expected["cost"] and sum(row.latency_histogram) == expected["runs"]
    # Each failing run counted once in its pattern, though evaluated twice; runs whose label changed their
    # failure moved from one pattern to the other.
    fingerprints = Counter(runs.exclude(failure_fingerprint="").values_list("failure_fingerprint", flat=True))
    patterns = dict(FailurePattern.objects.filter(organisation=acme.organisation)
                    .values_list("fingerprint", "occurrences"))
    assert len(fingerprints) == 2 and sum(fingerprints.values()) == 8  # 7 failing − f1 + ok2 + ok3, by label
    assert patterns == dict(fingerprints)


def test_a_result_a_column_refuses_fails_only_its_run(acme):
    ingest_traces(organisation=acme.organisation, payloads=[sample_trace(f"r{n}") for n in range(5)])
    # A run stored before costs were bounded: two spans of $600,000 add up past the column's precision.
    spans = [{"span_id": f"s{n}", "kind": "llm", "model": "gpt-4o", "cost_usd": "600000"} for n in range(2)]
    Trace.objects.filter(trace_id="r3").update(spans=spans)
    batch = evaluate_batch(100)
    assert (batch.taken, batch.evaluated) == (5, 4)
    statuses = dict(Evaluation.objects.values_list("trace__trace_id", "status"))
    assert statuses == {"r0": "done", "r1": "done", "r2": "done", "r3": "failed", "r4": "done"}
    assert AgentHour.objects.get(organisation=acme.organisation).runs == 4
    assert evaluate_batch(100).taken == 0  # the failed run does not come back


@pytest.mark.django_db(transaction=True)
def test_runs_locked_by_another_worker_are_skipped(acme):
    ingest_traces(organisation=acme.organisation, payloads=[sample_trace(f"r{n}") for n in range(10)])
    locked = list(Evaluation.objects.order_by("pk").values_list("pk", flat=True)[:4])
    other = connections.create_connection("default")  # a second session, as another worker has
    try:
        other.set_autocommit(False)
        with other.cursor() as cursor:
            cursor.execute("SELECT id FROM evaluations_evaluation WHERE id = ANY(%s) FOR UPDATE", [locked])
        batch = evaluate_batch(100)
        assert (batch.taken, batch.evaluated) == (6, 6)
        assert set(Evaluation.objects.filter(status="pending").values_list("pk", flat=True)) == set(locked)
    finally:
        other.rollback()
        other.close()
    assert evaluate_batch(100).taken == 4
