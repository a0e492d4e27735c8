"""Judging runs: which judges apply to a run (agents, sampling, filters, mode), the daily budgets, the calls.

Runs off the request, after their rule-based verdicts are saved: a Celery task, or a background thread of the
server without a broker (judges.receivers). A run gets at most one score per judge (a database constraint), so
a re-evaluation or a second worker never judges it twice; the score is written `pending` first (the claim),
then `done`, `error` or `skipped` with the reason. Calls run concurrently on a batch's threads, at most
ARC_JUDGE_CONCURRENCY at once in this process over every batch (`_call_slots`); every call first takes its place
under the judge's and the organisation's daily budgets (`_Gate`).
"""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from arcweb.encryption import unseal
from evaluations.engine.cost import price
from evaluations.feedback import record_judge_verdict
from evaluations.models import Evaluation, EvaluationStatus
from traces.models import Trace

from . import model_client, prompts
from .models import Judge, Mode, ModelConnection, Score, ScoreStatus, Source
from .selectors import organisation_budget, spend_today
from .signals import scores_saved

log = logging.getLogger(__name__)

SKIP_CERTAIN = "certain failure: the rules already failed this run (uncertain mode judges only undecided runs)"
SKIP_BUDGET = "daily budget reached: {whose} spent ${spent:.4f} of ${limit:.4f} today"


def endpoint_of(connection_row: ModelConnection) -> model_client.Endpoint:
    return model_client.Endpoint(connection_row.provider, connection_row.base_url,
                                 unseal(connection_row.api_key) if connection_row.api_key else "",
                                 settings.ARC_JUDGE_TIMEOUT_S)


