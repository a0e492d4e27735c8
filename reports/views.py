"""Dashboards: the organisation overview (or its onboarding), and one agent's page."""

from __future__ import annotations

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from arcweb.models import ApiScope, Role
from arcweb.services import create_api_key
from arcweb.tenancy import get_for_org_or_404, org_view
from traces.models import Agent, Trace

from . import charts, selectors
from .presentation import svg

TREND_COLOUR = {"up": charts.GOOD, "down": charts.BAD}



@org_view()
@vary_on_headers("HX-Request")
def overview(request):
    organisation = request.organisation
    if not selectors.has_traces(organisation):
        return _onboarding(request)
    window = selectors.window_name(request.GET.get("window"))
    rows = selectors.overview(organisation, window=window)
    for row in rows:
        direction = (row["trend"] or {}).get("direction", "flat")
        row["sparkline"] = svg(charts.sparkline(_pairs(row["spark"]), width=96, height=24, y_max=100,
                                                 colour=TREND_COLOUR.get(direction, charts.ACCENT),
                                                 title="reliability over the window"))
    context = {"nav": "overview", "rows": rows, "window": window, "windows": list(selectors.WINDOWS),
               "last_run": selectors.last_run_at(organisation), "refreshed_at": timezone.now(),
               "total_runs": sum(r["runs"] for r in rows)}
    template = "reports/overview.html#dashboard" if request.htmx else "reports/overview.html"
    return render(request, template, context)


def _pairs(values: list[float | None]) -> list[float | None]:
    """Two buckets per sparkline point: fewer gaps when an agent runs rarely."""
    merged = []
    for i in range(0, len(values), 2):
        present = [v for v in values[i:i + 2] if v is not None]
        merged.append(sum(present) / len(present) if present else None)
    return merged


# --- onboarding ---------------------------------------------------------------------------------

def _onboarding(request, *, new_key: str | None = None, partial: str | None = None):
    base = request.build_absolute_uri("/").rstrip("/")
    context = {"nav": "overview", "base_url": base, "new_key": new_key,
               "can_create_key": request.membership.can(Role.MEMBER)}
    template = f"reports/onboarding.html#{partial}" if partial else "reports/onboarding.html"
    return render(request, template, context)


@org_view()
def onboarding(request):
    return _onboarding(request)


@org_view()
def onboarding_status(request):
    """Polled by the onboarding page: the first trace, once it has arrived (then polling stops)."""
    first = (Trace.objects.for_org(request.organisation).select_related("agent")
             .order_by("started_at").first())
    return render(request, "reports/onboarding.html#status", {"first": first})


@require_POST
@org_view(Role.MEMBER)
def onboarding_key(request):
    _, full = create_api_key(organisation=request.organisation, owner=request.user, name="first key",
                             scope=ApiScope.FULL, by=request.user)
    # Shown on this response only; never stored, never put in a URL.
    return _onboarding(request, new_key=full, partial="setup" if request.htmx else None)


# --- agent page --------------------------------------------------------------------------------

@org_view()
@vary_on_headers("HX-Request")
def agent_detail(request, agent_id: str):
    organisation = request.organisation
    agent = get_for_org_or_404(Agent, organisation, id=agent_id)
    window = selectors.window_name(request.GET.get("window"))
    now = timezone.now()
    figures = selectors.agent_page(organisation, agent, window=window, now=now)
    series = figures["series"]
    chart_args = {"width": 380, "height": 180}
    context = {
        "nav": "overview", "agent": agent, "f": figures, "window": window, "windows": list(selectors.WINDOWS),
        "charts": {
            "reliability": svg(charts.line_chart(series["reliability"], y_label="Reliability %", y_max=100,
                                                  **chart_args)),
            "cost": svg(charts.line_chart(series["cost"], y_label="Cost / run ($)", colour="#f59e0b",
                                           **chart_args)),
            "latency": svg(charts.line_chart(series["latency"], y_label="Latency (s)", colour="#0891b2",
                                              **chart_args)),
        },
        "patterns": selectors.top_patterns(organisation, agent),
        "savings": selectors.savings_breakdown(organisation, agent, total=figures["savings_total_usd"],
                                               start=now - selectors.WINDOWS[window], end=now),
        "baselines": selectors.baselines_for(organisation, agent)[:20],
        "can_write": request.membership.can(Role.MEMBER),
        "agreement": selectors.agreement_by_agent(organisation).get(agent.id),
    }
    template = "reports/agent.html#body" if request.htmx else "reports/agent.html"
    return render(request, template, context)
