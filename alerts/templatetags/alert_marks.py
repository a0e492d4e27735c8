"""The overview's marks on agents with open alerts (a tag, so the dashboards need not import this app)."""

from __future__ import annotations

from django import template

from ..selectors import agents_with_open_alerts

register = template.Library()


@register.simple_tag
def open_alerts_by_agent(organisation) -> dict:
    return agents_with_open_alerts(organisation)
