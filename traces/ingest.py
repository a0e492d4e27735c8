"""The one ingestion function every door calls: validate, normalise, store, enqueue.

A trace, its spans and its pending Evaluation are written in one transaction; evaluation is enqueued
only after commit, so a 2xx always means the trace is in the database, whatever the broker does.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import msgspec
import psycopg
from django.db import connection, models, transaction
from django.db.models.expressions import DatabaseDefault
from django.db.models.fields import AutoFieldMixin
from django.utils import timezone

from arcweb.models import Organisation
from evaluations.engine import InvalidTrace, Trace, to_trace
from evaluations.engine.jsonvalues import map_strings
from evaluations.engine.trace import to_builtins
from evaluations.models import Evaluation, EvaluationStatus, Feedback
from evaluations.tasks import publish

from .models import Agent
from .models import Trace as TraceRow

# A client's clock may run ahead of ours, but a run cannot have started tomorrow: a start further ahead than this
# is refused, so no trace can put itself first in the lists for long (docs/trace-format.md).
MAX_CLOCK_AHEAD = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Accepted:
    index: int
    id: uuid.UUID
    trace_id: str
    created: bool


@dataclass(frozen=True, slots=True)
class Rejected:
    index: int
    field: str
    message: str


@dataclass(frozen=True, slots=True)
class NewTrace:
    """A trace row this request created."""

    id: uuid.UUID
    agent_id: uuid.UUID
    started_at: Any


@dataclass(slots=True)
class IngestResult:
    accepted: list[Accepted] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def created_ids(self) -> list[uuid.UUID]:
        return [a.id for a in self.accepted if a.created]


def ingest_traces(*, organisation: Organisation, payloads: Iterable[Any], merge_spans: bool = False) -> IngestResult:
    """Store the valid payloads. With `merge_spans` (OpenTelemetry, whose exporters send one trace's spans
    in several requests), spans arriving for a stored trace are merged into it and it is evaluated again."""
    result = IngestResult()
    valid: list[tuple[int, Trace]] = []
    latest_start = timezone.now() + MAX_CLOCK_AHEAD
    for index, payload in enumerate(payloads):
        try:
            valid.append((index, not_in_the_future(without_nul(to_trace(payload)), latest_start)))
        except InvalidTrace as exc:
            result.rejected.append(Rejected(index, exc.field, exc.reason))
    if valid:
        if organisation.mask_pii_at_ingestion:
            valid = [(index, mask_trace(trace)) for index, trace in valid]
        result.accepted = _store(organisation, valid, merge_spans)
    return result


def not_in_the_future(trace: Trace, latest_start: datetime) -> Trace:
    if trace.started_at is not None and trace.started_at > latest_start:
        raise InvalidTrace("$.started_at", f"{trace.started_at.isoformat()} is more than a day ahead of the server's "
                                           "clock; send the time the run started (UTC, or with its offset)")
    return trace


def without_nul(trace: Trace) -> Trace:
    """PostgreSQL cannot store NUL in text or JSON: drop it from the rare trace that has one."""
    if b"\\u0000" not in msgspec.json.encode(trace):
        return trace
    def strip(text: str) -> str:
        return text.replace("\x00", "")

    return msgspec.convert(map_strings(msgspec.to_builtins(trace), strip, strip), Trace, strict=False)


def mask_trace(trace: Trace) -> Trace:
    from evaluations.engine.compliance import mask_pii

    trace.input, trace.output = mask_pii(trace.input), mask_pii(trace.output)
    if trace.error is not None:
        trace.error.message = mask_pii(trace.error.message)
    for span in trace.spans:
        span.input, span.output = mask_pii(span.input), mask_pii(span.output)
        if span.error is not None:
            span.error.message = mask_pii(span.error.message)
    return trace


def _store(organisation: Organisation, valid: list[tuple[int, Trace]], merge_spans: bool) -> list[Accepted]:
    now = timezone.now()
    for _, trace in valid:
        if not trace.trace_id:
            trace.trace_id = uuid.uuid4().hex
    with transaction.atomic():
        wanted = {trace.trace_id for _, trace in valid}
        existing = dict(
            TraceRow.objects.for_org(organisation).filter(trace_id__in=wanted).values_list("trace_id", "id")
        )
        new: dict[str, Trace] = {}
        for _, trace in valid:
            if trace.trace_id not in existing and trace.trace_id not in new:
                new[trace.trace_id] = trace
        # Agents of new traces only: a stored trace keeps its agent, whatever a late part names.
        agents = _agents_by_name(organisation, {trace.agent_id for trace in new.values()})
        # A concurrent request may store the same trace_id first: the conflict is ignored and its id read back.
        created, stored = _insert_traces(organisation, agents, list(new.values()), now)
        evaluation_ids = _insert_evaluations(organisation, created, now)
        created_ids = [row.id for row in created]
        if merge_spans and existing:
            evaluation_ids += _merge(organisation, existing, [t for _, t in valid if t.trace_id in existing], now)
        if evaluation_ids:
            transaction.on_commit(lambda: publish(evaluation_ids))
    ids = {**existing, **stored}
    created_set = set(created_ids)
    return [Accepted(index, ids[trace.trace_id], trace.trace_id, ids[trace.trace_id] in created_set)
            for index, trace in valid]


def _merge(organisation: Organisation, existing: dict[str, uuid.UUID], traces: list[Trace], now) -> list[int]:
    """Fold late spans into stored traces; their evaluations go back to pending. Returns those ids.

    What is stored is history, and an ingest-only key must not rewrite it: a late part adds the spans the trace
    lacks; its root span fills the run's input, output, duration, error and verdict only where they are still
    empty, and only while the run has been neither evaluated nor labelled; the agent never changes."""
    rows = {row.trace_id: row for row in TraceRow.objects.for_org(organisation)
            .select_for_update().filter(id__in=[existing[t.trace_id] for t in traces])}
    settled = _evaluated_or_labelled(organisation, [row.id for row in rows.values()])
    for trace in traces:
        row = rows[trace.trace_id]
        known = {span["span_id"] for span in row.spans}
        row.spans = _relink([*row.spans, *(s for s in to_builtins(trace.spans) if s["span_id"] not in known)])
        row.span_count = len(row.spans)
        if row.id not in settled:
            if trace.started_at and trace.started_at < row.started_at:
                row.started_at = trace.started_at
            if _has_true_root(trace):
                _fill_empty_root_fields(row, trace)
        row.save()
    evaluations = Evaluation.objects.for_org(organisation).filter(trace_id__in=[r.id for r in rows.values()])
    for row in rows.values():
        evaluations.filter(trace_id=row.id).update(started_at=row.started_at)
    evaluations.update(status=EvaluationStatus.PENDING, enqueued_at=now)
    return list(evaluations.values_list("pk", flat=True))


def _evaluated_or_labelled(organisation: Organisation, trace_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    evaluated = Evaluation.objects.for_org(organisation).filter(trace_id__in=trace_ids, evaluated_at__isnull=False)
    labelled = Feedback.objects.for_org(organisation).filter(trace_id__in=trace_ids)
    return {*evaluated.values_list("trace_id", flat=True), *labelled.values_list("trace_id", flat=True)}


def _fill_empty_root_fields(row: TraceRow, trace: Trace) -> None:
    if row.input in EMPTY:
        row.input = trace.input
    if row.output in EMPTY:
        row.output = trace.output
    if row.duration_ms is None:
        row.duration_ms = trace.duration_ms
    if row.error is None and trace.error is not None:
        row.error = to_builtins(trace.error)
    if row.success_reported is None:
        row.success_reported = trace.success


EMPTY = (None, "", {}, [])


PARENT_ELSEWHERE = "otel.parent_span_id"


def _has_true_root(trace: Trace) -> bool:
    return any(s.parent_id is None and PARENT_ELSEWHERE not in s.attributes for s in trace.spans)


def _relink(spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A span whose parent arrived in an earlier or later request is attached to it now."""
    ids = {span["span_id"] for span in spans}
    for span in spans:
        attributes = span.get("attributes") or {}
        if span.get("parent_id") is None and attributes.get(PARENT_ELSEWHERE) in ids:
            span["parent_id"] = attributes.pop(PARENT_ELSEWHERE)
    return spans


