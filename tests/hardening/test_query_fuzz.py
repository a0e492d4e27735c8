"""Hostile requests to the pages and the API: an answer, never a 500.

Query strings on every organisation page, every API list and the pages of one of each object; form posts
to every organisation route (the walkers' `acme_objects` fill the ids); hostile URL paths (a NUL, an over-long
segment, a non-UUID) on every route that takes an id, a token or a slug.

The routes come from the URL patterns (a new page is covered the day it is added); the parameters are
every one the pages and the API read.
"""

from __future__ import annotations

import pytest
from django.test import Client

from evaluations.models import FailurePattern
from tests.conftest import sample_trace
from tests.routes import PARAM, api_lists, fill, org_pages, routes
from tests.workbench.conftest import failing_trace, logged_in
from traces.models import Trace

pytestmark = pytest.mark.django_db

PARAMETERS = ["window", "agent", "outcome", "framework", "grade", "category", "compliance", "since", "until", "q",
              "tag", "session_of", "user_of", "cursor", "page", "more", "status", "assigned", "engine", "baseline",
              "success", "limit", "session_id", "user_id", "paper", "fmt", "skip"]
VALUES = ["%00", "a%00b", "x" * 3000, "%F0%9F%92%A9", "-1", "99999999999999999999999", "1e309", "'%22%3C%3E",
          "2026-13-45T99:99:99Z", "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz"]


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


FORM_FIELDS = ["correct", "score", "label", "notes", "assignee", "agent", "name", "window", "start", "end", "role",
               "email", "scope", "title", "agents", "sections", "baseline", "expires_at", "paper", "active",
               "email_members", "retention_days", "mask_pii_at_ingestion", "public_sharing_enabled", "next"]
FORM_VALUES = ["", "\x00", "x" * 3000, "-1", "99999999999999999999999", "nan", "2026-13-45T99:99", "<script>", "on"]


def test_no_form_post_makes_a_page_fail(acme, acme_objects):
    owner = logged_in(acme.owner)
    owner.raise_request_exception = False
    posts = [fill(route, acme_objects, "acme") for route in routes()
             if route.startswith("o/<slug:org_slug>/") and "delete" not in route]
    assert "/o/acme/settings/logo/" in posts and any("/label/" in p for p in posts)
    failures = [(path, value[:12], status) for path in posts for value in FORM_VALUES
                if (status := owner.post(path, {field: value for field in FORM_FIELDS}).status_code) >= 500]
    assert failures == []


PATH_VALUES = ["%00", "ab%00cd", "x" * 600, "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz", "not-a-uuid", "-1",
               "99999999999999999999", "%F0%9F%92%A9", "'%22%3C%3E"]


def hostile_paths(value: str) -> list[str]:
    """Every route with a parameter, each parameter `value`: under acme's own slug, and as the slug too."""
    paths = []
    for route in routes():
        names = {m.group("name") for m in PARAM.finditer(route)}
        if not names or route.startswith("accounts/^"):  # allauth's regex routes: allauth's own
            continue
        if names - {"org_slug"}:
            paths.append(fill(route, dict.fromkeys(names, value), "acme"))
        if "org_slug" in names:
            paths.append(fill(route, dict.fromkeys(names, "x"), value))
    return paths


def test_no_url_path_makes_a_route_fail(acme, acme_api):
    """A NUL, an over-long segment, a non-UUID or junk in place of any id, token or slug: a 4xx, never a 5xx —
    for the API with a key, for the pages logged in, and for the public links without a session."""
    owner = logged_in(acme.owner)
    anonymous = Client()
    for client in (owner, anonymous, acme_api.client):
        client.raise_request_exception = False
    failures, answered = [], set()
    for value in PATH_VALUES:
        for path in hostile_paths(value):
            if path.startswith(("/api/", "/v1/")):
                clients = [acme_api]
            elif path.startswith(("/r/", "/invitations/")):
                clients = [anonymous, owner]
            else:
                clients = [owner]
            for client in clients:
                status = client.get(path).status_code
                if status == 405:
                    status = client.post(path, {}).status_code
                answered.add(status)
                if status >= 500:
                    failures.append((path[:80], status))
    assert failures == []
    assert 400 in answered and 404 in answered  # a NUL is a 400 that says so; an id that cannot exist a 404


def test_a_nul_in_the_path_is_a_clear_400_on_pages_public_links_and_the_api(acme, acme_api):
    response = acme_api.get("/api/v1/agents/%00/reliability")
    assert response.status_code == 400 and "NUL" in response.json()["error"]["message"]
    for path in ("/r/%00", "/r/ab%00cd/badge.svg", "/r/%00/report.pdf", "/r/%00/embed", "/invitations/%00/"):
        page = Client().get(path)
        assert page.status_code == 400 and "NUL" in page.content.decode(), path
    assert logged_in(acme.owner).get("/o/acme/traces/%00/").status_code == 400
