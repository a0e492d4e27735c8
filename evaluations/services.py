"""Writes of evaluations: take a batch of pending runs from the database, run the engine, save what it concludes.

The database is the queue: ingestion writes each run's Evaluation as pending, and a worker takes batches of
pending rows with `SELECT … FOR UPDATE SKIP LOCKED`. A broker message only says "there is work"; losing one
loses nothing, and any worker that runs takes whatever is pending.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import msgspec
import psycopg
from django.conf import settings
from django.db import DataError, IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from traces.models import Agent
from traces.models import Trace as TraceRow

from . import engine, patterns
from .bulk import update_rows
from .models import Baseline, Evaluation, EvaluationStatus
from .rollups import RollupDeltas, hour_of
from .signals import verdicts_saved

log = logging.getLogger(__name__)

RESULT_FIELDS = ("success", "score", "grade", "cost_usd", "input_tokens", "output_tokens", "llm_calls",
                 "tool_calls", "tool_errors", "duration_ms", "error_type", "failure_category", "failure_fingerprint",
                 "framework", "details", "engine_version", "llm_ms", "tool_ms", "compliance_findings",
                 "compliance_passed", "unpriced", "input_fingerprint")
SAVED_FIELDS = (*RESULT_FIELDS, "status", "evaluated_at", "attempts", "counted_in", "savings_usd")
# Rounds of handing unused shares of a batch to the organisations that have more waiting.
SHARE_ROUNDS = 3

_decode_trace = msgspec.json.Decoder(engine.Trace, strict=False).decode
_encode_json = msgspec.json.Encoder().encode


@dataclass(frozen=True, slots=True)
class Batch:
    taken: int
    evaluated: int
    more: bool  # runs were left pending: take another batch


def evaluate_batch(limit: int | None = None) -> Batch:
    """Take up to `limit` pending runs, evaluate them and save the results, rollups and patterns: one transaction.

    The rows stay locked until the transaction ends, so two workers never evaluate one run twice, and a worker that
    dies mid-batch leaves its runs pending for the next. Idempotent: only pending runs are taken.
    """
    limit = limit or settings.ARC_EVALUATION_BATCH
    with transaction.atomic():
        ids, more = claim_pending(limit)
        if not ids:
            return Batch(0, 0, more)
        evaluations = _locked(ids)
        traces = stored_traces([e.trace_id for e in evaluations])
        try:
            with transaction.atomic():
                _evaluate_and_save(evaluations, traces)
        except (DataError, IntegrityError):
            # A result some column refuses (a cost past its precision, …): save the runs one at a time, so only the
            # run that cannot be stored fails and the batch does not come back forever.
            evaluations = _evaluate_one_by_one(ids, traces)
        done = [e for e in evaluations if e.status == EvaluationStatus.DONE]
        if done:
            transaction.on_commit(lambda: verdicts_saved.send(
                sender=Evaluation, organisation_ids={e.organisation_id for e in done},
                evaluation_ids=[e.pk for e in done]))
    return Batch(len(ids), len(done), more)


def claim_pending(limit: int) -> tuple[list[int], bool]:
    """Lock up to `limit` pending evaluations for this transaction; returns their ids and whether more are waiting.

    Fair between organisations: those whose oldest waiting run is oldest come first and each takes an equal share
    (its oldest runs); shares left unused by organisations with few runs waiting go to those with more. So one
    organisation sending far more than the others fills the spare capacity, never the others' turn.
    """
    if connection.vendor != "postgresql":  # the embedded SQLite default: one writer at a time, oldest first
        ids = list(Evaluation.objects.select_for_update(skip_locked=True).filter(status=EvaluationStatus.PENDING)
                   .order_by("enqueued_at").values_list("pk", flat=True)[:limit + 1])
        return ids[:limit], len(ids) > limit
    table = connection.ops.quote_name(Evaluation._meta.db_table)
    pending = f"status = '{EvaluationStatus.PENDING}'"  # a literal, so the planner matches the partial index
    # The organisations with runs waiting, oldest first: a loose scan of the partial index eval_pending
    # (organisation, enqueued_at), one index probe per organisation whatever the backlog.
    heads = f"""
        WITH RECURSIVE heads AS (
            (SELECT organisation_id, enqueued_at FROM {table} WHERE {pending}
             ORDER BY organisation_id, enqueued_at LIMIT 1)
            UNION ALL
            SELECT following.organisation_id, following.enqueued_at FROM heads CROSS JOIN LATERAL (
                SELECT organisation_id, enqueued_at FROM {table}
                WHERE {pending} AND organisation_id > heads.organisation_id
                ORDER BY organisation_id, enqueued_at LIMIT 1) AS following)
        SELECT organisation_id FROM heads ORDER BY enqueued_at LIMIT $1"""  # noqa: S608  # nosec B608
    take = f"""
        SELECT taken.organisation_id, taken.id FROM unnest($1::uuid[]) AS org(id) CROSS JOIN LATERAL (
            SELECT organisation_id, id FROM {table}
            WHERE organisation_id = org.id AND {pending} AND id <> ALL($3::bigint[])
            ORDER BY enqueued_at LIMIT $2 FOR UPDATE SKIP LOCKED) AS taken"""  # noqa: S608  # nosec B608
    taken: list[int] = []
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.RawCursor(connection.connection) as cursor:
        organisations = [org for (org,) in cursor.execute(heads, [limit + 1], prepare=False).fetchall()]
        more = len(organisations) > limit
        organisations = organisations[:limit]
        for _ in range(SHARE_ROUNDS):
            if not organisations or len(taken) >= limit:
                break
            share = -(-(limit - len(taken)) // len(organisations))
            rows = cursor.execute(take, [organisations, share, taken], prepare=False).fetchall()
            taken += [pk for _, pk in rows]
            got = Counter(org for org, _ in rows)
            organisations = [org for org in organisations if got[org] == share]  # these may have more waiting
    return taken, more or bool(organisations)


def stored_traces(trace_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, bytes | str]:
    """The stored traces as the engine's canonical trace, in JSON: on PostgreSQL built by the database from the
    columns, so the worker decodes each trace once, with msgspec, straight into the engine's types."""
    if connection.vendor != "postgresql":
        rows = TraceRow.objects.filter(pk__in=trace_ids).values("id", "agent__name", *_TRACE_COLUMNS.values())
        return {row["id"]: _encode_json({"agent_id": row["agent__name"], **{
            name: None if column in _BLANK_AS_NULL and not row[column] else row[column]
            for name, column in _TRACE_COLUMNS.items()}}) for row in rows}
    quote = connection.ops.quote_name
    fields = ", ".join(f"'{name}', " + (f"NULLIF(t.{quote(column)}, '')" if column in _BLANK_AS_NULL
                                        else f"t.{quote(column)}") for name, column in _TRACE_COLUMNS.items())
    sql = (f"SELECT t.id, json_build_object('agent_id', a.name, {fields})::text "  # noqa: S608  # nosec B608
           f"FROM {quote(TraceRow._meta.db_table)} AS t JOIN {quote(Agent._meta.db_table)} AS a ON a.id = t.agent_id "
           f"WHERE t.id = ANY($1::uuid[])")
    with connection.wrap_database_errors, psycopg.RawCursor(connection.connection) as cursor:
        return dict(cursor.execute(sql, [list(trace_ids)], prepare=False).fetchall())


