"""Every URL that takes an object id answers 404 to another organisation's member.

The walker reads the project's URL patterns, so a new route is checked the day it is added; a route
whose id parameter it does not know how to fill fails here until it is taught (see ID_FACTORIES).
"""

from __future__ import annotations

import re

import pytest
from django.test import Client

from arcweb.models import ApiKey, Membership
from arcweb.services import invite
from evaluations.models import Baseline, FailurePattern
from tests.conftest import sample_trace
from tests.evaluations.test_engine_api import failing
from tests.routes import routes

pytestmark = pytest.mark.django_db

PARAM = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")
PUBLIC_PREFIXES = ("r/", "invitations/", "accounts/")  # token URLs: unguessable, not organisation-scoped


def object_routes() -> list[str]:
    found = []
    for route in routes():
        names = {m.group("name") for m in PARAM.finditer(route)} - {"org_slug"}
        if names and not route.startswith(PUBLIC_PREFIXES) and not route.startswith("static"):
            found.append(route)
    return found


@pytest.fixture
def acme_objects(acme, acme_api):
    created = acme_api.post("/api/v1/traces", [failing("f1"), sample_trace("ok")]).json()["traces"]
    pattern = FailurePattern.objects.get(organisation=acme.organisation)
    agent = pattern.agent
    baseline = Baseline.objects.create(organisation=acme.organisation, agent=agent, name="b",
                                       start=pattern.first_seen, end=pattern.last_seen)
    invitation = invite(organisation=acme.organisation, email="new@acme.test", role="member", invited_by=acme.owner)
    objects = {
        "trace_id": created[0]["id"], "key_id": ApiKey.objects.filter(organisation=acme.organisation).first().id,
        "pattern_id": pattern.id, "agent_id": agent.id, "baseline_id": baseline.id,
        "member_id": Membership.objects.get(organisation=acme.organisation, user=acme.viewer).id,
        "invitation_id": invitation.id,
    }
    objects.update(extra_objects(acme))
    return objects


def extra_objects(tenant) -> dict:
    """Objects of the apps that add routes with ids of their own."""
    from reports.services import create_report
    from traces.models import Agent

    report = create_report(organisation=tenant.organisation, agents=list(Agent.objects.for_org(tenant.organisation)),
                           window="7d")
    return {"report_id": report.id, "paper": "a4"}


def fill(route: str, objects: dict, org_slug: str) -> str:
    def value(match):
        name = match.group("name")
        if name == "org_slug":
            return org_slug
        assert name in objects, f"the isolation walker does not know how to fill <{name}> in {route!r}"
        return str(objects[name])

    return "/" + PARAM.sub(value, route)


def outsider_answer(client: Client, path: str, headers: dict) -> int:
    status = client.get(path, **headers).status_code
    if status == 405:
        status = client.post(path, data="{}", content_type="application/json", **headers).status_code
    return status


def test_every_object_route_is_404_to_another_organisation(acme_objects, globex):
    routes = object_routes()
    assert len(routes) >= 10
    browser = Client()
    browser.force_login(globex.owner)
    api_headers = {"HTTP_AUTHORIZATION": f"Bearer {globex.key}"}
    checked = []
    for route in routes:
        if "<org_slug>" in route or "org_slug" in route:
            for slug in ("acme", "globex"):  # their organisation's URL, and their id under our own
                path = fill(route, acme_objects, slug)
                assert outsider_answer(browser, path, {}) == 404, path
        else:
            path = fill(route, acme_objects, "globex")
            assert outsider_answer(Client(), path, api_headers) == 404, path
        checked.append(route)
    assert any(r.startswith("api/") for r in checked) and any(r.startswith("o/") for r in checked)
