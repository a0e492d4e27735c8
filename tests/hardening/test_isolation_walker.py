"""Every URL that takes an object id answers 404 to another organisation's member.

The walker reads the project's URL patterns, so a new route is checked the day it is added; a route
whose id parameter it does not know how to fill fails here until it is taught (the `acme_objects` fixture
in conftest.py).
"""

from __future__ import annotations

import pytest
from django.test import Client

from tests.routes import PARAM, fill, routes

pytestmark = pytest.mark.django_db

PUBLIC_PREFIXES = ("r/", "invitations/", "accounts/", "sdk/")  # token URLs, the SDK wheel: not organisation-scoped


def object_routes() -> list[str]:
    found = []
    for route in routes():
        names = {m.group("name") for m in PARAM.finditer(route)} - {"org_slug"}
        if names and not route.startswith(PUBLIC_PREFIXES) and not route.startswith("static"):
            found.append(route)
    return found


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
