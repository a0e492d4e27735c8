"""The compare page: a baseline against a window or another baseline."""

from __future__ import annotations

import pytest

from evaluations.models import Baseline
from tests.conftest import sample_trace
from tests.html import parse
from traces.models import Trace

from .conftest import logged_in

pytestmark = pytest.mark.django_db


def test_compare_with_a_baseline(acme, baseline):
    owner = logged_in(acme.owner)
    html = owner.get(f"/o/acme/compare/?baseline={baseline.id}&current=24h").content.decode()
    rows = {row[0]: row[1:] for row in parse(html).find(id="compare-table").rows()}
    assert {"Reliability", "Cost per run", "Tool success", "Latency (mean)", "Compliance passed"} <= rows.keys()
    assert "66.7%" in rows["Reliability"]


def test_compare_rejects_a_foreign_baseline_as_current(acme, globex, baseline, globex_api):
    globex_api.post("/api/v1/traces", sample_trace("g"))
    other = Baseline.objects.create(organisation=globex.organisation, agent=Trace.objects.get(trace_id="g").agent,
                                    name="theirs", start=baseline.start, end=baseline.end)
    response = logged_in(acme.owner).get(f"/o/acme/compare/?baseline={baseline.id}&current={other.id}")
    assert response.status_code == 404
