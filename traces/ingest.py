"""The one ingestion function every door calls: validate, normalise, store, enqueue.

A trace, its spans and its pending Evaluation are written in one transaction; evaluation is enqueued
only after commit, so a 2xx always means the trace is in the database, whatever the broker does.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from django.db import transaction
from django.utils import timezone

from arcweb.models import Organisation
from evaluations.engine import InvalidTrace, Trace, to_trace
from evaluations.engine.trace import to_builtins
from evaluations.models import Evaluation, EvaluationStatus
from evaluations.tasks import publish

from .models import Agent
from .models import Trace as TraceRow


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
    for index, payload in enumerate(payloads):
        try:
            valid.append((index, without_nul(to_trace(payload))))
        except InvalidTrace as exc:
            result.rejected.append(Rejected(index, exc.field, exc.reason))
    if valid:
        if organisation.mask_pii_at_ingestion:
            valid = [(index, mask_trace(trace)) for index, trace in valid]
        result.accepted = _store(organisation, valid, merge_spans)
    return result


def without_nul(trace: Trace) -> Trace:
    """PostgreSQL cannot store NUL in text or JSON: drop it from the rare trace that has one."""
    if b"\\u0000" not in msgspec.json.encode(trace):
        return trace
    return msgspec.convert(_strip_nul(msgspec.to_builtins(trace)), Trace, strict=False)


def _strip_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_strip_nul(v) for v in value]
    if isinstance(value, dict):
        return {_strip_nul(k): _strip_nul(v) for k, v in value.items()}
    return value


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
        agents = _agents_by_name(organisation, {trace.agent_id for _, trace in valid})
        wanted = {trace.trace_id for _, trace in valid}
        existing = dict(
            TraceRow.objects.for_org(organisation).filter(trace_id__in=wanted).values_list("trace_id", "id")
        )
        rows: dict[str, TraceRow] = {}
        for _, trace in valid:
            if trace.trace_id not in existing and trace.trace_id not in rows:
                rows[trace.trace_id] = _trace_row(organisation, agents[trace.agent_id], trace, now)
        # A concurrent request may store the same trace_id first: ignore the conflict, then read back.
        TraceRow.objects.bulk_create(rows.values(), ignore_conflicts=True, batch_size=500)
        stored = dict(
            TraceRow.objects.for_org(organisation).filter(trace_id__in=list(rows)).values_list("trace_id", "id")
        ) if rows else {}
        created = [row for trace_id, row in rows.items() if stored.get(trace_id) == row.id]
        evaluations = Evaluation.objects.bulk_create(
            [Evaluation(organisation=organisation, trace=row, agent_id=row.agent_id, started_at=row.started_at,
                        enqueued_at=now) for row in created],
            batch_size=500,
        )
        created_ids = [row.id for row in created]
        evaluation_ids = [e.pk for e in evaluations]
        if merge_spans and existing:
            evaluation_ids += _merge(organisation, agents, existing,
                                     [t for _, t in valid if t.trace_id in existing], now)
        if evaluation_ids:
            transaction.on_commit(lambda: publish(evaluation_ids))
    ids = {**existing, **stored}
    created_set = set(created_ids)
    return [Accepted(index, ids[trace.trace_id], trace.trace_id, ids[trace.trace_id] in created_set)
            for index, trace in valid]


def _merge(organisation: Organisation, agents: dict[str, Agent], existing: dict[str, uuid.UUID],
           traces: list[Trace], now) -> list[int]:
    """Fold late spans into stored traces; their evaluations go back to pending. Returns those ids."""
    rows = {row.trace_id: row for row in TraceRow.objects.for_org(organisation)
            .select_for_update().filter(id__in=[existing[t.trace_id] for t in traces])}
    for trace in traces:
        row = rows[trace.trace_id]
        known = {span["span_id"] for span in row.spans}
        row.spans = _relink([*row.spans, *(s for s in to_builtins(trace.spans) if s["span_id"] not in known)])
        row.span_count = len(row.spans)
        if trace.started_at and trace.started_at < row.started_at:
            row.started_at = trace.started_at
        if _has_true_root(trace):
            row.agent = agents[trace.agent_id]
            row.input, row.output, row.duration_ms = trace.input, trace.output, trace.duration_ms
            row.error = to_builtins(trace.error) if trace.error else None
            row.success_reported = trace.success
        row.save()
    evaluations = Evaluation.objects.for_org(organisation).filter(trace_id__in=[r.id for r in rows.values()])
    for row in rows.values():
        evaluations.filter(trace_id=row.id).update(agent_id=row.agent_id, started_at=row.started_at)
    evaluations.update(status=EvaluationStatus.PENDING, enqueued_at=now)
    return list(evaluations.values_list("pk", flat=True))


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
