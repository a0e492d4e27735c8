"""Celery tasks of the experiments app (thin: they call the service)."""

from __future__ import annotations

import uuid

from celery import shared_task


@shared_task(acks_late=True)
def run_replay_task(replay_id: str) -> None:
    from .replays import run_replay

    run_replay(uuid.UUID(replay_id))