def _agents_by_name(organisation: Organisation, names: set[str]) -> dict[str, Agent]:
    agents = {a.name: a for a in Agent.objects.for_org(organisation).filter(name__in=names)}
    missing = names - agents.keys()
    if missing:
        Agent.objects.bulk_create(
            [Agent(organisation=organisation, name=name) for name in missing], ignore_conflicts=True
        )
        agents = {a.name: a for a in Agent.objects.for_org(organisation).filter(name__in=names)}
    return agents


def _insert_traces(organisation: Organisation, agents: dict[str, Agent], traces: list[Trace],
                   now) -> tuple[list[NewTrace], dict[str, uuid.UUID]]:
    """Insert the new traces, skipping any trace_id stored meanwhile by a concurrent request. Returns the rows
    this request created and the id of every one of `traces` (created here or by the concurrent request)."""
    if not traces:
        return [], {}
    if connection.vendor != "postgresql":
        rows = [_trace_row(organisation, agents[trace.agent_id], trace, now) for trace in traces]
        TraceRow.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
        stored = dict(TraceRow.objects.for_org(organisation).filter(trace_id__in=[r.trace_id for r in rows])
                      .values_list("trace_id", "id"))
        return [NewTrace(r.id, r.agent_id, r.started_at) for r in rows if stored.get(r.trace_id) == r.id], stored
    # PostgreSQL: one INSERT … ON CONFLICT DO NOTHING RETURNING per 500 rows, the JSON columns encoded by msgspec
    # and the values bound server-side (Django's bulk_create spends most of a batch's time on json.dumps and on
    # quoting every value into the SQL text).
    encode = _encode_json
    values = [{
        "id": uuid.uuid4(),
        "agent_id": agents[trace.agent_id].id,
        "trace_id": trace.trace_id,
        "framework": trace.framework or "",
        "domain": trace.domain or "",
        "started_at": trace.started_at or now,
        "duration_ms": trace.duration_ms,
        "success_reported": trace.success,
        "input": None if trace.input is None else encode(trace.input),
        "output": None if trace.output is None else encode(trace.output),
        "error": None if trace.error is None else encode(trace.error),
        "spans": encode(trace.spans),
        "span_count": len(trace.spans),
        "session_id": trace.session_id or "",
        "user_id": trace.user_id or "",
        "tags": encode(trace.tags),
        "metadata": encode(trace.metadata),
    } for trace in traces]
    returned = _pg_insert(TraceRow, TraceRow(organisation=organisation, received_at=now), values,
                          ignore_conflicts=True, returning=("trace_id", "id"))
    stored = dict(returned)
    missing = [v["trace_id"] for v in values if v["trace_id"] not in stored]
    if missing:
        stored.update(TraceRow.objects.for_org(organisation).filter(trace_id__in=missing)
                      .values_list("trace_id", "id"))
    return [NewTrace(v["id"], v["agent_id"], v["started_at"]) for v in values if stored.get(v["trace_id"]) == v["id"]], \
        stored


