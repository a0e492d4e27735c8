"""Trace explorer pages."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render

from arcweb.tenancy import get_for_org_or_404, org_view

from . import selectors


@org_view()
def trace_list(request):
    queryset = selectors.filter_traces(request.organisation, {})
    page = Paginator(queryset.order_by("-started_at"), 50).get_page(request.GET.get("page"))
    return render(request, "traces/list.html", {"page": page})


@org_view()
def trace_detail(request, trace_id: str):
    trace = get_for_org_or_404(selectors.traces_with_evaluation(), request.organisation, id=trace_id)
    return render(request, "traces/detail.html", {"trace": trace, "evaluation": getattr(trace, "evaluation", None)})
