"""Replay for a cheaper model against a local OpenAI-compatible server (real socket, scripted answers): the share
equivalent, the savings per 1,000 calls by hand, the calls that differed, the budget, the boundary, tenancy."""

from __future__ import annotations

from decimal import Decimal

import pytest

from evaluations.engine.replay import answer_of, messages_of
from experiments.models import Replay
from tests.experiments.fake_model import serve
from tests.processes import wait_until
from tests.workbench.conftest import logged_in

pytestmark = pytest.mark.django_db(transaction=True)

# (prompt, recorded answer, what the cheaper model answers)
CALLS = [(f"capital of country {i}?", f"Capital {i}", f"capital {i}") for i in range(4)] + [
    ("capital of France?", "Paris.", "The capital of France is Paris."),
    ("capital of Peru?", "Lima.", "NOT-EQUIVALENT: Cusco."),
]


def recorded(i: int) -> dict:
    prompt, answer, _ = CALLS[i]
    return {"trace_id": f"rec-{i}", "agent_id": "geo-bot", "input": {"q": prompt}, "output": answer,
            "spans": [{"span_id": "s1", "kind": "llm", "name": "chat", "model": "gpt-4o", "provider": "openai",
                       "input": {"messages": [{"role": "system", "content": "Answer briefly."},
                                              {"role": "user", "content": prompt}]},
                       "output": {"role": "assistant", "content": answer},
                       "usage": {"input_tokens": 1000, "output_tokens": 100}}]}


@pytest.fixture
def model_server(settings):
    settings.ARC_MODEL_ENDPOINTS_ALLOW_PRIVATE = True
    server, url = serve({prompt: replayed for prompt, _, replayed in CALLS})
    yield server, url
    server.shutdown()


def connect(api, url: str) -> str:
    response = api.post("/api/v1/model-connections", {"name": "local", "provider": "openai", "base_url": url,
                                                       "api_key": "sk-test-abcdefgh12345678",
                                                       "default_model": "gpt-4o-mini"})
    assert response.status_code == 201, response.content
    return response.json()["id"]


def replay_of(api, url: str, traces: list[dict], **extra) -> dict:
    body = {"connection": connect(api, url), "model": "gpt-4o-mini",
            "spans": [{"trace": t["id"], "span_id": "s1"} for t in traces], **extra}
    response = api.post("/api/v1/replays", body)
    assert response.status_code == 202, response.content
    replay_id = response.json()["id"]
    assert wait_until(lambda: Replay.objects.get(id=replay_id).status in ("done", "stopped"), timeout=30)
    return api.get(f"/api/v1/replays/{replay_id}").json()


def test_replay_reports_the_share_equivalent_the_savings_and_the_calls_that_differed(acme_api, model_server):
    server, url = model_server
    traces = acme_api.post("/api/v1/traces", [recorded(i) for i in range(6)]).json()["traces"]
    body = replay_of(acme_api, url, traces)
    results = body["results"]
    assert (results["judged"], results["equivalent"], results["exact_matches"]) == (6, 5, 4)
    assert results["equivalent_share"] == pytest.approx(5 / 6)
    assert results["wilson_low"] == pytest.approx(0.4365, abs=1e-3) and results["wilson_high"] == pytest.approx(0.9699,
                                                                                                                 abs=1e-3)
    # by hand, 1,000 tokens in and 100 out a call: gpt-4o $2.50 + $10 per million, gpt-4o-mini $0.15 + $0.60
    recorded_cost, replay_cost = Decimal("0.0025") + Decimal("0.001"), Decimal("0.00015") + Decimal("0.00006")
    assert Decimal(str(results["savings_per_1000_calls_usd"])) == (recorded_cost - replay_cost) * 1000
    assert [d["trace"] for d in body["differing"]] == [traces[5]["id"]]
    assert body["differing"][0]["replayed_answer"] == "NOT-EQUIVALENT: Cusco." and body["connection_name"] == "local"
    assert "api_key" not in body and "abcdefgh12345678" not in str(body)
    # six replays, and a judge only for the two answers that were not identical
    judge_calls = [r for r in server.requests if r["body"].get("response_format")]
    assert len(server.requests) == 8 and len(judge_calls) == 2
    assert all(r["authorization"] == "Bearer sk-test-abcdefgh12345678" for r in server.requests)
    assert "<reference>\nLima.\n</reference>" in judge_calls[0]["body"]["messages"][-1]["content"] + \
        judge_calls[1]["body"]["messages"][-1]["content"]
    assert server.requests[0]["body"]["messages"][0] == {"role": "system", "content": "Answer briefly."}


def test_no_call_is_made_past_the_budget(acme_api, model_server):
    server, url = model_server
    traces = acme_api.post("/api/v1/traces", [recorded(i) for i in range(6)]).json()["traces"]
    body = replay_of(acme_api, url, traces, budget_usd="0.0007")  # one answer's worth (1,024 tokens at most)
    assert body["results"]["skipped_for_budget"] == 5 and len(server.requests) <= 2
    assert Decimal(str(body["spent_usd"])) <= Decimal("0.0007")


