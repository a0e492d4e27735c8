"""What each workbench page shows and does."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from arcweb.models import ApiKey, Membership, Organisation, Role
from arcweb.services import create_organisation
from evaluations.models import Baseline, Evaluation, FailurePattern, Feedback, LabelAssignment
from tests.conftest import sample_trace
from traces.models import Trace
from traces.selectors import ExplorerFilters, explore_traces

from .conftest import failing_trace, logged_in

pytestmark = pytest.mark.django_db


# --- overview and onboarding -------------------------------------------------------------------

def test_empty_org_sees_onboarding_with_its_endpoint(acme):
    html = logged_in(acme.owner).get("/o/acme/").content.decode()
    assert "Send your first trace" in html
    assert "http://testserver/api/v1/traces" in html and "http://testserver/v1/traces" in html
    assert "@trace_agent" in html and 'hx-trigger="every 3s"' in html


def test_onboarding_creates_a_key_shown_once(acme):
    owner = logged_in(acme.owner)
    html = owner.post("/o/acme/onboarding/key/", HTTP_HX_REQUEST="true").content.decode()
    key = html.split('id="new-key">', 1)[1].split("<", 1)[0]
    assert key.startswith("arc_") and f"Bearer {key}" in html
    assert ApiKey.objects.filter(organisation=acme.organisation).count() == 2
    assert key not in owner.get("/o/acme/onboarding/").content.decode()


def test_onboarding_notices_the_first_trace(acme, acme_api):
    owner = logged_in(acme.owner)
    assert "Listening" in owner.get("/o/acme/onboarding/status/").content.decode()
    acme_api.post("/api/v1/traces", sample_trace("first"))
    html = owner.get("/o/acme/onboarding/status/").content.decode()
    assert "Your first trace arrived" in html and "hx-trigger" not in html


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


def test_overview_queries_do_not_grow_with_runs(acme, acme_api, runs):
    owner = logged_in(acme.owner)
    with CaptureQueriesContext(connection) as before:
        owner.get("/o/acme/")
    acme_api.post("/api/v1/traces", [sample_trace(f"more-{i}", agent_id=f"agent-{i % 2}") for i in range(10)])
    with CaptureQueriesContext(connection) as after:
        owner.get("/o/acme/")
    # one pass^k sample per agent is the only per-agent query (2 agents were added)
    assert len(after) <= len(before) + 2


# --- agent page --------------------------------------------------------------------------------

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


# --- explorer ----------------------------------------------------------------------------------

def test_explorer_filters(acme, runs, hostile):
    owner = logged_in(acme.owner)

    def ids(query: str) -> set[str]:
        html = owner.get(f"/o/acme/traces/?{query}").content.decode()
        return {t.trace_id for t in Trace.objects.filter(organisation=acme.organisation) if f"/traces/{t.id}/" in html}

    assert ids("outcome=failure") == {"bad-0", "bad-1", "bad-2", "evil"}
    assert ids("outcome=success") == {f"ok-{i}" for i in range(6)}
    assert ids(f"agent={Trace.objects.get(trace_id='bad-0').agent_id}&outcome=failure") == {"bad-0", "bad-1", "bad-2"}
    assert ids("category=tool_timeout") >= {"bad-0", "bad-1", "bad-2"}
    assert ids("q=onerror") == {"evil"}
    assert ids("grade=A%2B") == {f"ok-{i}" for i in range(6)} and ids("grade=F") == {"bad-0", "bad-1", "bad-2", "evil"}
    assert ids("since=2999-01-01") == set()
    assert ids("outcome=bogus&since=garbage") == ids("")  # bad values are ignored, never a 500


def test_explorer_search_finds_input_and_output_text_and_says_when_it_is_too_short(acme, runs, hostile):
    owner = logged_in(acme.owner)
    evil = Trace.objects.get(organisation=acme.organisation, trace_id="evil")
    assert f"/traces/{evil.id}/" in owner.get("/o/acme/traces/?q=ONERROR").content.decode()  # any case
    html = owner.get("/o/acme/traces/?q=on", HTTP_HX_REQUEST="true").content.decode()
    assert "Search needs at least 3 characters" in html
    assert html.count("/o/acme/traces/") == owner.get("/o/acme/traces/", HTTP_HX_REQUEST="true").content.decode().count(
        "/o/acme/traces/")  # the short text filtered nothing out


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigram indexes exist on PostgreSQL")
def test_explorer_search_filters_on_the_trigram_indexes_expressions(acme, runs):
    """With a handful of rows the planner rightly scans; what must hold is that the search's expressions are
    the indexes' own (as PostgreSQL normalises both), or the indexes could never serve it."""
    with CaptureQueriesContext(connection) as captured:
        explore_traces(acme.organisation, ExplorerFilters(text="refund policy"))
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + captured.captured_queries[-1]["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SELECT pg_get_indexdef(indexrelid, 1, false) FROM pg_index WHERE indexrelid IN "
                       "('trace_input_trgm'::regclass, 'trace_output_trgm'::regclass)")
        expressions = [row[0] for row in cursor.fetchall()]
    assert sorted(expressions) == ["upper((input)::text)", "upper((output)::text)"]
    for expression in expressions:
        assert f"{expression} ~~ '%REFUND POLICY%'" in plan, plan


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
    chat_7 = html[html.index("chat-7"):].split("</tr>", 1)[0]
    assert [cell.split("</td>")[0].split(">")[-1] for cell in chat_7.split('<td class="num">')[1:3]] == ["2", "1"]
    run_ids = {str(t.id).replace("-", "") for t in Trace.objects.filter(trace_id__in=["t1", "t2"])}
    link = chat_7.split("?session_of=", 1)[1].split('"', 1)[0]
    assert link.replace("-", "") in run_ids  # links carry a run id, never the session value

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


