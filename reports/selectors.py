"""Reads behind the dashboards, scoped to one organisation."""

from __future__ import annotations

from django.db.models import Avg, Count, Max, Q

from arcweb.models import Organisation
from traces.models import Agent


def agent_summaries(organisation: Organisation):
    return (
        Agent.objects.for_org(organisation)
        .annotate(
            runs=Count("evaluations"),
            evaluated=Count("evaluations", filter=Q(evaluations__status="done")),
            successes=Count("evaluations", filter=Q(evaluations__success=True)),
            avg_cost=Avg("evaluations__cost_usd"),
            avg_duration=Avg("evaluations__duration_ms"),
            last_run=Max("evaluations__started_at"),
        )
        .order_by("name")
    )
