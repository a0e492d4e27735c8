"""The trace explorer: filters, search, pages of runs, and the navigation it shares with every page."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from arcweb.services import create_organisation
from tests.conftest import sample_trace
from tests.html import parse
from traces.models import Trace
from traces.selectors import ExplorerFilters, explore_traces

from .conftest import logged_in

pytestmark = pytest.mark.django_db


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
        page = parse(html)
        seen += [link.removeprefix("/o/acme/traces/").rstrip("/") for link in page.find(id="results").links()
                 if link.startswith("/o/acme/traces/") and link.count("/") == 5]
        pages += 1
        if not page.find_all(id="load-more"):
            break
        query = page.find(id="load-more").attrs["href"].removeprefix("?")
    assert pages == 3
    assert len(seen) == len(set(seen)) == 120  # same started_at for all: the id breaks the ties


def test_explorer_htmx_load_more_returns_rows_only(acme, acme_api):
    acme_api.post("/api/v1/traces", [sample_trace(f"r-{i:03}") for i in range(60)])
    owner = logged_in(acme.owner)
    html = owner.get("/o/acme/traces/").content.decode()
    query = parse(html).find(id="load-more").attrs["href"].removeprefix("?")
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


def test_navigation_links_every_section(acme, runs):
    html = logged_in(acme.owner).get("/o/acme/traces/").content.decode()
    for label in ("Overview", "Traces", "Labelling", "Patterns", "Compare", "Settings"):
        assert f">{label}</a>" in html
    assert 'href="/o/acme/traces/" aria-current="page"' in html
    second = create_organisation(name="Other", owner=acme.owner, slug="other")
    assert second.slug in logged_in(acme.owner).get("/o/acme/").content.decode()
