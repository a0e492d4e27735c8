"""The trace explorer and the sessions / users pages (a run's own page, with its verdict, is in evaluations)."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.vary import vary_on_headers

from arcweb.tenancy import org_view
from arcweb.windows import PAGE_WINDOWS, page_window, window
from evaluations.engine.failures import TAXONOMY
from evaluations.engine.frameworks import FRAMEWORK_NAMES
from evaluations.engine.reliability import GRADES

from . import selectors


@org_view()
@vary_on_headers("HX-Request")
def trace_list(request):
    organisation = request.organisation
    filters = selectors.ExplorerFilters.from_query(request.GET)
    rows, next_cursor = selectors.explore_traces(organisation, filters, cursor=request.GET.get("cursor"))
    params = request.GET.copy()
    params.pop("cursor", None)
    params.pop("more", None)
    first_query = params.urlencode()
    if next_cursor:
        params["cursor"] = next_cursor
    context = {
        "nav": "traces", "rows": rows, "filters": filters, "next_query": params.urlencode() if next_cursor else "",
        "is_first_page": not request.GET.get("cursor"), "first_query": first_query, "grades": [letter for _, letter in GRADES],
        "categories": sorted(TAXONOMY), "frameworks": FRAMEWORK_NAMES,
        "agents": selectors.explorer_choices(organisation)["agents"], "search_min_chars": selectors.SEARCH_MIN_CHARS,
        "shared": selectors.shared_context(organisation, filters),
    }
    if request.htmx and request.GET.get("more"):
        return render(request, "traces/list.html#rows", context)
    return render(request, "traces/list.html#results" if request.htmx else "traces/list.html", context)


@org_view()
@vary_on_headers("HX-Request")
def run_groups(request, kind: str):
    """Sessions or users with their runs in a window; each links to its runs in the explorer by a run id."""
    name = page_window(request.GET.get("window"))
    try:
        page = min(max(int(request.GET.get("page", 0)), 0), selectors.GROUPS_MAX_PAGES - 1)
    except ValueError:
        page = 0
    rows, more = selectors.run_groups(request.organisation, selectors.GROUP_FIELDS[kind],
                                      since=window(name).start, page=page)
    context = {"nav": "traces", "kind": kind, "rows": rows, "window": name, "windows": PAGE_WINDOWS,
               "page": page, "next_page": page + 1 if more and page + 1 < selectors.GROUPS_MAX_PAGES else None,
               "link_param": "session_of" if kind == "sessions" else "user_of"}
    return render(request, "traces/groups.html#groups" if request.htmx else "traces/groups.html", context)
