"""Reads of the alerts app, scoped with arcweb.tenancy."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from arcweb.models import Organisation

from .models import Alert, AlertStatus, Delivery, Monitor, Webhook

RECENT_DELIVERIES = 20


def monitors_for(organisation: Organisation) -> QuerySet[Monitor]:
    return Monitor.objects.for_org(organisation).prefetch_related("agents", "webhooks")


def webhooks_for(organisation: Organisation) -> QuerySet[Webhook]:
    return Webhook.objects.for_org(organisation)


def alerts_for(organisation: Organisation) -> QuerySet[Alert]:
    return (Alert.objects.for_org(organisation).select_related("monitor", "agent")
            .prefetch_related(Prefetch("deliveries", queryset=Delivery.objects.order_by("created_at"))))


def recent_deliveries(webhook: Webhook) -> list[Delivery]:
    return list(Delivery.objects.for_org(webhook.organisation).filter(webhook=webhook)
                .order_by("-created_at")[:RECENT_DELIVERIES])


def agents_with_open_alerts(organisation: Organisation) -> dict:
    """Agent id -> how many alerts are open on it (the overview's marks)."""
    counts: dict = {}
    for agent_id in Alert.objects.for_org(organisation).filter(status=AlertStatus.FIRING).values_list("agent_id",
                                                                                                      flat=True):
        counts[agent_id] = counts.get(agent_id, 0) + 1
    return counts
