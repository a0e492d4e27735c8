"""`{% verdict_lag organisation %}`: "Verdicts are N s behind", shown only when they are."""

from __future__ import annotations

from django import template

from arcweb.models import Organisation
from evaluations.backlog import verdict_lag as lag_of

register = template.Library()


@register.inclusion_tag("evaluations/_verdict_lag.html")
def verdict_lag(organisation: Organisation) -> dict:
    return {"lag": lag_of(organisation)}