def test_another_organisations_run_narrows_to_nothing_and_reveals_nothing(acme, acme_api, globex, globex_api):
    acme_api.post("/api/v1/traces", sample_trace("mine", session_id="shared-name"))
    globex_api.post("/api/v1/traces", sample_trace("theirs", session_id="shared-name", user_id="secret@globex.test"))
    theirs = Trace.objects.get(organisation=globex.organisation, trace_id="theirs")
    html = logged_in(acme.owner).get(f"/o/acme/traces/?session_of={theirs.id}&user_of={theirs.id}").content.decode()
    assert "No runs match" in html
    assert "secret@globex.test" not in html and "shared-name" not in html


def test_explorer_cursor_pages_cover_every_run_once(acme, acme_api):
    acme_api.post("/api/v1/traces", [sample_trace(f"r-{i:03}", started_at="2026-01-01T00:00:00Z") for i in range(120)])
    owner = logged_in(acme.owner)
    seen: list[str] = []
    query = ""
    pages = 0
    while True:
        response = owner.get(f"/o/acme/traces/?{query}")
        html = response.content.decode()
        seen += [chunk.split("/", 1)[0] for chunk in html.split("/o/acme/traces/")[1:] if chunk[:1].isalnum()]
        pages += 1
        if 'id="load-more"' not in html:
            break
        query = html.split('id="more-row"', 1)[1].split('href="?', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert pages == 3
    assert len(seen) == len(set(seen)) == 120  # same started_at for all: the id breaks the ties


def test_explorer_htmx_load_more_returns_rows_only(acme, acme_api):
    acme_api.post("/api/v1/traces", [sample_trace(f"r-{i:03}") for i in range(60)])
    owner = logged_in(acme.owner)
    html = owner.get("/o/acme/traces/").content.decode()
    query = html.split('id="more-row"', 1)[1].split('href="?', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    more = owner.get(f"/o/acme/traces/?{query}&more=1", HTTP_HX_REQUEST="true").content.decode()
    assert "<table" not in more and more.count("<tr>") == 10


def test_explorer_query_count_is_fixed(acme, acme_api):
    owner = logged_in(acme.owner)
    acme_api.post("/api/v1/traces", [sample_trace(f"a-{i}") for i in range(5)])
    with CaptureQueriesContext(connection) as few:
        owner.get("/o/acme/traces/")
    acme_api.post("/api/v1/traces", [sample_trace(f"b-{i}") for i in range(40)])
    with CaptureQueriesContext(connection) as many:
        owner.get("/o/acme/traces/")
    assert len(many) == len(few)


# --- trace detail ------------------------------------------------------------------------------

def test_trace_detail_shows_waterfall_evaluation_and_fixes(acme, runs):
    bad = runs["bad-0"]
    html = logged_in(acme.owner).get(f"/o/acme/traces/{bad.id}/").content.decode()
    assert 'class="bar kind-llm"' in html and 'class="bar kind-tool error"' in html
    assert 'style=' not in html  # the CSP forbids inline styles: bars are SVG attributes
    assert '<span class="indent"></span>' in html  # the tool span is nested under the LLM span
    assert "gpt-4o-mini" in html and "500→40" in html
    assert "Score breakdown" in html and "Tool accuracy" in html and "Fixes" in html
    assert "TimeoutError" in html and "Generated test scenarios" in html


def test_trace_detail_shows_compliance_findings_masked(acme, acme_api):
    acme_api.post("/api/v1/traces", sample_trace("pii", output={"answer": "Your SSN is 123-45-6789, card 4111 1111 1111 1111"}))
    trace = Trace.objects.get(organisation=acme.organisation, trace_id="pii")
    html = logged_in(acme.owner).get(f"/o/acme/traces/{trace.id}/").content.decode()
    findings = html.split("<h2>Compliance</h2>", 1)[1].split("</div>", 1)[0]
    assert "<table>" in findings
    assert "4111 1111 1111 1111" not in findings and "123-45-6789" not in findings


def test_feedback_form_labels_the_run(acme, runs):
    bad = runs["bad-0"]
    owner = logged_in(acme.owner)
    response = owner.post(f"/o/acme/traces/{bad.id}/feedback/", {"correct": "true", "score": "4", "label": "",
                                                                   "notes": "fine after all"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "fine after all" in response.content.decode()
    assert Evaluation.objects.get(trace=bad).label_success is True
    empty = owner.post(f"/o/acme/traces/{bad.id}/feedback/", {"correct": "", "score": ""})
    assert empty.status_code == 400 and "give at least one" in empty.content.decode()


# --- labelling ---------------------------------------------------------------------------------

def test_labelling_next_run_loads_by_htmx(acme, runs):
    owner = logged_in(acme.owner)
    html = owner.get("/o/acme/labelling/").content.decode()
    current = html.split('data-trace="', 1)[1].split('"', 1)[0]
    response = owner.post(f"/o/acme/labelling/{current}/label/", {"correct": "false", "score": "2",
                                                                  "label": "tool_timeout", "notes": "n"},
                          HTTP_HX_REQUEST="true")
    swapped = response.content.decode()
    assert response.status_code == 200 and swapped.lstrip().startswith('<div id="workspace"')
    assert "<html" not in swapped and "Labelled incorrect" in swapped
    following = swapped.split('data-trace="', 1)[1].split('"', 1)[0]
    assert following != current
    feedback = Feedback.objects.get(trace_id=current)
    assert (feedback.correct, feedback.score, feedback.label, feedback.author) == (False, 2, "tool_timeout", acme.owner)
    assert Evaluation.objects.get(trace_id=current).label_success is False


def test_labelling_skip_and_filters(acme, runs):
    owner = logged_in(acme.owner)
    html = owner.get("/o/acme/labelling/?auto=fail").content.decode()
    current = html.split('data-trace="', 1)[1].split('"', 1)[0]
    assert Trace.objects.get(id=current).trace_id.startswith("bad-")
    skipped = owner.get(f"/o/acme/labelling/?auto=fail&skip={current}", HTTP_HX_REQUEST="true").content.decode()
    assert skipped.split('data-trace="', 1)[1].split('"', 1)[0] != current


def test_label_without_a_verdict_says_what_is_missing(acme, runs):
    trace = runs["ok-0"]
    response = logged_in(acme.owner).post(f"/o/acme/labelling/{trace.id}/label/", {"score": "3"},
                                          HTTP_HX_REQUEST="true")
    assert "Choose correct (c) or incorrect (x)" in response.content.decode()
    assert not Feedback.objects.filter(trace=trace).exists()


def test_assign_a_run_to_a_teammate(acme, runs):
    teammate = acme.viewer
    Membership.objects.filter(organisation=acme.organisation, user=teammate).update(role=Role.MEMBER)
    owner = logged_in(acme.owner)
    trace = runs["bad-1"]
    owner.post(f"/o/acme/labelling/{trace.id}/assign/", {"assignee": str(teammate.pk)}, HTTP_HX_REQUEST="true")
    assert LabelAssignment.objects.get(trace=trace).assignee == teammate
    mine = logged_in(teammate).get("/o/acme/labelling/?assigned=me").content.decode()
    assert f'data-trace="{trace.id}"' in mine
    owner.post(f"/o/acme/labelling/{trace.id}/assign/", {"assignee": ""})
    assert not LabelAssignment.objects.filter(trace=trace).exists()


def test_cannot_assign_to_a_stranger(acme, globex, runs):
    response = logged_in(acme.owner).post(f"/o/acme/labelling/{runs['bad-1'].id}/assign/",
                                          {"assignee": str(globex.owner.pk)})
    assert response.status_code == 404 and not LabelAssignment.objects.exists()


def test_agreement_and_who_labelled_what(acme, runs):
    owner = logged_in(acme.owner)
    for trace_id, correct in (("ok-0", "true"), ("ok-1", "false"), ("bad-0", "false")):
        owner.post(f"/o/acme/labelling/{runs[trace_id].id}/label/", {"correct": correct})
    html = owner.get("/o/acme/labelling/").content.decode()
    agreement = html.split("Agreement: engine vs team", 1)[1]
    assert "66.7%" in agreement  # 2 of 3 verdicts agree
    assert "owner@acme.test: 3" in html


def test_labels_export_csv_and_jsonl(acme, runs):
    owner = logged_in(acme.owner)
    owner.post(f"/o/acme/labelling/{runs['ok-0'].id}/label/", {"correct": "true", "score": "5", "notes": "good"})
    response = owner.get("/o/acme/labelling/export.csv")
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows == [{**rows[0], "trace_id": "ok-0", "agent": "support-bot", "correct": "True", "score": "5",
                     "notes": "good", "author": "owner@acme.test", "automatic_verdict": "True"}]
    lines = b"".join(owner.get("/o/acme/labelling/export.jsonl").streaming_content).decode().splitlines()
    assert [json.loads(line)["trace_id"] for line in lines] == ["ok-0"]


def test_labels_export_holds_only_the_orgs_labels(acme, globex, runs, globex_api):
    globex_api.post("/api/v1/traces", sample_trace("g-1"))
    logged_in(globex.owner).post(
        f"/o/globex/labelling/{Trace.objects.get(trace_id='g-1').id}/label/", {"correct": "true"})
    logged_in(acme.owner).post(f"/o/acme/labelling/{runs['ok-0'].id}/label/", {"correct": "true"})
    text = b"".join(logged_in(acme.owner).get("/o/acme/labelling/export.jsonl").streaming_content).decode()
    assert "ok-0" in text and "g-1" not in text


# --- patterns and compare ----------------------------------------------------------------------

def test_patterns_list_and_detail(acme, pattern):
    owner = logged_in(acme.owner)
    html = owner.get("/o/acme/patterns/").content.decode()
    assert "tool_timeout" in html and "▲ 3" in html  # three this week, none the week before
    detail = owner.get(f"/o/acme/patterns/{pattern.id}/").content.decode()
    assert "Mark fix applied" in detail and "Download JSONL" in detail and "Example runs" in detail
    assert detail.count("/o/acme/traces/") >= 3


def test_pattern_scenarios_download(acme, pattern):
    owner = logged_in(acme.owner)
    jsonl = owner.get(f"/o/acme/patterns/{pattern.id}/scenarios.jsonl")
    assert jsonl["Content-Disposition"].startswith("attachment") and json.loads(jsonl.content.splitlines()[0])
    pytest_file = owner.get(f"/o/acme/patterns/{pattern.id}/scenarios.py?module=bot&function=run")
    compile(pytest_file.content.decode(), "test_file.py", "exec")
    assert b"from bot import run" in pytest_file.content
    assert owner.get(f"/o/acme/patterns/{pattern.id}/scenarios.py?module=1bad;rm").status_code == 400


def test_mark_fix_applied(acme, pattern):
    logged_in(acme.owner).post(f"/o/acme/patterns/{pattern.id}/fix-applied/")
    assert FailurePattern.objects.get(pk=pattern.pk).status == "fix_applied"


def test_compare_with_a_baseline(acme, baseline):
    owner = logged_in(acme.owner)
    html = owner.get(f"/o/acme/compare/?baseline={baseline.id}&current=24h").content.decode()
    table = html.split('id="compare-table"', 1)[1]
    for metric in ("Reliability", "Cost per run", "Tool success", "Latency", "Compliance passed"):
        assert metric in table
    assert "66.7%" in table


def test_create_baseline_from_the_agent_page(acme, agent):
    response = logged_in(acme.owner).post("/o/acme/compare/baselines/", {"agent": str(agent.id), "name": "release 2",
                                                                        "window": "24h"})
    baseline = Baseline.objects.get(organisation=acme.organisation, name="release 2")
    assert response.status_code == 302 and str(baseline.id) in response["Location"]


def test_compare_rejects_a_foreign_baseline_as_current(acme, globex, baseline, globex_api):
    globex_api.post("/api/v1/traces", sample_trace("g"))
    other = Baseline.objects.create(organisation=globex.organisation, agent=Trace.objects.get(trace_id="g").agent,
                                    name="theirs", start=baseline.start, end=baseline.end)
    response = logged_in(acme.owner).get(f"/o/acme/compare/?baseline={baseline.id}&current={other.id}")
    assert response.status_code == 404


# --- settings ----------------------------------------------------------------------------------

def test_admin_updates_the_organisation(acme):
    owner = logged_in(acme.owner)
    owner.post("/o/acme/settings/organisation/", {"name": "Acme Corp", "mask_pii_at_ingestion": "on",
                                                  "retention_days": "90"})
    organisation = Organisation.objects.get(pk=acme.organisation.pk)
    assert (organisation.name, organisation.mask_pii_at_ingestion, organisation.public_sharing_enabled,
            organisation.retention_days) == ("Acme Corp", True, False, 90)
    bad = owner.post("/o/acme/settings/organisation/", {"name": "", "retention_days": "7"})
    assert bad.status_code == 400


def test_roles_change_but_the_last_owner_stays(acme):
    owner = logged_in(acme.owner)
    viewer = Membership.objects.get(organisation=acme.organisation, user=acme.viewer)
    owner.post(f"/o/acme/settings/members/{viewer.id}/role/", {"role": "admin"})
    assert Membership.objects.get(pk=viewer.pk).role == Role.ADMIN
    me = Membership.objects.get(organisation=acme.organisation, user=acme.owner)
    owner.post(f"/o/acme/settings/members/{me.id}/role/", {"role": "member"})
    owner.post(f"/o/acme/settings/members/{me.id}/remove/")
    assert Membership.objects.get(pk=me.pk).role == Role.OWNER


def test_admin_cannot_touch_an_owner_or_make_one(acme):
    Membership.objects.filter(organisation=acme.organisation, user=acme.viewer).update(role=Role.ADMIN)
    admin = logged_in(acme.viewer)
    me = Membership.objects.get(organisation=acme.organisation, user=acme.owner)
    assert admin.post(f"/o/acme/settings/members/{me.id}/remove/").status_code == 403
    own = Membership.objects.get(organisation=acme.organisation, user=acme.viewer)
    assert admin.post(f"/o/acme/settings/members/{own.id}/role/", {"role": "owner"}).status_code == 403


def test_create_key_is_shown_once_with_its_scope(acme):
    owner = logged_in(acme.owner)
    html = owner.post("/o/acme/settings/keys/", {"name": "ingest only", "scope": "ingest"}).content.decode()
    assert 'id="new-key">arc_' in html
    assert ApiKey.objects.get(organisation=acme.organisation, name="ingest only").scope == "ingest"
    assert 'id="new-key"' not in owner.get("/o/acme/settings/").content.decode()


def test_delete_organisation_needs_the_typed_slug(acme, runs):
    owner = logged_in(acme.owner)
    wrong = owner.post("/o/acme/settings/delete/", {"confirm": "acm"})
    assert wrong.status_code == 400 and Organisation.objects.filter(slug="acme").exists()
    done = owner.post("/o/acme/settings/delete/", {"confirm": "acme"})
    assert done.status_code == 302 and not Organisation.objects.filter(slug="acme").exists()
    assert not Trace.objects.filter(trace_id="ok-0").exists()


def test_other_orgs_survive_a_deletion(acme, globex, globex_api):
    globex_api.post("/api/v1/traces", sample_trace("keep"))
    logged_in(acme.owner).post("/o/acme/settings/delete/", {"confirm": "acme"})
    assert Trace.objects.filter(trace_id="keep", organisation=globex.organisation).exists()


def test_navigation_links_every_section(acme, runs):
    html = logged_in(acme.owner).get("/o/acme/traces/").content.decode()
    for label in ("Overview", "Traces", "Labelling", "Patterns", "Compare", "Settings"):
        assert f">{label}</a>" in html
    assert 'href="/o/acme/traces/" aria-current="page"' in html
    second = create_organisation(name="Other", owner=acme.owner, slug="other")
    assert second.slug in logged_in(acme.owner).get("/o/acme/").content.decode()


def test_compare_figures_read_as_rates_money_and_seconds_with_signed_deltas():
    from evaluations.views import _format_metric

    assert _format_metric("reliability", 0.734) == "73.4%"
    assert _format_metric("reliability", 0.05, delta=True) == "+5.0 pp"
    assert _format_metric("cost_per_run_usd", 0.001, delta=True) == "+$0.00100"
    assert _format_metric("latency_ms", -300, delta=True) == "-0.30s"
    assert _format_metric("runs", None, delta=True) == "—"
