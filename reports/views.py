"""Dashboards: the organisation overview."""

from __future__ import annotations

from django.shortcuts import render

from arcweb.tenancy import org_view

from . import selectors


@org_view()
def overview(request):
    agents = selectors.agent_summaries(request.organisation)
    return render(request, "reports/overview.html", {"agents": agents})