def test_private_endpoints_bad_spans_and_other_organisations_are_refused(acme_api, globex_api, model_server, settings):
    _, url = model_server
    traces = acme_api.post("/api/v1/traces", [recorded(0)]).json()["traces"]
    body = {"connection": connect(acme_api, url), "model": "gpt-4o-mini",
            "spans": [{"trace": traces[0]["id"], "span_id": "s1"}]}
    foreign = globex_api.post("/api/v1/replays", body)
    assert foreign.status_code == 400 and foreign.json()["error"]["field"] == "connection"
    foreign_spans = globex_api.post("/api/v1/replays", {**body, "connection": connect(globex_api, url)})
    assert foreign_spans.status_code == 400 and foreign_spans.json()["error"]["field"] == "spans[0]"
    missing = acme_api.post("/api/v1/replays", {**body, "spans": [{"trace": traces[0]["id"], "span_id": "nope"}]})
    assert missing.status_code == 400
    replay = replay_of(acme_api, url, traces)
    assert globex_api.get(f"/api/v1/replays/{replay['id']}").status_code == 404
    assert globex_api.get("/api/v1/replays").json()["results"] == []
    settings.ARC_MODEL_ENDPOINTS_ALLOW_PRIVATE = False
    refused = acme_api.post("/api/v1/model-connections", {"name": "inside", "base_url": url, "default_model": "m"})
    assert refused.status_code == 400 and refused.json()["error"]["field"] == "base_url"


def test_the_replay_page_shows_the_calls_that_differed(acme, acme_api, globex, model_server):
    _, url = model_server
    traces = acme_api.post("/api/v1/traces", [recorded(i) for i in (4, 5)]).json()["traces"]
    replay = replay_of(acme_api, url, traces)
    page = logged_in(acme.owner).get(f"/o/acme/experiments/replays/{replay['id']}/").content.decode()
    assert "NOT-EQUIVALENT: Cusco." in page and "50%" in page
    assert logged_in(globex.owner).get(f"/o/acme/experiments/replays/{replay['id']}/").status_code == 404


def test_recorded_calls_in_the_shapes_clients_send():
    assert messages_of("hi") == [{"role": "user", "content": "hi"}]
    assert messages_of([{"role": "user", "content": [{"type": "text", "text": "hi"}]}]) == \
        [{"role": "user", "content": "hi"}]
    assert messages_of([{"role": "system", "content": "x"}]) is None  # nothing asked
    assert messages_of({"messages": [{"role": "user", "content": {"image": 1}}]}) is None
    assert answer_of({"choices": [{"message": {"content": "42"}}]}) == "42"
    assert answer_of({"content": [{"type": "text", "text": "Hello"}]}) == "Hello"
    assert answer_of({"role": "assistant", "content": None, "tool_calls": [{}]}) is None


def test_replays_count_against_the_organisations_daily_judging_budget_and_stop_there(acme, acme_api, model_server):
    from experiments.models import ReplayCall
    from judges.models import Score
    from judges.selectors import spend_today
    from judges.services import set_organisation_budget
    from traces.models import Trace

    server, url = model_server
    traces = acme_api.post("/api/v1/traces", [recorded(i) for i in range(6)]).json()["traces"]
    judged_today = Decimal("0.0005")  # what the organisation's judges spent today
    Score.objects.create(organisation=acme.organisation, trace=Trace.objects.get(id=traces[0]["id"]), name="judge",
                         source="judge", cost_usd=judged_today, passed=True)
    limit = judged_today + Decimal("0.0015")  # room for two or three calls at the estimate (1,024 tokens out)
    set_organisation_budget(acme.organisation, limit)

    body = replay_of(acme_api, url, traces[:4], budget_usd="5")  # the replay's own cap is far off
    results = body["results"]
    assert body["status"] == "stopped" and "daily judging budget is reached" in body["error"]
    made = ReplayCall.objects.filter(replay_id=body["id"], status="done").count()
    assert 1 <= made < 4 and results["skipped_for_budget"] == 4 - made and len(server.requests) == made
    assert all("organisation's daily judging budget" in c.error
               for c in ReplayCall.objects.filter(replay_id=body["id"], status="skipped"))
    replay_cost = Decimal("0.00015") + Decimal("0.00006")  # gpt-4o-mini, 1,000 tokens in and 100 out
    assert spend_today(acme.organisation.id) == judged_today + made * replay_cost <= limit
    # the judges' own budget (what their runner holds each call to) counts the replays' spend too
    budget = acme_api.get("/api/v1/judging-budget").json()
    assert Decimal(str(budget["spend_today_usd"])) == judged_today + made * replay_cost

    # the next replay starts from what the judges and the first replay spent today: no call fits any more
    set_organisation_budget(acme.organisation, spend_today(acme.organisation.id) + Decimal("0.0001"))
    again = replay_of(acme_api, url, traces[5:], budget_usd="5")
    assert again["status"] == "stopped" and again["results"]["skipped_for_budget"] == 1
    assert len(server.requests) == made
    page = logged_in(acme.owner).get(f"/o/acme/experiments/replays/{again['id']}/").content.decode()
    assert "daily judging budget is reached" in page
