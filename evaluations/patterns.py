"""Failure patterns: recurring failures grouped by fingerprint, and their improvement status."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q, Sum
from django.utils import timezone

from .bulk import update_rows
from .engine import Trace, plan
from .models import AgentHour, Evaluation, FailurePattern, PatternStatus

MAX_EXAMPLES = 10
MAX_EXAMPLE_INPUTS = 5


@dataclass(frozen=True, slots=True)
class Run:
    """An evaluated run, the trace it was evaluated from (None when the engine failed on it), and, when it was
    evaluated before, the fingerprint it was folded in with then ("" for a run that did not fail): a re-evaluated
    run is never counted twice."""

    evaluation: Evaluation
    trace: Trace | None
    folded_as: str | None = None

    @property
    def key(self) -> tuple:
        return self.evaluation.organisation_id, self.evaluation.agent_id


# What folding runs into a pattern changes (mark_fix_applied saves its own changes).
FOLDED = ("occurrences", "first_seen", "last_seen", "example_traces", "example_inputs", "occurrences_since_fix",
          "status", "agent_version", "runs_since_fix")


def version_of(trace: Trace) -> str:
    metadata = trace.metadata if isinstance(trace.metadata, dict) else {}
    for key in ("agent_version", "version", "release"):
        if isinstance(metadata.get(key), str | int | float):
            return str(metadata[key])[:120]
    return ""


def record(runs: Iterable[Run]) -> None:
    """Fold a batch of finished runs into their agents' patterns: the patterns concerned are created when new,
    locked in one query (in key order, so concurrent workers never deadlock), changed, and written in one.
    A re-evaluated run whose failure changed moves from its old pattern to its new one."""
    failing: dict[tuple, list[Run]] = defaultdict(list)
    unfolded: Counter[tuple] = Counter()
    by_agent: dict[tuple, list[Run]] = defaultdict(list)
    for run in runs:
        fingerprint = run.evaluation.failure_fingerprint if run.trace else ""
        if run.trace:
            by_agent[run.key].append(run)
        if run.folded_as == fingerprint:
            continue
        if fingerprint:
            failing[(*run.key, fingerprint)].append(run)
        if run.folded_as:
            unfolded[(*run.key, run.folded_as)] += 1
    if not by_agent and not unfolded:
        return
    _ensure_rows(failing)
    locked = _lock([*failing, *unfolded], by_agent)
    changed = {}
    for pattern in locked:
        key = (pattern.organisation_id, pattern.agent_id, pattern.fingerprint)
        if key in failing:
            _add_occurrences(pattern, failing[key])
        pattern.occurrences -= unfolded[key]
        if key in failing or key in unfolded:
            changed[pattern.pk] = pattern
    for pattern in locked:
        if pattern.status in (PatternStatus.OPEN, PatternStatus.FIX_APPLIED) and \
                _advance(pattern, by_agent[(pattern.organisation_id, pattern.agent_id)]):
            changed[pattern.pk] = pattern
    update_rows(FailurePattern, list(changed.values()), FOLDED)


def _ensure_rows(failing: dict[tuple, list[Run]]) -> None:
    rows = []
    for (org, agent, fingerprint), runs in sorted(failing.items(), key=lambda item: str(item[0])):
        first = runs[0].evaluation
        failure = first.details.get("failure") or {}
        started = min(run.evaluation.started_at for run in runs)
        rows.append(FailurePattern(
            organisation_id=org, agent_id=agent, fingerprint=fingerprint, category=first.failure_category,
            message=(failure.get("normalised") or failure.get("message") or "")[:2000],
            step=(failure.get("step") or "")[:512], framework=first.framework, first_seen=started, last_seen=started,
        ))
    FailurePattern.objects.bulk_create(rows, ignore_conflicts=True)


def _lock(patterns: list[tuple], by_agent: dict[tuple, list[Run]]) -> list[FailurePattern]:
    """The patterns runs fold into or leave, and the agents' patterns the runs may advance: those with a fix
    applied, and open ones seen on a version other than the batch's (a new version marks them fixed)."""
    wanted = Q()
    for org, agent, fingerprint in patterns:
        wanted |= Q(organisation_id=org, agent_id=agent, fingerprint=fingerprint)
    for (org, agent), runs in by_agent.items():
        advancing = Q(status=PatternStatus.FIX_APPLIED)
        versions = {version_of(run.trace) for run in runs} - {""}
        if versions:
            open_elsewhere = Q(status=PatternStatus.OPEN) & ~Q(agent_version="")
            if len(versions) == 1:
                open_elsewhere &= ~Q(agent_version=next(iter(versions)))
            advancing |= open_elsewhere
        wanted |= Q(organisation_id=org, agent_id=agent) & advancing
    return list(FailurePattern.objects.select_for_update().filter(wanted)
                .order_by("organisation_id", "agent_id", "fingerprint"))


def _add_occurrences(pattern: FailurePattern, runs: list[Run]) -> None:
    started = [run.evaluation.started_at for run in runs]
    pattern.occurrences += len(runs)
    pattern.first_seen = min(pattern.first_seen, *started)
    pattern.last_seen = max(pattern.last_seen, *started)
    recent = sorted(runs, key=lambda run: run.evaluation.started_at, reverse=True)
    pattern.example_traces = _unique([str(run.evaluation.trace_id) for run in recent]
                                     + pattern.example_traces)[:MAX_EXAMPLES]
    inputs = [run.trace.input for run in recent if run.trace.input is not None]
    pattern.example_inputs = _unique(inputs + pattern.example_inputs)[:MAX_EXAMPLE_INPUTS]
    if pattern.status in (PatternStatus.FIX_APPLIED, PatternStatus.RESOLVED, PatternStatus.REGRESSED):
        pattern.occurrences_since_fix += len(runs)
        pattern.status = PatternStatus.REGRESSED
    versions = {version_of(run.trace) for run in runs} - {""}
    if versions:
        pattern.agent_version = max(versions)


def _advance(pattern: FailurePattern, runs: list[Run]) -> bool:
    """Clean runs count towards resolving a fixed pattern (each run once: not again when re-evaluated); a new agent
    version marks an open one as fixed. Returns whether the pattern changed."""
    versions = {version_of(run.trace) for run in runs} - {""}
    if pattern.status == PatternStatus.OPEN:
        if pattern.agent_version and versions - {pattern.agent_version}:
            mark_fix_applied(pattern)
            return True
        return False
    pattern.runs_since_fix += sum(1 for run in runs if run.folded_as is None
                                  and run.evaluation.failure_fingerprint != pattern.fingerprint
                                  and run.evaluation.started_at >= pattern.fix_applied_at)
    pattern.status = plan.pattern_status(
        fix_applied=True, runs_since_fix=pattern.runs_since_fix,
        occurrences_since_fix=pattern.occurrences_since_fix, prior_rate=pattern.prior_rate)
    return True


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