def _insert_evaluations(organisation: Organisation, created: list[NewTrace], now) -> list[int]:
    """A pending Evaluation per created trace; returns their ids."""
    if not created:
        return []
    if connection.vendor != "postgresql":
        evaluations = Evaluation.objects.bulk_create(
            [Evaluation(organisation=organisation, trace_id=row.id, agent_id=row.agent_id, started_at=row.started_at,
                        enqueued_at=now) for row in created],
            batch_size=500,
        )
        return [e.pk for e in evaluations]
    values = [{"trace_id": row.id, "agent_id": row.agent_id, "started_at": row.started_at} for row in created]
    returned = _pg_insert(Evaluation, Evaluation(organisation=organisation, enqueued_at=now), values,
                          returning=("id",))
    return [pk for (pk,) in returned]


_encode_json_bytes = msgspec.json.Encoder().encode


def _encode_json(value: Any) -> str:
    """JSON text as Django's JSONField would store it (msgspec encodes Structs as their `to_builtins` form)."""
    return _encode_json_bytes(value).decode()


def _pg_insert(model: type[models.Model], template: models.Model, rows: list[dict[str, Any]], *,
               ignore_conflicts: bool = False, returning: tuple[str, ...] = (), batch_size: int = 500) -> list[tuple]:
    """INSERT rows of `model` with server-side parameter binding. Each row gives the same columns (by attname);
    every other column takes the value Django would give it on `template` (defaults, auto_now, …) once for all
    rows, so fields added to the model later are filled as bulk_create would fill them."""
    fields = {f.attname: f for f in model._meta.concrete_fields}
    varying = [fields[name] for name in rows[0]]
    constant: list[tuple[models.Field, Any]] = []
    for f in model._meta.concrete_fields:
        if f.attname in rows[0] or isinstance(f, AutoFieldMixin) or getattr(f, "generated", False):
            continue
        value = f.pre_save(template, add=True)
        if not isinstance(value, DatabaseDefault):
            constant.append((f, f.get_db_prep_save(value, connection)))
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(f.column) for f in [*varying, *(f for f, _ in constant)])
    # PostgreSQL's own $n placeholders (psycopg's RawCursor): psycopg need not scan a long statement for %s.
    casts = [_cast_type(f) for f in varying]
    constants_sql = "".join(f", ${n}::{_cast_type(f)}" for n, (f, _) in enumerate(constant, 1))
    tail = (" ON CONFLICT DO NOTHING" if ignore_conflicts else "") + (
        " RETURNING " + ", ".join(quote(fields[name].column) for name in returning) if returning else "")
    out: list[tuple] = []
    with connection.wrap_database_errors, psycopg.RawCursor(connection.connection) as cursor:
        for start in range(0, len(rows), batch_size):
            chunk = rows[start:start + batch_size]
            first, width = len(constant) + 1, len(varying)
            values_sql = ["(" + ", ".join(f"${first + r * width + i}::{cast}" for i, cast in enumerate(casts)) + ")"
                          for r in range(len(chunk))]
            params = [value for _, value in constant]
            for row in chunk:
                params.extend(row.values())
            # Only the model's own table and column names are formatted in; every value is a bound parameter.
            sql = f"INSERT INTO {table} ({columns}) SELECT v.*{constants_sql} FROM (VALUES {', '.join(values_sql)}) AS v{tail}"  # noqa: S608,E501  # nosec B608
            cursor.execute(sql, params, prepare=False)
            if returning:
                out.extend(cursor.fetchall())
    return out


def _cast_type(f: models.Field) -> str:
    db_type = f.db_type(connection)
    # text, not varchar(n): a cast would cut an over-long value where the column refuses it, as it does today.
    return "text" if db_type.startswith("varchar") else db_type


def _trace_row(organisation: Organisation, agent: Agent, trace: Trace, now) -> TraceRow:
    spans = to_builtins(trace.spans) if trace.spans else []
    return TraceRow(
        id=uuid.uuid4(),
        organisation=organisation,
        agent=agent,
        trace_id=trace.trace_id,
        framework=trace.framework or "",
        domain=trace.domain or "",
        started_at=trace.started_at or now,
        received_at=now,
        duration_ms=trace.duration_ms,
        success_reported=trace.success,
        input=trace.input,
        output=trace.output,
        error=to_builtins(trace.error) if trace.error else None,
        spans=spans,
        span_count=len(spans),
        session_id=trace.session_id or "",
        user_id=trace.user_id or "",
        tags=list(trace.tags),
        metadata=trace.metadata,
    )
