"""Reading and deleting traces over the API, and the walls between organisations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from evaluations.models import Evaluation
from tests.conftest import sample_trace
from traces.models import Trace

pytestmark = pytest.mark.django_db


def test_list_is_newest_first_with_a_cursor(acme_api):
    acme_api.post("/api/v1/traces", [sample_trace(f"t{i}", started_at=f"2026-11-2{i}T10:00:00Z") for i in range(5)])
    first = acme_api.get("/api/v1/traces?limit=2").json()
    assert [t["trace_id"] for t in first["results"]] == ["t4", "t3"]
    second = acme_api.get(first["next"]).json()
    assert [t["trace_id"] for t in second["results"]] == ["t2", "t1"]


def test_list_filters(acme_api):
    acme_api.post("/api/v1/traces", [
        sample_trace("ok", agent_id="a", framework="langchain", started_at="2026-11-20T00:00:00Z",
                     session_id="chat-1", user_id="ana", tags=["v2", "eu"]),
        sample_trace("bad", agent_id="a", output=None, error={"type": "ValueError", "message": "no"},
                     started_at="2026-11-22T00:00:00Z", session_id="chat-1", user_id="bo"),
        sample_trace("other", agent_id="b", started_at="2026-11-23T00:00:00Z", user_id="ana"),
    ])

    def ids(query):
        return {t["trace_id"] for t in acme_api.get(f"/api/v1/traces?{query}").json()["results"]}

    assert ids("agent=a") == {"ok", "bad"}
    assert ids("success=false") == {"bad"}
    assert ids("framework=langchain") == {"ok"}
    assert ids("since=2026-11-21T00:00:00Z") == {"bad", "other"}
    assert ids("until=2026-11-21T00:00:00Z") == {"ok"}
    assert ids("session_id=chat-1") == {"ok", "bad"}
    assert ids("user_id=ana") == {"ok", "other"}
    assert ids("user_id=ana&session_id=chat-1") == {"ok"}
    assert ids("tag=v2") == {"ok"}
    assert ids("tag=v") == set()  # a whole tag, not a part of one


@pytest.mark.parametrize("query", ["success=maybe", "since=yesterday"])
def test_bad_filters_are_400(acme_api, query):
    response = acme_api.get(f"/api/v1/traces?{query}")
    assert response.status_code == 400


def test_detail_has_spans_and_evaluation(acme_api):
    url = acme_api.post("/api/v1/traces", sample_trace()).json()["traces"][0]["url"]
    body = acme_api.get(url).json()
    assert [s["span_id"] for s in body["spans"]] == ["s1", "s2"]
    assert body["evaluation"]["status"] == "done" and body["evaluation"]["success"] is True


def test_analysis_reports_the_run_facts(acme_api):
    created = acme_api.post("/api/v1/traces", sample_trace()).json()["traces"][0]
    body = acme_api.get(created["analysis_url"]).json()
    assert body["status"] == "done"
    assert (body["llm_calls"], body["tool_calls"], body["input_tokens"]) == (1, 1, 500)
    assert body["engine_version"]


def test_delete_removes_the_trace_and_its_evaluation(acme_api):
    created = acme_api.post("/api/v1/traces", sample_trace()).json()["traces"][0]
    assert acme_api.delete(created["url"]).status_code == 204
    assert not Trace.objects.exists() and not Evaluation.objects.exists()


class TestOutsider:
    """A member of another organisation gets 404 for every object of this one."""

    @pytest.fixture
    def created(self, acme_api):
        return acme_api.post("/api/v1/traces", sample_trace("secret-run")).json()["traces"][0]

    def test_outsider_gets_404_on_detail(self, created, globex_api):
        assert globex_api.get(created["url"]).status_code == 404

    def test_outsider_gets_404_on_analysis(self, created, globex_api):
        assert globex_api.get(created["analysis_url"]).status_code == 404

    def test_outsider_gets_404_on_delete_and_nothing_is_deleted(self, created, globex_api):
        assert globex_api.delete(created["url"]).status_code == 404
        assert Trace.objects.filter(id=created["id"]).exists()

    def test_outsider_listing_does_not_show_it(self, created, globex_api):
        assert globex_api.get("/api/v1/traces").json()["results"] == []

    def test_malformed_ids_are_404(self, acme_api):
        assert acme_api.get("/api/v1/traces/not-a-uuid").status_code == 404
        assert acme_api.get("/api/v1/traces/not-a-uuid/analysis").status_code == 404


def test_sessions_and_users_over_the_api(acme_api, globex_api):
    now = datetime.now(UTC)
    acme_api.post("/api/v1/traces", [
        sample_trace("a1", session_id="chat-1", user_id="ana", started_at=(now - timedelta(hours=2)).isoformat()),
        sample_trace("a2", session_id="chat-1", user_id="ana", output=None,
                     error={"type": "ValueError", "message": "no"}, started_at=(now - timedelta(hours=1)).isoformat()),
        sample_trace("old", session_id="chat-0", started_at=(now - timedelta(days=10)).isoformat()),
    ])
    globex_api.post("/api/v1/traces", sample_trace("g", session_id="globex-chat"))

    body = acme_api.get("/api/v1/sessions").json()
    assert [row["session_id"] for row in body["results"]] == ["chat-1"] and body["next_page"] is None
    session = body["results"][0]
    assert (session["runs"], session["successes"], session["failures"]) == (2, 1, 1)
    assert acme_api.get(f"/api/v1/traces/{session['run_id']}").json()["session_id"] == "chat-1"
    assert {r["session_id"] for r in acme_api.get("/api/v1/sessions?window=30d").json()["results"]} == {
        "chat-1", "chat-0"}
    assert [r["user_id"] for r in acme_api.get("/api/v1/users").json()["results"]] == ["ana"]
    assert [r["session_id"] for r in globex_api.get("/api/v1/sessions").json()["results"]] == ["globex-chat"]


@pytest.mark.parametrize("query", ["page=-1", "page=20", "page=x", "window=forever"])
def test_sessions_bad_parameters_are_400_naming_the_field(acme_api, query):
    response = acme_api.get(f"/api/v1/sessions?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.content.decode()
