"""Failure patterns: recurring failures grouped by fingerprint, and their improvement status."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Sum
from django.utils import timezone

from .engine import plan
from .models import AgentHour, Evaluation, FailurePattern, PatternStatus

MAX_EXAMPLES = 10
MAX_EXAMPLE_INPUTS = 5


def version_of(evaluation: Evaluation) -> str:
    metadata = evaluation.trace.metadata if isinstance(evaluation.trace.metadata, dict) else {}
    for key in ("agent_version", "version", "release"):
        if isinstance(metadata.get(key), str | int | float):
            return str(metadata[key])[:120]
    return ""


def record(evaluations: Iterable[Evaluation]) -> None:
    """Fold a batch of finished runs into their agents' patterns (one transaction, rows locked)."""
    done = [e for e in evaluations if e.status == "done"]
    if not done:
        return
    failing: dict[tuple, list[Evaluation]] = defaultdict(list)
    for evaluation in done:
        if evaluation.failure_fingerprint:
            failing[(evaluation.organisation_id, evaluation.agent_id, evaluation.failure_fingerprint)].append(evaluation)
    _ensure_rows(failing)
    _add_occurrences(failing)
    _advance_fixed_patterns(done)


def _ensure_rows(failing: dict[tuple, list[Evaluation]]) -> None:
    rows = []
    for (org, agent, fingerprint), runs in failing.items():
        failure = runs[0].details.get("failure") or {}
        rows.append(FailurePattern(
            organisation_id=org, agent_id=agent, fingerprint=fingerprint, category=runs[0].failure_category,
            message=(failure.get("normalised") or failure.get("message") or "")[:2000],
            step=(failure.get("step") or "")[:512], framework=runs[0].framework,
            first_seen=min(r.started_at for r in runs), last_seen=min(r.started_at for r in runs),
        ))
    FailurePattern.objects.bulk_create(rows, ignore_conflicts=True)


def _add_occurrences(failing: dict[tuple, list[Evaluation]]) -> None:
    for (org, agent, fingerprint), runs in sorted(failing.items()):
        pattern = FailurePattern.objects.select_for_update().get(
            organisation_id=org, agent_id=agent, fingerprint=fingerprint)
        pattern.occurrences += len(runs)
        pattern.first_seen = min(pattern.first_seen, *(r.started_at for r in runs))
        pattern.last_seen = max(pattern.last_seen, *(r.started_at for r in runs))
        recent = sorted(runs, key=lambda r: r.started_at, reverse=True)
        pattern.example_traces = _unique([str(r.trace_id) for r in recent] + pattern.example_traces)[:MAX_EXAMPLES]
        inputs = [r.trace.input for r in recent if r.trace.input is not None]
        pattern.example_inputs = _unique(inputs + pattern.example_inputs)[:MAX_EXAMPLE_INPUTS]
        if pattern.status in (PatternStatus.FIX_APPLIED, PatternStatus.RESOLVED, PatternStatus.REGRESSED):
            pattern.occurrences_since_fix += len(runs)
            pattern.status = PatternStatus.REGRESSED
        versions = {version_of(r) for r in runs} - {""}
        if versions:
            pattern.agent_version = max(versions)
        pattern.save()


def _advance_fixed_patterns(done: list[Evaluation]) -> None:
    """Clean runs count towards resolving fixed patterns; a new agent version marks open ones as fixed."""
    by_agent: dict[tuple, list[Evaluation]] = defaultdict(list)
    for evaluation in done:
        by_agent[(evaluation.organisation_id, evaluation.agent_id)].append(evaluation)
    for (org, agent), runs in by_agent.items():
        patterns = FailurePattern.objects.for_org(org).filter(
            agent_id=agent, status__in=[PatternStatus.OPEN, PatternStatus.FIX_APPLIED]).select_for_update()
        versions = {version_of(r) for r in runs} - {""}
        for pattern in patterns:
            if pattern.status == PatternStatus.OPEN and pattern.agent_version and versions - {pattern.agent_version}:
                mark_fix_applied(pattern)
                continue
            if pattern.status != PatternStatus.FIX_APPLIED:
                continue
            pattern.runs_since_fix += sum(1 for r in runs if r.failure_fingerprint != pattern.fingerprint
                                          and r.started_at >= pattern.fix_applied_at)
            pattern.status = plan.pattern_status(
                fix_applied=True, runs_since_fix=pattern.runs_since_fix,
                occurrences_since_fix=pattern.occurrences_since_fix, prior_rate=pattern.prior_rate)
            pattern.save(update_fields=["runs_since_fix", "status"])


def mark_fix_applied(pattern: FailurePattern) -> FailurePattern:
    """The team (or a new agent version) says a fix is in: clean runs from now on count towards resolution."""
    runs = AgentHour.objects.for_org(pattern.organisation_id).filter(
        agent_id=pattern.agent_id, hour__gte=pattern.first_seen.replace(minute=0, second=0, microsecond=0),
    ).aggregate(n=Sum("runs"))["n"] or 0
    pattern.prior_rate = min(1.0, pattern.occurrences / runs) if runs else 1.0
    pattern.status = PatternStatus.FIX_APPLIED
    pattern.fix_applied_at = timezone.now()
    pattern.runs_since_fix = 0
    pattern.occurrences_since_fix = 0
    pattern.save()
    return pattern


def _unique(values: list) -> list:
    seen, kept = set(), []
    for value in values:
        key = repr(value)
        if key not in seen:
            seen.add(key)
            kept.append(value)
    return kept
