"""Reads of the evaluation backlog: how many runs wait for a verdict, and how long the oldest has waited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Min
from django.utils import timezone

from arcweb.models import Organisation

from .models import Evaluation, EvaluationStatus

# Verdicts count as behind once a run has waited this long (the pipeline's aim is a verdict within 5 s at p95).
BEHIND_AFTER = timedelta(seconds=5)


@dataclass(frozen=True, slots=True)
class Backlog:
    pending: int
    oldest_pending_seconds: float  # 0 when nothing waits

    @property
    def oldest_pending_ms(self) -> float:
        return self.oldest_pending_seconds * 1000


def backlog(organisation: Organisation | None = None, *, now: datetime | None = None) -> Backlog:
    """The runs waiting for a verdict: an organisation's, or (for the operator's metrics) every organisation's.
    Both figures come from the partial index of pending runs."""
    runs = Evaluation.objects.all() if organisation is None else Evaluation.objects.for_org(organisation)
    figures = runs.filter(status=EvaluationStatus.PENDING).aggregate(pending=Count("pk"), oldest=Min("enqueued_at"))
    if not figures["pending"]:
        return Backlog(0, 0.0)
    waited = (now or timezone.now()) - figures["oldest"]
    return Backlog(figures["pending"], max(0.0, waited.total_seconds()))


def verdict_lag(organisation: Organisation, *, now: datetime | None = None) -> Backlog | None:
    """The organisation's backlog when its verdicts are behind (its oldest waiting run has waited 5 s or more)."""
    waiting = backlog(organisation, now=now)
    return waiting if waiting.oldest_pending_seconds >= BEHIND_AFTER.total_seconds() else None
