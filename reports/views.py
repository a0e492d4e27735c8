"""Dashboards: the organisation overview (or its onboarding), and one agent's page."""

from __future__ import annotations

from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from arcweb import charts, sdk_wheel
from arcweb.formatting import svg
from arcweb.models import ApiScope, Role
from arcweb.services import create_api_key
from arcweb.tenancy import get_for_org_or_404, org_view
from arcweb.windows import PAGE_WINDOWS, page_window, window
from evaluations import selectors as evaluation_selectors
from judges import selectors as judge_selectors
from traces import selectors as trace_selectors
from traces.models import Agent

from . import selectors

TREND_COLOUR = {"up": charts.GOOD, "down": charts.BAD}



@org_view()
@vary_on_headers("HX-Request")
def overview(request):
    organisation = request.organisation
    if not trace_selectors.has_traces(organisation):
        return _onboarding(request)
    name = page_window(request.GET.get("window"))
    rows = [{"f": row.figures,
             "sparkline": svg(charts.sparkline(row.spark, width=96, height=24, y_max=100, title="reliability over the window",
                                               colour=TREND_COLOUR.get((row.figures.trend or {}).get("direction"),
                                                                       charts.ACCENT)))}
            for row in selectors.overview(organisation, window(name))]
    context = {"nav": "overview", "rows": rows, "window": name, "windows": PAGE_WINDOWS,
               "last_run": trace_selectors.last_run_at(organisation), "refreshed_at": timezone.now(),
               "total_runs": sum(r["f"].runs for r in rows)}
    template = "reports/overview.html#dashboard" if request.htmx else "reports/overview.html"
    return render(request, template, context)


# --- onboarding ---------------------------------------------------------------------------------

def _onboarding(request, *, new_key: str | None = None, partial: str | None = None):
    base = request.build_absolute_uri("/").rstrip("/")
    context = {"nav": "overview", "base_url": base, "new_key": new_key,
               "sdk_url": _sdk_url(base),
               "can_create_key": request.membership.can(Role.MEMBER)}
    template = f"reports/onboarding.html#{partial}" if partial else "reports/onboarding.html"
    return render(request, template, context)


def _sdk_url(base: str) -> str:
    try:
        return base + reverse("sdk-download", args=[sdk_wheel.wheel_filename()])
    except sdk_wheel.SdkMissing:  # an installation without sdk/: the page names the checkout instead
        return ""


@org_view()
def onboarding(request):
    return _onboarding(request)


@org_view()
def onboarding_status(request):
    """Polled by the onboarding page: the first trace, once it has arrived (then polling stops)."""
    first = trace_selectors.first_trace(request.organisation)
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
def agent_detail(request, agent_id):
    organisation = request.organisation
    agent = get_for_org_or_404(Agent, organisation, id=agent_id)
    name = page_window(request.GET.get("window"))
    page = selectors.agent_page(organisation, agent, window(name))
    chart_args = {"width": 380, "height": 180}
    context = {
        "nav": "overview", "agent": agent, "f": page.figures, "window": name, "windows": PAGE_WINDOWS,
        "charts": {
            "reliability": svg(charts.line_chart(page.reliability, y_label="Reliability %", y_max=100, **chart_args)),
            "cost": svg(charts.line_chart(page.cost, y_label="Cost / run ($)", colour="#f59e0b", **chart_args)),
            "latency": svg(charts.line_chart(page.latency, y_label="Latency (s)", colour="#0891b2", **chart_args)),
        },
        "patterns": evaluation_selectors.top_patterns(organisation, agent),
        "savings": evaluation_selectors.savings_breakdown(organisation, page.figures),
        "baselines": evaluation_selectors.baselines_for(organisation, agent)[:20],
        "can_write": request.membership.can(Role.MEMBER),
        "agreement": evaluation_selectors.label_agreement(organisation, agent).get(agent.id),
        "scores": judge_selectors.agent_scores(organisation, agent, page.figures.window.start,
                                               page.figures.window.end),
    }
    template = "reports/agent.html#body" if request.htmx else "reports/agent.html"
    return render(request, template, context)
