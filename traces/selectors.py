"""Reads of traces, always scoped to one organisation."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import exceptions

from arcweb.models import Organisation

from .models import Trace


def traces_with_evaluation() -> QuerySet[Trace]:
    return Trace.objects.select_related("agent", "evaluation")


def filter_traces(organisation: Organisation, params: Mapping[str, str]) -> QuerySet[Trace]:
    queryset = traces_with_evaluation().for_org(organisation).defer(
        "input", "output", "spans", "metadata", "error", "evaluation__details"
    )
    if params.get("agent"):
        queryset = queryset.filter(agent__name=params["agent"])
    if params.get("framework"):
        queryset = queryset.filter(framework=params["framework"])
    if params.get("success") not in (None, ""):
        queryset = queryset.filter(evaluation__success=_boolean(params["success"], "success"))
    for name, lookup in (("since", "started_at__gte"), ("until", "started_at__lt")):
        if params.get(name):
            queryset = queryset.filter(**{lookup: _datetime(params[name], name)})
    return queryset


def _boolean(value: str, name: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise exceptions.ValidationError({name: "Use true or false."})


def _datetime(value: str, name: str):
    try:
        parsed = parse_datetime(value)
    except ValueError:
        parsed = None
    if parsed is None:
        raise exceptions.ValidationError({name: "Use an ISO 8601 date-time, e.g. 2026-11-24T10:00:00Z."})
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, UTC)
