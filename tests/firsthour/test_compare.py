"""Compare by a baseline's name, with figures written for people and arrows that follow the change; windows that
overlap are refused — in the API, on the compare page and in a report's baseline section."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import sample_trace
from tests.html import parse

pytestmark = pytest.mark.django_db


def runs_in_two_windows(api) -> None:
    """Ten good runs 11-19 days ago at $0.0001; nine in the last days at $0.0001463, two of them failing."""
    now = timezone.now()
    before = [sample_trace(f"b{i}", started_at=(now - timedelta(days=11 + i * 0.8)).isoformat(),
                           spans=[{"span_id": "s1", "kind": "llm", "model": "gpt-4o-mini", "cost_usd": "0.0001"}])
              for i in range(10)]
    after = [sample_trace(f"c{i}", started_at=(now - timedelta(hours=2 + 7 * i)).isoformat(),
                          spans=[{"span_id": "s1", "kind": "llm", "model": "gpt-4o-mini", "cost_usd": "0.0001463"}],
                          **({"output": None, "error": {"type": "TimeoutError", "message": "timed out"}}
                             if i in (2, 5) else {}))
             for i in range(9)]
    assert api.post("/api/v1/traces", before + after).status_code == 202


@pytest.fixture
def baselines(acme_api) -> None:
    runs_in_two_windows(acme_api)
    now = timezone.now()
    for body in ({"agent": "support-bot", "name": "v1.0", "start": (now - timedelta(days=20)).isoformat(),
                  "end": (now - timedelta(days=10)).isoformat()},
                 {"agent": "support-bot", "name": "last-30-days", "window": "30d"}):
        assert acme_api.post("/api/v1/baselines", body).status_code == 201


def metrics(answer) -> dict[str, dict]:
    return {m["metric"]: m for m in answer.json()["metrics"]}


def test_compare_takes_the_baseline_by_name_and_writes_its_figures(acme_api, baselines):
    answer = acme_api.get("/api/v1/compare?baseline=v1.0&current=7d")
    assert answer.status_code == 200, answer.content
    rows = metrics(answer)
    assert answer.json()["baseline"]["name"] == "v1.0"
    assert rows["reliability"]["display"] == {"label": "Reliability", "before": "100.0%", "after": "77.8%",
                                              "delta": "-22.2 pp", "arrow": "↓", "verdict": "no significant change"}
    cost = rows["cost_per_run_usd"]["display"]
    assert (cost["label"], cost["before"], cost["after"], cost["delta"], cost["arrow"]) == \
        ("Cost per run", "$0.000100", "$0.000146", "+$0.0000463", "↑")  # it rose: up, although that is worse
    assert rows["cost_per_run_usd"]["better"] is False


def test_a_name_several_agents_use_needs_the_agent(acme_api, baselines):
    acme_api.post("/api/v1/traces", sample_trace("other", agent_id="billing-bot"))
    acme_api.post("/api/v1/baselines", {"agent": "billing-bot", "name": "v1.0", "window": "7d"})
    answer = acme_api.get("/api/v1/compare?baseline=v1.0&current=7d")
    assert answer.status_code == 400 and "billing-bot" in answer.json()["error"]["message"]
    assert acme_api.get("/api/v1/compare?baseline=v1.0&current=7d&agent=support-bot").status_code == 200


def test_an_unknown_baseline_names_the_ones_there_are(acme_api, baselines, globex_api):
    answer = acme_api.get("/api/v1/compare?baseline=v9&current=7d")
    assert answer.status_code == 404
    assert "no baseline 'v9'" in answer.json()["error"]["message"] and "'v1.0' (support-bot)" in answer.text
    assert globex_api.get("/api/v1/compare?baseline=v1.0&current=7d").status_code == 404  # another org's name


def test_overlapping_windows_are_refused_with_the_reason(acme_api, baselines):
    answer = acme_api.get("/api/v1/compare?baseline=last-30-days&current=7d")
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "overlapping_windows" and error["field"] == "current"
    assert "the windows overlap" in error["message"] and "compared with themselves" in error["message"]
    assert acme_api.get("/api/v1/compare?baseline=v1.0&current=last-30-days").status_code == 400


def test_the_compare_page_shows_arrows_by_direction_and_the_command_by_name(acme, baselines):
    from evaluations.models import Baseline

    browser = Client()
    browser.force_login(acme.owner)
    v1 = Baseline.objects.get(name="v1.0")
    page = parse(browser.get(f"/o/acme/compare/?baseline={v1.id}&current=7d").content.decode())
    rows = {row[0]: row[1:] for row in page.find(id="compare-table").rows()}
    assert rows["Reliability"][:3] == ["100.0%", "77.8%", "↓ -22.2 pp"]
    assert rows["Cost per run"][2] == "↑ +$0.0000463"
    assert page.find(id="compare-cli").text == "arc-eval compare --baseline v1.0 --current 7d"
    over = Baseline.objects.get(name="last-30-days")
    refused = parse(browser.get(f"/o/acme/compare/?baseline={over.id}&current=7d").content.decode())
    assert "the windows overlap" in refused.find(id="overlap").text


def test_a_report_never_compares_a_window_with_itself(acme_api, baselines):
    from evaluations.models import Baseline

    over = Baseline.objects.get(name="last-30-days")
    answer = acme_api.post("/api/v1/reports", {"agent": "support-bot", "window": "30d", "baseline": str(over.id)})
    assert answer.status_code == 400 and answer.json()["error"]["field"] == "baseline"
    assert "the windows overlap" in answer.json()["error"]["message"]

    v1 = Baseline.objects.get(name="v1.0")
    made = acme_api.post("/api/v1/reports", {"agent": "support-bot", "window": "7d", "baseline": str(v1.id)})
    assert made.status_code == 201
    section = made.json()["snapshot"]["agents"][0]["baseline"]
    reliability = next(m for m in section["metrics"] if m["metric"] == "reliability")
    assert (reliability["before"], round(reliability["after"], 3)) == (1.0, 0.778)
