"""An agent's page: its figures, charts, patterns, savings and baselines."""

from __future__ import annotations

import pytest

from evaluations.models import Baseline

from .conftest import logged_in

pytestmark = pytest.mark.django_db


def test_agent_page_headline_and_charts(acme, agent):
    html = logged_in(acme.owner).get(f"/o/acme/agents/{agent.id}/").content.decode()
    assert "Reliability: <strong>67%</strong>" in html and "(Grade: " in html
    assert "/run</strong>" in html and "Tool Accuracy:" in html and "in tool calls" in html
    assert html.count("chart chart-line") == 3
    assert "timeout" in html  # the top failure pattern
    assert "Save baseline" in html


def test_agent_of_another_org_is_404_even_by_id(acme, globex, agent):
    assert logged_in(globex.owner).get(f"/o/globex/agents/{agent.id}/").status_code == 404
    assert logged_in(acme.owner).get("/o/acme/agents/not-a-uuid/").status_code == 404


def test_create_baseline_from_the_agent_page(acme, agent):
    response = logged_in(acme.owner).post("/o/acme/compare/baselines/", {"agent": str(agent.id), "name": "release 2",
                                                                        "window": "24h"})
    baseline = Baseline.objects.get(organisation=acme.organisation, name="release 2")
    assert response.status_code == 302 and str(baseline.id) in response["Location"]
