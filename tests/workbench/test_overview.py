"""The overview: every agent's figures over a window."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import sample_trace

from .conftest import logged_in

pytestmark = pytest.mark.django_db


def test_overview_shows_every_agent_figure(acme, runs):
    html = logged_in(acme.owner).get("/o/acme/").content.decode()
    assert "support-bot" in html
    assert "66.7%" in html  # 6 of 9 runs succeeded
    for text in ("Grade", "95% interval", "pass^k", "Cost / run", "Tool accuracy", "Latency p95", "Compliance"):
        assert text in html
    assert 'hx-trigger="every 15s"' in html and "<svg" in html


def test_overview_window_swaps_a_partial(acme, runs):
    response = logged_in(acme.owner).get("/o/acme/?window=24h", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith('<div id="dashboard"')
    assert "<html" not in html and "last 24h" in html
    assert "HX-Request" in response["Vary"]


def test_overview_queries_do_not_grow_with_runs_or_agents(acme, acme_api, runs):
    owner = logged_in(acme.owner)
    with CaptureQueriesContext(connection) as before:
        owner.get("/o/acme/")
    acme_api.post("/api/v1/traces", [sample_trace(f"more-{i}", agent_id=f"agent-{i % 2}") for i in range(10)])
    with CaptureQueriesContext(connection) as after:
        owner.get("/o/acme/")
    assert len(after) == len(before)  # 2 agents and 10 runs were added
