"""Hostile query strings on every organisation page, every API list and the pages of one of each object:
an answer, never a 500.

The routes come from the URL patterns (a new page is covered the day it is added); the parameters are
every one the pages and the API read.
"""

from __future__ import annotations

import pytest

from evaluations.models import FailurePattern
from tests.conftest import sample_trace
from tests.routes import api_lists, org_pages
from tests.workbench.conftest import failing_trace, logged_in
from traces.models import Trace

pytestmark = pytest.mark.django_db

PARAMETERS = ["window", "agent", "outcome", "framework", "grade", "category", "compliance", "since", "until", "q",
              "tag", "session_of", "user_of", "cursor", "page", "more", "status", "assigned", "engine", "baseline",
              "success", "limit", "session_id", "user_id", "paper", "fmt"]
VALUES = ["%00", "a%00b", "x" * 3000, "%F0%9F%92%A9", "-1", "99999999999999999999999", "1e309", "'%22%3C%3E",
          "2026-13-45T99:99:99Z"]


def test_no_query_string_makes_a_page_or_an_api_list_fail(acme, acme_api):
    acme_api.post("/api/v1/traces", [sample_trace(f"t{i}", session_id="s", user_id="u", tags=["x"]) for i in range(3)]
                  + [failing_trace("f")])
    owner = logged_in(acme.owner)
    owner.raise_request_exception = False
    acme_api.client.raise_request_exception = False
    run = Trace.objects.get(organisation=acme.organisation, trace_id="f")
    pattern = FailurePattern.objects.get(organisation=acme.organisation)
    pages = org_pages("acme") + [f"/o/acme/traces/{run.id}/", f"/o/acme/agents/{run.agent_id}/",
                                 f"/o/acme/patterns/{pattern.id}/"]
    lists = api_lists() + [f"/api/v1/agents/{run.agent_id}/reliability", f"/api/v1/patterns/{pattern.id}"]
    assert "/o/acme/sessions/" in pages and "/api/v1/sessions" in lists
    failures = [(path, name, value[:12], status)
                for client, paths in ((owner, pages), (acme_api, lists)) for path in paths
                for name in PARAMETERS for value in VALUES
                if (status := client.get(f"{path}?{name}={value}").status_code) >= 500]
    assert failures == []


def test_a_nul_in_the_query_string_is_a_clear_400(acme, acme_api):
    response = acme_api.get("/api/v1/traces?framework=a%00b")
    assert response.status_code == 400 and "NUL" in response.json()["error"]["message"]
    page = logged_in(acme.owner).get("/o/acme/traces/?q=a%00b")
    assert page.status_code == 400 and "NUL" in page.content.decode()
