"""Writes of evaluations: run the engine on a stored trace and save what it concludes."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import msgspec
from django.db import transaction
from django.utils import timezone

from traces.models import Trace as TraceRow

from . import engine
from .models import Evaluation, EvaluationStatus

log = logging.getLogger(__name__)


def engine_trace(row: TraceRow) -> engine.Trace:
    """The stored trace as the engine's canonical Trace."""
    return msgspec.convert(
        {
            "trace_id": row.trace_id, "agent_id": row.agent.name, "framework": row.framework or None,
            "domain": row.domain or None, "started_at": row.started_at, "duration_ms": row.duration_ms,
            "input": row.input, "output": row.output, "success": row.success_reported, "error": row.error,
            "spans": row.spans, "session_id": row.session_id or None, "user_id": row.user_id or None,
            "tags": row.tags, "metadata": row.metadata,
        },
        engine.Trace, strict=False,
    )


def evaluate_pending(evaluation_ids: Iterable[int]) -> int:
    """Evaluate the given evaluations that are still pending; returns how many this call completed.

    Idempotent: a redelivered task finds them done and does nothing, and two workers racing on the same
    row cannot both write it (the row is locked while the engine runs).
    """
    done = 0
    for evaluation_id in evaluation_ids:
        done += _evaluate_one(evaluation_id)
    return done


def _evaluate_one(evaluation_id: int) -> int:
    with transaction.atomic():
        evaluation = (
            Evaluation.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("trace__agent")
            .filter(pk=evaluation_id, status=EvaluationStatus.PENDING)
            .first()
        )
        if evaluation is None:
            return 0
        evaluation.attempts += 1
        try:
            result = engine.evaluate(engine_trace(evaluation.trace))
        except Exception:
            log.exception("engine failed on evaluation %s (trace %s)", evaluation.pk, evaluation.trace_id)
            evaluation.status = EvaluationStatus.FAILED
            evaluation.evaluated_at = timezone.now()
            evaluation.save(update_fields=["status", "evaluated_at", "attempts"])
            return 0
        apply_result(evaluation, result)
        evaluation.save()
    return 1


def apply_result(evaluation: Evaluation, result: engine.RunEvaluation) -> None:
    evaluation.status = EvaluationStatus.DONE
    evaluation.evaluated_at = timezone.now()
    evaluation.engine_version = result.engine_version
    for name in ("success", "score", "grade", "cost_usd", "input_tokens", "output_tokens", "llm_calls",
                 "tool_calls", "tool_errors", "duration_ms", "error_type", "failure_category",
                 "failure_fingerprint", "framework", "details"):
        setattr(evaluation, name, getattr(result, name))
