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

PUBLIC_PREFIXES = ("r/", "invitations/", "accounts/")  # token URLs: unguessable, not organisation-scoped


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


MANGLED = {
    "the same uuid in capitals": lambda v: v.upper(),
    "the same uuid without hyphens": lambda v: v.replace("-", ""),
    "a NUL after it": lambda v: v + "%00",
    "an over-long segment": lambda v: v + "x" * 600,
    "cut short, not a uuid": lambda v: v[:-3],
}


@pytest.mark.parametrize("how", sorted(MANGLED))
def test_another_organisations_ids_written_otherwise_are_never_found(acme_objects, globex, how):
    """Another spelling of acme's id (still the same UUID, or junk) is no door in: a 4xx on every route."""
    browser = Client()
    browser.force_login(globex.owner)
    browser.raise_request_exception = False
    api = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {globex.key}")
    mangled = {name: MANGLED[how](str(value)) for name, value in acme_objects.items()}
    answers = {}
    for route in object_routes():
        for slug in ("acme", "globex") if "org_slug" in route else ("globex",):
            path = fill(route, mangled, slug)
            answers[path] = outsider_answer(browser if route.startswith("o/") else api, path, {})
    assert {path: status for path, status in answers.items() if not 400 <= status < 500} == {}
