"""The project's URL patterns as route strings, for the tests that must cover every route."""

from __future__ import annotations

import re

from django.urls import URLPattern, URLResolver, get_resolver

PARAM = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


def walk(patterns, prefix: str = ""):
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route.lstrip("^").rstrip("$")


def routes() -> list[str]:
    return sorted(set(walk(get_resolver().url_patterns)))


def api_lists() -> list[str]:
    """Every API route without a parameter: the lists and summaries."""
    return ["/" + r for r in routes() if r.startswith("api/v1/") and "<" not in r]


def org_pages(slug: str) -> list[str]:
    """Every page of an organisation that takes no id."""
    prefix = "o/<slug:org_slug>/"
    return ["/o/" + slug + "/" + r[len(prefix):] for r in routes() if r.startswith(prefix) and "<" not in r[len(prefix):]]


def fill(route: str, objects: dict, org_slug: str) -> str:
    def value(match):
        name = match.group("name")
        if name == "org_slug":
            return org_slug
        assert name in objects, f"the isolation walker does not know how to fill <{name}> in {route!r}"
        return str(objects[name])

    return "/" + PARAM.sub(value, route)
