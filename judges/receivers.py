"""Judging learns of new verdicts here (evaluations.signals.verdicts_saved, sent after commit)."""

from __future__ import annotations

import logging

from .models import Judge
from .tasks import queue

log = logging.getLogger(__name__)


def queue_judging(sender, organisation_ids=(), evaluation_ids=(), **kwargs) -> None:
    """Queue judging of the runs when one of their organisations has an enabled judge; never raises."""
    try:
        if evaluation_ids and Judge.objects.filter(organisation_id__in=list(organisation_ids), enabled=True).exists():
            queue(evaluation_ids)
    except Exception:
        log.exception("could not queue judging")
