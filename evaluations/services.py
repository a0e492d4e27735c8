"""Writes of evaluations: run the engine on a stored trace and save what it concludes."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from decimal import Decimal

import msgspec
from django.db import connection, transaction
from django.utils import timezone

from traces.models import Trace as TraceRow

from . import engine, patterns
from .models import Baseline, Evaluation, EvaluationStatus
from .rollups import RollupDeltas, hour_of
from .signals import verdicts_saved

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


RESULT_FIELDS = ("success", "score", "grade", "cost_usd", "input_tokens", "output_tokens", "llm_calls",
                 "tool_calls", "tool_errors", "duration_ms", "error_type", "failure_category", "failure_fingerprint",
                 "framework", "details", "engine_version", "llm_ms", "tool_ms", "compliance_findings",
                 "compliance_passed", "unpriced", "input_fingerprint")
SAVED_FIELDS = (*RESULT_FIELDS, "status", "evaluated_at", "attempts", "counted_in", "savings_usd")


def savings_of(result: engine.RunEvaluation) -> Decimal | None:
    """The dollars per run the savings found would save (the headline's reduction, applied to the cost)."""
    headline = result.details.get("cost", {}).get("headline", {})
    if result.cost_usd is None or not headline.get("reduction_pct"):
        return None if result.cost_usd is None else Decimal(0)
    return (result.cost_usd * Decimal(str(headline["reduction_pct"])) / 100).quantize(Decimal("0.00000001"))


def evaluate_pending(evaluation_ids: Iterable[int]) -> int:
    """Evaluate those of the given evaluations that are still pending; returns how many were completed.

    Idempotent: a redelivered task finds them done and does nothing. Rows are locked while the engine
    runs (others' locked rows are skipped), so two workers never evaluate one run twice. Rollups and
    failure patterns change in the same transaction as the evaluations.
    """
    with transaction.atomic():
        evaluations = list(
            Evaluation.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("trace__agent")
            .filter(pk__in=list(evaluation_ids), status=EvaluationStatus.PENDING)
        )
        rollup = RollupDeltas()
        for evaluation in evaluations:
            _evaluate(evaluation, rollup)
        save_results(evaluations)
        rollup.save()
        patterns.record(evaluations)
        done = [e for e in evaluations if e.status == EvaluationStatus.DONE]
        if done:
            transaction.on_commit(lambda: verdicts_saved.send(
                sender=Evaluation, organisation_ids={e.organisation_id for e in done},
                evaluation_ids=[e.pk for e in done]))
    return len(done)


def save_results(evaluations: list[Evaluation]) -> None:
    """One parametrised UPDATE per row, sent with executemany: bulk_update's CASE expressions over 27 fields
    cost more than the engine itself."""
    if not evaluations:
        return
    fields = [Evaluation._meta.get_field(name) for name in SAVED_FIELDS]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    sql = f"UPDATE {quote(Evaluation._meta.db_table)} SET {assignments} WHERE id = %s"  # noqa: S608  # nosec B608
    rows = [[f.get_db_prep_save(getattr(e, f.attname), connection) for f in fields] + [e.pk] for e in evaluations]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _evaluate(evaluation: Evaluation, rollup: RollupDeltas) -> None:
    """Run the engine on one run; its previous contribution to the rollups (re-evaluation) is replaced."""
    if evaluation.counted_in is not None:
        rollup.count(evaluation, -1)
        evaluation.counted_in = None
    evaluation.attempts += 1
    evaluation.evaluated_at = timezone.now()
    try:
        result = engine.evaluate(engine_trace(evaluation.trace), human_label=evaluation.label_success)
    except Exception:
        log.exception("engine failed on evaluation %s (trace %s)", evaluation.pk, evaluation.trace_id)
        evaluation.status = EvaluationStatus.FAILED
        return
    for name in RESULT_FIELDS:
        setattr(evaluation, name, getattr(result, name))
    evaluation.savings_usd = savings_of(result)
    evaluation.status = EvaluationStatus.DONE
    evaluation.counted_in = hour_of(evaluation.started_at)
    rollup.count(evaluation, +1)


def save_baseline(*, organisation, agent, name: str, span, created_by=None) -> Baseline:
    """Name a window of an agent's runs (saving a name again moves it to the new window)."""
    baseline, _ = Baseline.objects.update_or_create(
        organisation=organisation, agent=agent, name=name,
        defaults={"start": span.start, "end": span.end, "created_by": created_by})
    return baseline
