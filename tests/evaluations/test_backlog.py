"""The queue is visible: operators scrape the backlog, teams see when their verdicts are behind."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from evaluations.models import Evaluation
from evaluations.services import evaluate_batch
from tests.conftest import sample_trace
from traces.ingest import ingest_traces

# Ingestion here only stores: no worker runs, so runs stay pending until a test takes them.
pytestmark = [pytest.mark.worker, pytest.mark.django_db]


def waiting_since(organisation, seconds: float, count: int = 1, prefix: str = "w") -> None:
    result = ingest_traces(organisation=organisation, payloads=[sample_trace(f"{prefix}{n}") for n in range(count)])
    Evaluation.objects.filter(trace_id__in=result.created_ids).update(
        enqueued_at=timezone.now() - timedelta(seconds=seconds))


def scrape(**headers) -> tuple[int, str]:
    response = Client().get("/metrics", **headers)
    return response.status_code, response.content.decode()


def test_metrics_report_every_organisations_backlog_and_its_oldest_age(acme, globex, settings):
    settings.ARC_METRICS_TOKEN = "scrape-token"
    waiting_since(acme.organisation, 42, count=2)
    waiting_since(globex.organisation, 7, count=3)
    status, text = scrape(HTTP_AUTHORIZATION="Bearer scrape-token")
    assert status == 200
    figures = dict(line.rsplit(" ", 1) for line in text.splitlines() if line.startswith("arc_"))
    assert float(figures["arc_evaluations_pending"]) == 5
    assert 42 <= float(figures["arc_evaluations_oldest_pending_seconds"]) < 60
    evaluate_batch()
    figures = dict(line.rsplit(" ", 1) for line in scrape(HTTP_AUTHORIZATION="Bearer scrape-token")[1].splitlines()
                   if line.startswith("arc_"))
    assert figures == {"arc_evaluations_pending": "0.0", "arc_evaluations_oldest_pending_seconds": "0.0"}


def test_metrics_need_the_token(settings):
    settings.ARC_METRICS_TOKEN = "scrape-token"
    assert scrape()[0] == 401
    assert scrape(HTTP_AUTHORIZATION="Bearer another")[0] == 401
    settings.ARC_METRICS_TOKEN, settings.DEBUG = "", False
    assert scrape()[0] == 404  # off in production until a token is set


def overview(tenant) -> str:
    client = Client()
    client.force_login(tenant.owner)
    response = client.get(f"/o/{tenant.organisation.slug}/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_overview_says_how_far_behind_the_verdicts_are(acme):
    ingest_traces(organisation=acme.organisation, payloads=[sample_trace("done")])
    evaluate_batch()
    assert "behind" not in overview(acme)
    waiting_since(acme.organisation, 2)
    assert "behind" not in overview(acme)  # a run just in is not "behind"
    waiting_since(acme.organisation, 95, count=3, prefix="late")
    assert "Verdicts are 1.6 min behind" in overview(acme)
    assert "4 runs waiting for a verdict" in overview(acme)


def test_another_organisations_backlog_is_not_shown(acme, globex):
    ingest_traces(organisation=acme.organisation, payloads=[sample_trace("done")])
    evaluate_batch()
    waiting_since(globex.organisation, 300)
    assert "behind" not in overview(acme)
