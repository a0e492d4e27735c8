"""Celery tasks: thin, idempotent, acknowledged late (settings), enqueued after commit.

Evaluation messages carry no ids: the pending rows in the database are the queue (evaluations/services.py), and
a message only wakes a worker to take batches of them. So a message lost with the broker loses nothing; beat
publishes one every ARC_WAKE_SECONDS (the sweeper), and a starting worker wakes itself.
"""

from __future__ import annotations

import contextlib
import logging
import time

from celery import current_app, shared_task
from celery.signals import worker_ready
from django.core.cache import cache

from .services import evaluate_batch

log = logging.getLogger(__name__)

# Set while a wake-up message is queued and not yet started: one queued wake-up is enough for any number of runs.
WAKE_KEY = "evaluations:wake-queued"
WAKE_KEY_SECONDS = 10
# A task hands over to a fresh message after this long, so other tasks on the worker get their turn.
TASK_SECONDS = 10
# After a failed publish, a process does not try again for this long (the sweeper publishes meanwhile).
BROKER_BACKOFF_SECONDS = 5

_broker_down_until = 0.0


@shared_task(acks_late=True, reject_on_worker_lost=True)
def evaluate_pending() -> int:
    """Evaluate pending runs batch after batch while full batches come back; after each full batch it wakes another
    worker, so every worker process joins in while there is a backlog. Returns how many runs it evaluated."""
    eager = current_app.conf.task_always_eager
    if not eager:
        # From now on a new wake-up queues another message (should Redis be gone, the key expires by itself).
        with contextlib.suppress(Exception):
            cache.delete(WAKE_KEY)
    evaluated, started = 0, time.monotonic()
    while True:
        batch = evaluate_batch()
        evaluated += batch.evaluated
        if not batch.more:
            return evaluated
        if not eager:
            wake()
            if time.monotonic() - started > TASK_SECONDS:
                return evaluated


def wake() -> bool:
    """Have a worker evaluate what is pending: publish a wake-up unless one is queued already. With the broker down,
    log and return False: the runs stay pending in the database until the next wake-up (the sweeper's, at most
    ARC_WAKE_SECONDS later). Never raises: an accepted request must not fail on it."""
    global _broker_down_until
    if current_app.conf.task_always_eager:
        evaluate_pending.delay()
        return True
    if time.monotonic() < _broker_down_until:
        return False
    try:
        if cache.add(WAKE_KEY, 1, timeout=WAKE_KEY_SECONDS):
            try:
                evaluate_pending.delay()
            except Exception:
                cache.delete(WAKE_KEY)
                raise
    except Exception as exc:  # kombu and redis raise several types; none may fail an accepted request
        _broker_down_until = time.monotonic() + BROKER_BACKOFF_SECONDS
        log.warning("broker unavailable, pending evaluations wait for the sweeper: %s", exc)
        return False
    return True


@worker_ready.connect
def _take_pending_on_start(**_) -> None:
    """A worker that (re)starts takes what waited meanwhile at once, without waiting for the sweeper."""
    wake()
