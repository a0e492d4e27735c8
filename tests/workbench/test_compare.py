"""The compare page: a baseline against a window or another baseline."""

from __future__ import annotations

import pytest

from evaluations.models import Baseline
from tests.conftest import sample_trace
from tests.html import parse
from traces.models import Trace

from .conftest import logged_in

pytestmark = pytest.mark.django_db


def test_compare_refuses_a_window_inside_the_baseline(acme, baseline):
    owner = logged_in(acme.owner)
    page = parse(owner.get(f"/o/acme/compare/?baseline={baseline.id}&current=24h").content.decode())
    assert "the windows overlap" in page.find(id="overlap").text  # the last 24h are inside its 7 days
    assert not page.find_all(id="compare-table")


def test_compare_rejects_a_foreign_baseline_as_current(acme, globex, baseline, globex_api):
    globex_api.post("/api/v1/traces", sample_trace("g"))
    other = Baseline.objects.create(organisation=globex.organisation, agent=Trace.objects.get(trace_id="g").agent,
                                    name="theirs", start=baseline.start, end=baseline.end)
    response = logged_in(acme.owner).get(f"/o/acme/compare/?baseline={baseline.id}&current={other.id}")
    assert response.status_code == 404
