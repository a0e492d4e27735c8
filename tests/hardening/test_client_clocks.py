"""Client clocks cannot steer retention or ordering: a start more than a day ahead is refused, and what the
server keeps, and when it last heard from an agent, go by when it received the trace (docs/trace-format.md)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.conftest import sample_trace
from traces.lifecycle import purge_expired
from traces.models import Trace
from traces.selectors import last_run_at

pytestmark = pytest.mark.django_db


def test_a_start_more_than_a_day_ahead_is_refused_and_the_valid_trace_beside_it_kept(acme_api):
    ahead = (timezone.now() + timedelta(days=1, minutes=5)).isoformat()
    far = "9999-12-31T00:00:00Z"
    response = acme_api.post("/api/v1/traces", [sample_trace("now"), sample_trace("far", started_at=far),
                                                sample_trace("tomorrow", started_at=ahead)])
    assert response.status_code == 202
    assert [(e["index"], e["field"]) for e in response.json()["errors"]] == [(1, "$.started_at"), (2, "$.started_at")]
    assert "more than a day ahead" in response.json()["errors"][0]["message"]
    assert acme_api.post("/api/v1/traces", sample_trace("far", started_at=far)).status_code == 400
    assert list(Trace.objects.values_list("trace_id", flat=True)) == ["now"]


def test_a_clock_a_little_ahead_is_accepted(acme_api):
    soon = (timezone.now() + timedelta(hours=23)).isoformat()
    assert acme_api.post("/api/v1/traces", sample_trace("soon", started_at=soon)).status_code == 202


def test_retention_goes_by_when_the_server_received_a_trace_not_by_its_stamp(acme_api, acme):
    acme_api.post("/api/v1/traces", [sample_trace("ancient-stamp", started_at="0001-01-01T00:00:00Z"),
                                     sample_trace("received-long-ago"), sample_trace("fresh")])
    Trace.objects.filter(trace_id="received-long-ago").update(received_at=timezone.now() - timedelta(days=31))
    acme.organisation.retention_days = 30
    assert purge_expired(acme.organisation) == 1
    assert set(Trace.objects.values_list("trace_id", flat=True)) == {"ancient-stamp", "fresh"}


def test_last_run_on_the_overview_is_when_the_newest_trace_arrived(acme_api, acme):
    acme_api.post("/api/v1/traces", sample_trace("backfilled", started_at="2001-01-01T00:00:00Z"))
    arrived = Trace.objects.get().received_at
    assert last_run_at(acme.organisation) == arrived
    assert timezone.now() - arrived < timedelta(minutes=1)