# The engine's Trace field → the stored trace's column (the agent's name comes from its own table).
_TRACE_COLUMNS = {"trace_id": "trace_id", "framework": "framework", "domain": "domain", "started_at": "started_at",
                  "duration_ms": "duration_ms", "input": "input", "output": "output", "success": "success_reported",
                  "error": "error", "spans": "spans", "session_id": "session_id", "user_id": "user_id",
                  "tags": "tags", "metadata": "metadata"}
_BLANK_AS_NULL = {"framework", "domain", "session_id", "user_id"}


def savings_of(result: engine.RunEvaluation) -> Decimal | None:
    """The dollars per run the savings found would save (the headline's reduction, applied to the cost)."""
    headline = result.details.get("cost", {}).get("headline", {})
    if result.cost_usd is None or not headline.get("reduction_pct"):
        return None if result.cost_usd is None else Decimal(0)
    return (result.cost_usd * Decimal(str(headline["reduction_pct"])) / 100).quantize(Decimal("0.00000001"))


def _locked(ids: Sequence[int]) -> list[Evaluation]:
    # The previous details are never read: a new evaluation replaces them.
    return list(Evaluation.objects.filter(pk__in=ids).defer("details"))


def _evaluate_and_save(evaluations: list[Evaluation], traces: dict[uuid.UUID, bytes | str]) -> None:
    rollup = RollupDeltas()
    runs = [_evaluate(evaluation, traces.get(evaluation.trace_id), rollup) for evaluation in evaluations]
    now = timezone.now()  # when the verdicts are written: the end of the 202 → verdict lag
    for evaluation in evaluations:
        evaluation.evaluated_at = now
    update_rows(Evaluation, evaluations, SAVED_FIELDS)
    rollup.save()
    patterns.record(runs)


def _evaluate_one_by_one(ids: Sequence[int], traces: dict[uuid.UUID, bytes | str]) -> list[Evaluation]:
    evaluations = _locked(ids)
    for evaluation in evaluations:
        try:
            with transaction.atomic():
                _evaluate_and_save([evaluation], traces)
        except (DataError, IntegrityError):
            log.exception("could not store the evaluation %s (trace %s)", evaluation.pk, evaluation.trace_id)
            evaluation.status = EvaluationStatus.FAILED
            Evaluation.objects.filter(pk=evaluation.pk).update(
                status=EvaluationStatus.FAILED, attempts=F("attempts") + 1, evaluated_at=timezone.now())
    return evaluations


def _evaluate(evaluation: Evaluation, stored: bytes | str | None, rollup: RollupDeltas) -> patterns.Run:
    """Run the engine on one run; its previous contribution to the rollups and patterns (re-evaluation) is replaced.
    Returns the run with the trace it evaluated (None when it failed)."""
    folded_as = None
    if evaluation.counted_in is not None:
        folded_as = evaluation.failure_fingerprint
        rollup.count(evaluation, -1)
        evaluation.counted_in = None
    evaluation.attempts += 1
    try:
        trace = _decode_trace(stored)
        result = engine.evaluate(trace, human_label=evaluation.label_success)
    except Exception:
        log.exception("engine failed on evaluation %s (trace %s)", evaluation.pk, evaluation.trace_id)
        evaluation.status = EvaluationStatus.FAILED
        return patterns.Run(evaluation, None, folded_as)
    for name in RESULT_FIELDS:
        setattr(evaluation, name, getattr(result, name))
    evaluation.savings_usd = savings_of(result)
    evaluation.status = EvaluationStatus.DONE
    evaluation.counted_in = hour_of(evaluation.started_at)
    rollup.count(evaluation, +1)
    return patterns.Run(evaluation, trace, folded_as)


def save_baseline(*, organisation, agent, name: str, span, created_by=None) -> Baseline:
    """Name a window of an agent's runs (saving a name again moves it to the new window)."""
    baseline, _ = Baseline.objects.update_or_create(
        organisation=organisation, agent=agent, name=name,
        defaults={"start": span.start, "end": span.end, "created_by": created_by})
    return baseline
