"""Celery tasks: thin, idempotent, acknowledged late (settings), enqueued after commit."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .models import Evaluation, EvaluationStatus
from .services import evaluate_pending

log = logging.getLogger(__name__)

CHUNK = 100


@shared_task(acks_late=True, reject_on_worker_lost=True, max_retries=None)
def evaluate_traces(evaluation_ids: Sequence[int]) -> int:
    return evaluate_pending(evaluation_ids)


def publish(evaluation_ids: Sequence[int]) -> bool:
    """Publish evaluation tasks; with the broker down, log and leave the rows pending for the sweeper."""
    try:
        for start in range(0, len(evaluation_ids), CHUNK):
            evaluate_traces.delay(list(evaluation_ids[start:start + CHUNK]))
    except Exception as exc:  # kombu raises several types; none may fail an accepted request
        log.warning("broker unavailable, %d evaluations left for the sweeper: %s", len(evaluation_ids), exc)
        return False
    return True


@shared_task
def sweep_pending() -> int:
    """Re-enqueue evaluations pending for longer than ARC_SWEEP_AFTER (lost publish, lost worker)."""
    now = timezone.now()
    stale = list(
        Evaluation.objects.filter(status=EvaluationStatus.PENDING, enqueued_at__lt=now - settings.ARC_SWEEP_AFTER)
        .order_by("enqueued_at").values_list("pk", flat=True)[:10_000]
    )
    if stale and publish(stale):
        Evaluation.objects.filter(pk__in=stale).update(enqueued_at=now)
    return len(stale)
