"""Data lifecycle: retention (old traces deleted in small batches) and export of an organisation's traces."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from arcweb.models import Organisation

from .models import Trace

DELETE_BATCH = 500


def purge_expired(organisation: Organisation, *, batch: int = DELETE_BATCH) -> int:
    """Delete traces received longer ago than the organisation's retention period, a batch per transaction, so
    no lock is held for long. Hourly rollups (counts and sums, no content) stay, so long-range trends survive.

    The server's receipt time decides, not the client's `started_at`: a client clock cannot keep a trace
    forever or have it purged at once."""
    cutoff = timezone.now() - timedelta(days=organisation.retention_days)
    deleted = 0
    while True:
        ids = list(Trace.objects.for_org(organisation).filter(received_at__lt=cutoff)
                   .order_by("received_at").values_list("id", flat=True)[:batch])
        if not ids:
            return deleted
        with transaction.atomic():
            Trace.objects.for_org(organisation).filter(id__in=ids).delete()
        deleted += len(ids)


def export_lines(organisation: Organisation) -> Iterator[str]:
    """Every trace of the organisation as one JSON line, with its evaluation, streamed from the database."""
    rows = (Trace.objects.for_org(organisation).select_related("agent", "evaluation")
            .order_by("started_at", "id").iterator(chunk_size=500))
    for row in rows:
        evaluation = getattr(row, "evaluation", None)
        yield json.dumps({
            "id": row.id, "trace_id": row.trace_id, "agent_id": row.agent.name, "framework": row.framework,
            "domain": row.domain, "started_at": row.started_at, "duration_ms": row.duration_ms,
            "input": row.input, "output": row.output, "success": row.success_reported, "error": row.error,
            "spans": row.spans, "session_id": row.session_id, "user_id": row.user_id, "tags": row.tags,
            "metadata": row.metadata,
            "evaluation": None if evaluation is None else {
                "status": evaluation.status, "verdict": evaluation.verdict, "score": evaluation.score,
                "grade": evaluation.grade, "cost_usd": evaluation.cost_usd,
                "failure_category": evaluation.failure_category, "engine_version": evaluation.engine_version},
        }, cls=DjangoJSONEncoder, ensure_ascii=False) + "\n"
