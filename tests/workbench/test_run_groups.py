"""The sessions and users pages, and the explorer narrowed to a session or a user."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.conftest import sample_trace
from tests.html import parse
from traces.models import Trace

from .conftest import failing_trace, logged_in

pytestmark = pytest.mark.django_db


def test_runs_of_a_session_and_of_a_user(acme, acme_api):
    acme_api.post("/api/v1/traces", [
        sample_trace("turn-1", session_id="chat-7", user_id="ana@example.com", tags=["beta", "eu"],
                     metadata={"plan": "pro"}),
        sample_trace("turn-2", session_id="chat-7", user_id="ana@example.com"),
        sample_trace("other-chat", session_id="chat-8", user_id="ana@example.com"),
        sample_trace("no-session"),
    ])
    first = Trace.objects.get(organisation=acme.organisation, trace_id="turn-1")
    owner = logged_in(acme.owner)

    detail = owner.get(f"/o/acme/traces/{first.id}/").content.decode()
    for shown in ("chat-7", "ana@example.com", "beta", "eu", "&quot;plan&quot;: &quot;pro&quot;"):
        assert shown in detail, shown
    assert f"?session_of={first.id}" in detail and f"?user_of={first.id}" in detail

    def listed(query: str) -> set[str]:
        html = owner.get(f"/o/acme/traces/?{query}").content.decode()
        return {t.trace_id for t in Trace.objects.filter(organisation=acme.organisation) if f"/traces/{t.id}/" in html}

    assert listed(f"session_of={first.id}") == {"turn-1", "turn-2"}
    assert listed("tag=beta") == {"turn-1"} and listed("tag=bet") == set()
    assert listed(f"user_of={first.id}") == {"turn-1", "turn-2", "other-chat"}
    assert "Runs of session" in owner.get(f"/o/acme/traces/?session_of={first.id}").content.decode()
    no_session = Trace.objects.get(organisation=acme.organisation, trace_id="no-session")
    assert listed(f"session_of={no_session.id}") == set()  # an empty session is not a session
    assert listed("session_of=not-a-uuid") == listed("")  # ignored, never an error


def test_sessions_and_users_pages_group_runs_and_link_by_run_id(acme, acme_api, globex, globex_api):
    now = timezone.now()
    acme_api.post("/api/v1/traces", [
        sample_trace("t1", session_id="chat-7", user_id="ana", started_at=(now - timedelta(hours=3)).isoformat()),
        failing_trace("t2", session_id="chat-7", user_id="ana", started_at=(now - timedelta(hours=2)).isoformat()),
        sample_trace("t3", session_id="chat-8", user_id="bo", started_at=(now - timedelta(hours=1)).isoformat()),
        sample_trace("old", session_id="chat-1", started_at=(now - timedelta(days=20)).isoformat()),
        sample_trace("alone", started_at=now.isoformat()),
    ])
    globex_api.post("/api/v1/traces", sample_trace("g", session_id="globex-chat", user_id="globex-user"))
    owner = logged_in(acme.owner)

    html = owner.get("/o/acme/sessions/").content.decode()
    assert html.index("chat-8") < html.index("chat-7")  # latest activity first
    assert "chat-1" not in html and "globex-chat" not in html  # outside the 7-day window; another organisation
    chat_7 = next(row for row in parse(html).find_all("tr") if row.find_all("td") and row.find("td").text == "chat-7")
    assert [cell.text for cell in chat_7.find_all("td")[1:4]] == ["2", "1", "1"]  # runs, succeeded, failed
    run_ids = {str(t.id) for t in Trace.objects.filter(trace_id__in=["t1", "t2"])}
    assert chat_7.links()[0].removeprefix("/o/acme/traces/?session_of=") in run_ids  # a run id, never the value

    assert "chat-1" in owner.get("/o/acme/sessions/?window=30d").content.decode()
    users = owner.get("/o/acme/users/").content.decode()
    assert "ana" in users and "bo" in users and "globex-user" not in users
    assert "No sessions in the last 24h" not in owner.get("/o/acme/sessions/?window=24h").content.decode()
    assert owner.get("/o/acme/sessions/?page=zzz&window=nonsense").status_code == 200
    assert logged_in(globex.owner).get("/o/acme/sessions/").status_code == 404
    assert logged_in(globex.owner).get("/o/acme/users/").status_code == 404


def test_sessions_page_says_how_to_start_when_there_are_none(acme):
    html = logged_in(acme.owner).get("/o/acme/sessions/").content.decode()
    assert "No sessions in the last 7d" in html and "update_trace(session_id=...)" in html