def sampled(judge_id: uuid.UUID, trace_id: uuid.UUID, rate: float) -> bool:
    """The same run is in or out of a judge's sample every time it is asked (backfill agrees with live judging)."""
    if rate >= 1:
        return True
    digest = hashlib.blake2b(f"{judge_id}:{trace_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest) / 2**64 < rate


def wants(judge: Judge, agent_ids: set[uuid.UUID], evaluation: Evaluation, tags: list) -> bool:
    """Whether the judge's rules pick this run at all (a run not picked gets no score)."""
    if agent_ids and evaluation.agent_id not in agent_ids:
        return False
    if judge.only_failed and evaluation.success is not False:
        return False
    if judge.tag and judge.tag not in (tags or []):
        return False
    return sampled(judge.id, evaluation.trace_id, judge.sample_rate)


def certain_failure(judge: Judge, evaluation: Evaluation) -> bool:
    """In `uncertain` mode a run the rules failed (a crash, an error, no output, a failed last tool call) costs no
    call: the rules decide it; only a rule-based success can hide a wrong answer."""
    return judge.mode == Mode.UNCERTAIN and evaluation.success is False


class _Gate:
    """One daily budget in this process: what was spent today and the calls in flight. A call may start while the
    spend is under the limit and, with calls in flight, only if they and it fit at the largest cost seen; so the
    limit is passed by at most one call."""

    def __init__(self, limit: Decimal | None, spent: Decimal) -> None:
        self.limit, self.spent, self.in_flight, self.largest = limit, spent, 0, Decimal(0)
        self.cond = threading.Condition()

    def hold(self) -> bool:
        with self.cond:
            while True:
                if self.limit is None:
                    self.in_flight += 1
                    return True
                if self.spent >= self.limit:
                    return False
                if self.in_flight == 0 or (self.largest and
                                           self.spent + (self.in_flight + 1) * self.largest < self.limit):
                    self.in_flight += 1
                    return True
                self.cond.wait()

    def settle(self, cost: Decimal) -> None:
        with self.cond:
            self.in_flight -= 1
            self.spent += cost
            self.largest = max(self.largest, cost)
            self.cond.notify_all()

    def refresh(self, limit: Decimal | None, spent: Decimal) -> None:
        with self.cond:
            self.limit = limit
            if self.in_flight == 0:
                self.spent = spent


_gates: dict[tuple, _Gate] = {}
_gates_lock = threading.Lock()


def _gate(key: tuple, limit: Decimal | None, spent: Decimal) -> _Gate:
    with _gates_lock:
        gate = _gates.get(key)
        if gate is None:
            gate = _gates[key] = _Gate(limit, spent)
            return gate
    gate.refresh(limit, spent)
    return gate


_slots: tuple[int, threading.BoundedSemaphore] | None = None


def _call_slots() -> threading.BoundedSemaphore:
    """The process's places for model calls: batches judged at the same time (a burst of verdict batches without a
    broker, each in its own thread) share ARC_JUDGE_CONCURRENCY rather than each opening as many."""
    global _slots
    with _gates_lock:
        if _slots is None or _slots[0] != settings.ARC_JUDGE_CONCURRENCY:
            _slots = (settings.ARC_JUDGE_CONCURRENCY, threading.BoundedSemaphore(settings.ARC_JUDGE_CONCURRENCY))
        return _slots[1]


@dataclass
class _Job:
    score: Score
    judge: Judge
    trace: Trace
    endpoint: model_client.Endpoint
    client: model_client.Client


def judge_evaluations(evaluation_ids: Iterable[int], *, judge_ids: Iterable[uuid.UUID] | None = None,
                      retry: bool = False) -> int:
    """Judge these runs with every enabled judge whose rules pick them (only `judge_ids` when given; `retry` also
    re-judges runs whose score was an error or a skip). A run judged before its late spans arrived is judged again
    (its trajectory changed), once. Returns the number of judge calls made."""
    evaluations = list(Evaluation.objects.filter(pk__in=list(evaluation_ids), status=EvaluationStatus.DONE)
                       .only("pk", "organisation_id", "agent_id", "trace_id", "success"))
    if not evaluations:
        return 0
    judges = Judge.objects.filter(organisation_id__in={e.organisation_id for e in evaluations}, enabled=True)
    if judge_ids is not None:
        judges = judges.filter(id__in=list(judge_ids))
    judges = list(judges.select_related("connection").prefetch_related("agents"))
    if not judges:
        return 0
    traces = {t.id: t for t in Trace.objects.filter(id__in=[e.trace_id for e in evaluations])
              .only("id", "organisation_id", "input", "output", "error", "spans", "span_count", "tags")}
    jobs, clients = [], {}
    try:
        for judge in judges:
            agent_ids = {a.id for a in judge.agents.all()}
            picked = [e for e in evaluations if e.organisation_id == judge.organisation_id
                      and e.trace_id in traces and wants(judge, agent_ids, e, traces[e.trace_id].tags)]
            for evaluation, score in _claim(judge, picked, traces, retry):
                if certain_failure(judge, evaluation):
                    _finish(score, status=ScoreStatus.SKIPPED, status_reason=SKIP_CERTAIN)
                    if judge.decides_success and score.passed is not None:  # its verdict on fewer spans goes
                        record_judge_verdict(evaluation_id=evaluation.pk, passed=None)
                    continue
                if judge.connection_id not in clients:
                    endpoint = endpoint_of(judge.connection)
                    clients[judge.connection_id] = (endpoint, model_client.client_for(endpoint))
                jobs.append(_Job(score, judge, traces[evaluation.trace_id], *clients[judge.connection_id]))
        if not jobs:
            return 0
        made = _run_all(jobs)
        scores_saved.send(sender=judge_evaluations, organisation_ids={job.judge.organisation_id for job in jobs})
        return made
    finally:
        for _, client in clients.values():
            client.close()


def _claim(judge: Judge, evaluations: list[Evaluation], traces: dict[uuid.UUID, Trace],
           retry: bool) -> list[tuple[Evaluation, Score]]:
    """The runs this worker judges, each with its pending score: those the judge has no score for (one insert;
    a row another worker inserted first is skipped by the constraint), those judged on fewer spans than the run has
    now (late spans merged since), and with `retry` those whose score was an error or a skip. A score taken again
    keeps its earlier verdict until the new one replaces it."""
    if not evaluations:
        return []
    fields = {"organisation_id": judge.organisation_id, "name": judge.name, "source": Source.JUDGE,
              "status": ScoreStatus.PENDING, "model": judge.model or judge.connection.default_model}
    rows = [Score(judge=judge, trace_id=e.trace_id, evaluation_id=e.pk, judged_spans=traces[e.trace_id].span_count,
                  **fields) for e in evaluations]
    Score.objects.bulk_create(rows, ignore_conflicts=True)
    inserted = set(Score.objects.filter(id__in=[r.id for r in rows]).values_list("id", flat=True))
    claimed = [(e, r) for e, r in zip(evaluations, rows, strict=True) if r.id in inserted]
    for evaluation, row in zip(evaluations, rows, strict=True):
        if row.id in inserted:
            continue
        spans = traces[evaluation.trace_id].span_count
        again = Q(judged_spans__lt=spans)
        if retry:
            again |= Q(status__in=(ScoreStatus.ERROR, ScoreStatus.SKIPPED))
        stale = Score.objects.filter(again, judge=judge, trace_id=evaluation.trace_id).exclude(
            status=ScoreStatus.PENDING)
        if stale.update(**fields, status_reason="", judged_spans=spans, created_at=timezone.now()):
            claimed.append((evaluation, Score.objects.get(judge=judge, trace_id=evaluation.trace_id)))
    return claimed


def _run_all(jobs: list[_Job]) -> int:
    """Run the calls on up to ARC_JUDGE_CONCURRENCY threads (the calls in flight are capped per process by
    `_call_slots`), each keeping its database connection until it is done."""
    gates = _budget_gates({job.judge for job in jobs})
    waiting = queue.SimpleQueue()
    for job in jobs:
        waiting.put(job)
    made = []

    def work() -> None:
        try:
            while True:
                try:
                    job = waiting.get_nowait()
                except queue.Empty:
                    return
                made.append(_run_job(job, gates))
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=work, name="arc-eval-judge-call", daemon=True)
               for _ in range(min(settings.ARC_JUDGE_CONCURRENCY, len(jobs)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(made)


def _budget_gates(judges: set[Judge]) -> dict[tuple, _Gate]:
    day = timezone.now().date()
    gates = {}
    for judge in judges:
        gates[("judge", judge.id)] = _gate(("judge", judge.id, day), judge.daily_budget_usd,
                                           spend_today(judge.organisation_id, judge=judge))
    for org_id in {judge.organisation_id for judge in judges}:
        gates[("org", org_id)] = _gate(("org", org_id, day), organisation_budget(org_id), spend_today(org_id))
    return gates


def _run_job(job: _Job, gates: dict[tuple, _Gate]) -> bool:
    try:
        with _call_slots():
            return _judge_one(job, gates[("judge", job.judge.id)], gates[("org", job.judge.organisation_id)])
    except Exception:  # one run's surprise must not stop the others; it is that score's error
        log.exception("judge %s on trace %s failed", job.judge.id, job.trace.id)
        _finish(job.score, status=ScoreStatus.ERROR, status_reason="internal error")
        return False


def _judge_one(job: _Job, judge_gate: _Gate, org_gate: _Gate) -> bool:
    judge, score = job.judge, job.score
    for whose, gate in (("the judge", judge_gate), ("the organisation", org_gate)):
        if not gate.hold():
            if gate is org_gate:
                judge_gate.settle(Decimal(0))
            _finish(score, status=ScoreStatus.SKIPPED, status_reason=SKIP_BUDGET.format(
                whose=whose, spent=gate.spent, limit=gate.limit))
            return False
    cost = Decimal(0)
    try:
        reply = model_client.structured(
            job.endpoint, score.model, system=prompts.SYSTEM,
            user=prompts.user_prompt(judge.template, judge.rubric, job.trace, settings.ARC_JUDGE_MAX_PROMPT_CHARS),
            name=prompts.VERDICT_TOOL, schema=prompts.VERDICT_SCHEMA, max_tokens=prompts.MAX_VERDICT_TOKENS,
            client=job.client)
        priced = price(score.model, job.endpoint.provider, reply.input_tokens, reply.output_tokens) \
            if reply.input_tokens or reply.output_tokens else Decimal(0)
        cost = priced or Decimal(0)
    finally:
        judge_gate.settle(cost)
        org_gate.settle(cost)
    # A score judged again carries every call made for it, so the spend of today and of the month stays whole.
    usage = {"input_tokens": F("input_tokens") + reply.input_tokens,
             "output_tokens": F("output_tokens") + reply.output_tokens, "unpriced": priced is None}
    if priced is not None:
        usage["cost_usd"] = Coalesce(F("cost_usd"), Value(Decimal(0))) + priced
    if reply.data is None:
        _finish(score, status=ScoreStatus.ERROR, status_reason=reply.error[:300], **usage)
        return True
    verdict = reply.data
    _finish(score, status=ScoreStatus.DONE, passed=verdict["passed"], value=min(max(verdict["score"], 0), 1),
            category=verdict["category"][:60], reasoning=verdict["reasoning"][:4000], **usage)
    if judge.decides_success:
        record_judge_verdict(evaluation_id=score.evaluation_id, passed=verdict["passed"])
    return True


def _finish(score: Score, **fields) -> None:
    Score.objects.filter(pk=score.pk).update(**fields)
