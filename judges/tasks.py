"""Judging off the request: a Celery task, or a background thread of this process when there is no broker."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterable

from celery import shared_task
from django.db import connection

from arcweb.celery import app as celery_app

from .runner import judge_evaluations

log = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def judge_runs(evaluation_ids: list[int], judge_ids: list[str] | None = None, retry: bool = False) -> int:
    return judge_evaluations(evaluation_ids, retry=retry,
                             judge_ids=[uuid.UUID(j) for j in judge_ids] if judge_ids is not None else None)


def queue(evaluation_ids: Iterable[int], *, judge_ids: Iterable[uuid.UUID] | None = None, retry: bool = False) -> None:
    """Have these runs judged, never in the caller's thread. Never raises (a receiver and a request call it)."""
    ids = list(evaluation_ids)
    judges = [str(j) for j in judge_ids] if judge_ids is not None else None
    try:
        if celery_app.conf.task_always_eager:
            threading.Thread(target=_in_thread, args=(ids, judges, retry), name="arc-eval-judges", daemon=True).start()
        else:
            judge_runs.delay(ids, judges, retry)
    except Exception as exc:  # a broker down: these runs are judged by a backfill, the verdicts stand meanwhile
        log.warning("could not queue judging of %d runs: %s", len(ids), exc)


def _in_thread(ids: list[int], judge_ids: list[str] | None, retry: bool) -> None:
    try:
        judge_runs(ids, judge_ids, retry)
    except Exception:
        log.exception("judging %d runs failed", len(ids))
    finally:
        connection.close()  # this thread's own connection
