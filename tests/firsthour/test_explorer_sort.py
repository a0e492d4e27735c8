"""The explorer sorted by a column — duration, tokens, cost — either way, page after page, filters kept."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.conftest import sample_trace
from tests.html import parse
from traces.models import Trace
from traces.selectors import ExplorerFilters, explore_traces

pytestmark = pytest.mark.django_db


def run(i: int, **overrides) -> dict:
    """Run i: i ms long, 10 × i tokens, costs i / 10,000 dollars; every third one fails."""
    trace = sample_trace(f"r{i:02}", duration_ms=float(i), **({"output": None} if i % 3 == 0 else {}))
    trace["spans"] = [{"span_id": "s1", "kind": "llm", "model": "gpt-4o-mini", "cost_usd": str(Decimal(i) / 10_000),
                       "usage": {"input_tokens": 8 * i, "output_tokens": 2 * i}}]
    trace.update(overrides)
    return trace


@pytest.fixture
def owner(acme, acme_api) -> Client:
    runs = [run(i) for i in range(1, 31)]
    runs.append(run(31, duration_ms=None, spans=[]))  # no duration, not priced, no tokens
    assert acme_api.post("/api/v1/traces", runs).status_code == 202
    browser = Client()
    browser.force_login(acme.owner)
    return browser


def walk(owner: Client, query: str) -> list[str]:
    """Every run the explorer lists for this query, following its "older runs" links page after page."""
    names = {str(t.id): t.trace_id for t in Trace.objects.all()}
    seen: list[str] = []
    while True:
        page = parse(owner.get(f"/o/acme/traces/?{query}").content.decode())
        seen += [names[link.split("/")[4]] for link in page.find(id="results").links()
                 if link.startswith("/o/acme/traces/") and link.count("/") == 5]
        if not page.find_all(id="load-more"):
            return seen
        query = page.find(id="load-more").attrs["href"].removeprefix("?")


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr("traces.selectors.EXPLORER_PAGE", 7)


@pytest.mark.parametrize("column", ["duration", "tokens", "cost"])
def test_each_column_sorts_both_ways_across_pages(owner, small_pages, column):
    largest_first = walk(owner, f"sort=-{column}")
    expected = [f"r{i:02}" for i in range(30, 0, -1)]
    if column == "tokens":
        expected.append("r31")  # 0 tokens: last of all
    assert largest_first == expected
    assert walk(owner, f"sort={column}") == expected[::-1]


def test_a_sort_keeps_the_filters_and_a_filter_keeps_the_sort(owner):
    failing = walk(owner, "sort=-cost&outcome=failure")
    assert failing == [f"r{i:02}" for i in range(30, 0, -1) if i % 3 == 0]
    page = parse(owner.get("/o/acme/traces/?sort=-cost&outcome=failure").content.decode())
    assert page.find("input", name="sort").attrs["value"] == "-cost"  # the filter form sends the sort along
    header = page.find("th", aria_sort="descending")
    assert header.text == "Cost ↓" and "sort=cost" in header.find("a").attrs["href"]  # a click turns it round
    assert "outcome=failure" in header.find("a").attrs["href"]
    assert "left out" in page.find(id="sort-note").text


def test_an_unknown_sort_or_a_foreign_cursor_is_the_newest_first_page(owner):
    newest = walk(owner, "")
    assert walk(owner, "sort=-secret_column") == newest
    assert walk(owner, "sort=-cost&cursor=bm90LWEtY3Vyc29y") == walk(owner, "sort=-cost")


def test_sorted_pages_read_the_sort_indexes(acme, owner):
    """The planner picks by size (a few rows are scanned): what must hold is that the ORDER BY is the indexes'
    own expressions, under the organisation they lead with."""
    for sort, index in (("-cost", "eval_org_cost"), ("-tokens", "eval_org_tokens"), ("duration", "trace_org_duration")):
        with CaptureQueriesContext(connection) as captured:
            explore_traces(acme.organisation, ExplorerFilters(sort=sort))
        sql = captured.captured_queries[-1]["sql"]
        with connection.cursor() as cursor:
            cursor.execute("SET enable_seqscan = off; SET enable_sort = off")
            cursor.execute("EXPLAIN " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            cursor.execute("RESET enable_seqscan; RESET enable_sort")
        assert index in plan, plan
