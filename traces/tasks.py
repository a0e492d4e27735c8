"""Beat tasks of the traces app."""

from __future__ import annotations

from celery import shared_task

from arcweb.models import Organisation

from .lifecycle import purge_expired


@shared_task
def enforce_retention() -> int:
    return sum(purge_expired(organisation) for organisation in Organisation.objects.all())
