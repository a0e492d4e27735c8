"""When monitors are checked and notifications sent: Celery tasks, or a background thread with no broker.

Monitors are checked as verdicts and judges' scores are saved (the receiver of `verdicts_saved` and `scores_saved`
queues a check of the organisations concerned) and every minute by beat, the safety net that also notices silence
and conditions that end with time. With no broker (CELERY_TASK_ALWAYS_EAGER) one daemon thread per process does the checks, woken by the
receiver and by itself every minute, and each delivery gets a thread of its own; never the request's thread.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Any

from celery import current_app, shared_task
from django.core.cache import cache
from django.db import close_old_connections, connection

from . import delivery, services
from .models import Monitor

log = logging.getLogger(__name__)

QUEUED_KEY = "alerts:check-queued:{}"
QUEUED_SECONDS = 30
SAFETY_NET_SECONDS = 60


def _eager() -> bool:
    return bool(current_app.conf.task_always_eager)


def on_verdicts_saved(sender: Any = None, organisation_ids: Any = (), **_: Any) -> None:
    """Queue a check of the monitors of the organisations whose verdicts (or judges' scores) were just saved. Never
    raises."""
    try:
        queue_evaluation(set(organisation_ids))
    except Exception:  # a receiver must not fail the evaluation that sent it
        log.exception("monitor checks could not be queued; beat's check comes within a minute")


def queue_evaluation(organisation_ids: set) -> None:
    with_monitors = {str(pk) for pk in Monitor.objects.filter(organisation_id__in=organisation_ids, active=True)
                     .values_list("organisation_id", flat=True).distinct()}
    if not with_monitors:
        return
    if _eager():
        _checker.wake(with_monitors)
        return
    for org_id in with_monitors:
        # One queued check per organisation is enough for any number of batches saved meanwhile.
        if cache.add(QUEUED_KEY.format(org_id), 1, timeout=QUEUED_SECONDS):
            try:
                evaluate_monitors_task.delay(org_id)
            except Exception:
                cache.delete(QUEUED_KEY.format(org_id))
                raise


@shared_task(acks_late=True)
def evaluate_monitors_task(organisation_id: str) -> int:
    with contextlib.suppress(Exception):  # from here on a new batch of verdicts queues another check
        cache.delete(QUEUED_KEY.format(organisation_id))
    return services.evaluate_monitors([organisation_id])


@shared_task
def evaluate_all_monitors() -> int:
    """Beat's safety net, every minute."""
    return services.evaluate_monitors(_organisations_with_monitors())


def _organisations_with_monitors() -> list:
    return list(Monitor.objects.filter(active=True).values_list("organisation_id", flat=True).distinct())


class _Checker:
    """The no-broker checker: one daemon thread that checks the organisations it was woken for, and all of them
    every minute."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.wanted: set[str] = set()
        self.event = threading.Event()
        self.thread: threading.Thread | None = None

    def wake(self, organisation_ids: set[str]) -> None:
        with self.lock:
            self.wanted |= organisation_ids
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="arc-eval-monitors", daemon=True)
                self.thread.start()
        self.event.set()

    def _run(self) -> None:
        while True:
            woken = self.event.wait(SAFETY_NET_SECONDS)
            self.event.clear()
            with self.lock:
                wanted, self.wanted = self.wanted, set()
            try:
                close_old_connections()
                services.evaluate_monitors(wanted if woken else _organisations_with_monitors())
            except Exception:
                log.exception("checking monitors failed")
            finally:
                connection.close()


_checker = _Checker()


# -- deliveries --------------------------------------------------------------------------------------------------------
def queue_delivery(delivery_id: Any) -> None:
    if _eager():
        threading.Thread(target=_deliver_in_thread, args=(delivery_id,), name="arc-eval-delivery",
                         daemon=True).start()
    else:
        deliver.delay(str(delivery_id))


def _deliver_in_thread(delivery_id: Any) -> None:
    try:
        while (wait := delivery.attempt(delivery_id)) is not None:
            time.sleep(wait)
    except Exception:
        log.exception("delivery %s failed", delivery_id)
    finally:
        connection.close()


@shared_task(bind=True, acks_late=True, max_retries=None)
def deliver(self, delivery_id: str) -> None:
    """One attempt; another after the backoff while the receiver fails (the attempts are counted in the row)."""
    wait = delivery.attempt(delivery_id)
    if wait is not None:
        raise self.retry(countdown=wait)
