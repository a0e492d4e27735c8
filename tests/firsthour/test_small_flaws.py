"""Small page flaws a newcomer saw: a run without a duration is no "10 ms" latency; the embed card charts what its
headline covers."""

from __future__ import annotations

import pytest
from django.test import Client

from reports.models import Report
from tests.conftest import sample_trace
from tests.html import parse

pytestmark = pytest.mark.django_db


def untimed(trace_id: str, **overrides) -> dict:
    trace = sample_trace(trace_id, **overrides)
    trace.pop("duration_ms")
    for span in trace["spans"]:
        span.pop("duration_ms")
    return trace


def overview_latency(owner) -> str:
    rows = parse(owner.get("/o/acme/").content.decode()).find("table", class_="overview").rows()
    header = rows[0]
    return next(r for r in rows if r[0].startswith("support-bot"))[header.index("Latency p95")]


def test_runs_without_a_duration_leave_latency_unknown_not_10_ms(acme, acme_api):
    assert acme_api.post("/api/v1/traces", [untimed(f"u{i}") for i in range(3)]).status_code == 202
    owner = Client()
    owner.force_login(acme.owner)
    assert overview_latency(owner) == "—"
    figures = acme_api.get("/api/v1/agents/support-bot/reliability").json()
    assert figures["runs"] == 3 and figures["latency_p95_ms"] is None and figures["latency_mean_ms"] is None

    # timed runs next to them: the latency is theirs alone, not pulled towards zero by the untimed ones
    assert acme_api.post("/api/v1/traces", [sample_trace(f"t{i}", duration_ms=2000) for i in range(3)]).status_code == 202
    figures = acme_api.get("/api/v1/agents/support-bot/reliability").json()
    assert figures["runs"] == 6 and figures["latency_mean_ms"] == 2000.0
    assert 1900 < figures["latency_p95_ms"] < 2400  # within the latency histogram's bucket around 2 s
    assert overview_latency(owner) == figures["display"]["latency_p95"]


def test_the_embed_card_charts_every_agent_its_headline_covers(acme, acme_api):
    runs = [sample_trace(f"a{i}") for i in range(4)] + [sample_trace(f"b{i}", agent_id="billing-bot", output=None)
                                                       for i in range(4)]
    assert acme_api.post("/api/v1/traces", runs).status_code == 202
    made = acme_api.post("/api/v1/reports", {"agents": ["support-bot", "billing-bot"], "window": "7d",
                                              "share": True}).json()
    card = Client().get(made["share_url"].removeprefix("http://testserver") + "/embed").content.decode()
    assert "50%" in parse(card).find(class_="rp-big").text  # 4 of 8 runs, both agents together
    chart = parse(card).find(class_="rp-chart")
    assert "support-bot" in chart.find("title").text and "billing-bot" in chart.find("title").text
    snapshot = Report.objects.get(id=made["id"]).snapshot  # the series drawn: 50% per bucket, not one agent's 100%
    assert {row[1] for row in snapshot["series"] if row[2]} == {50.0}
