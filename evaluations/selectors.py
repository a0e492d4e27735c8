"""Reads of what we concluded, scoped to one organisation: windows, reliability, patterns, plans."""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet, Sum
from django.utils import timezone

from arcweb.models import Organisation
from traces.models import Agent

from .engine import agreement, compare, plan, reliability, remediation, scenarios
from .engine.reliability import WindowCounts
from .models import AgentHour, Evaluation, EvaluationStatus, FailurePattern, PatternStatus
from .rollups import hour_of, window_counts

WINDOW_RE = re.compile(r"^(\d{1,4})([hd])$")
PASS_K_SAMPLE = 5000  # pass^k is estimated from the window's most recent runs, at most this many


class BadWindow(ValueError):
    pass


def parse_window(value: str | None, default: str = "7d") -> timedelta:
    match = WINDOW_RE.match((value or default).strip().lower())
    if not match:
        raise BadWindow(f"window must look like 24h, 7d or 30d, not {value!r}")
    amount, unit = int(match.group(1)), match.group(2)
    span = timedelta(hours=amount) if unit == "h" else timedelta(days=amount)
    if not timedelta(hours=1) <= span <= timedelta(days=400):
        raise BadWindow("window must be between 1h and 400d")
    return span


def find_agent(organisation: Organisation, ident: str) -> Agent | None:
    """An agent by its id or by its name."""
    agents = Agent.objects.for_org(organisation)
    try:
        return agents.filter(id=uuid.UUID(str(ident))).first()
    except ValueError:
        return agents.filter(name=ident).first()


def hours(organisation: Organisation, agent: Agent, start: datetime, end: datetime) -> QuerySet[AgentHour]:
    return AgentHour.objects.for_org(organisation).filter(agent=agent, hour__gte=hour_of(start), hour__lt=end)


def counts_between(organisation: Organisation, agent: Agent, start: datetime, end: datetime) -> WindowCounts:
    return window_counts(hours(organisation, agent, start, end))


def pass_k_tasks(organisation: Organisation, agent: Agent, start: datetime, end: datetime) -> list[tuple[int, int]]:
    runs = (Evaluation.objects.for_org(organisation)
            .filter(agent=agent, status=EvaluationStatus.DONE, started_at__gte=start, started_at__lt=end)
            .exclude(input_fingerprint="").order_by("-started_at")
            .values_list("input_fingerprint", "success", "label_success")[:PASS_K_SAMPLE])
    tasks: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for fingerprint, success, label in runs:
        tasks[fingerprint][0] += 1
        tasks[fingerprint][1] += bool(label if label is not None else success)
    return [tuple(t) for t in tasks.values()]


def agent_reliability(organisation: Organisation, agent: Agent, *, window: timedelta,
                      now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    start = now - window
    current = counts_between(organisation, agent, start, now)
    previous = counts_between(organisation, agent, start - window, start)
    figures = reliability.rollup(current, previous, pass_k_tasks(organisation, agent, start, now))
    savings = hours(organisation, agent, start, now).aggregate(s=Sum("savings_usd_sum"))["s"] or Decimal(0)
    figures.update(cost_figures(current, savings))
    figures.update({"agent": agent.name, "agent_id": str(agent.id), "window_start": start, "window_end": now,
                    "open_compliance_findings": current.runs - current.compliance_passed,
                    "tool_calls": current.tool_calls, "tool_errors": current.tool_errors})
    return figures


def cost_figures(counts: WindowCounts, savings: Decimal) -> dict[str, Any]:
    """Cost per run and the share of it the savings found in these runs would remove."""
    if not counts.priced_runs or counts.cost_usd_sum <= 0:
        return {"cost_total_usd": str(counts.cost_usd_sum), "savings_per_run_usd": None, "reduction_pct": 0.0}
    return {
        "cost_total_usd": str(counts.cost_usd_sum),
        "savings_per_run_usd": str((savings / counts.priced_runs).quantize(Decimal("0.00000001"))),
        "reduction_pct": round(float(savings / counts.cost_usd_sum * 100), 1),
    }


def label_agreement(organisation: Organisation, agent: Agent) -> dict[str, Any]:
    labelled = (Evaluation.objects.for_org(organisation)
                .filter(agent=agent, status=EvaluationStatus.DONE, label_success__isnull=False)
                .values_list("success", "label_success"))
    result = agreement.agreement((bool(auto), bool(human)) for auto, human in labelled)
    return result.as_dict()


def compare_windows(organisation: Organisation, agent: Agent, before: tuple[datetime, datetime],
                    after: tuple[datetime, datetime]) -> list[dict[str, Any]]:
    return compare.compare(counts_between(organisation, agent, *before), counts_between(organisation, agent, *after))


def patterns_for(organisation: Organisation) -> QuerySet[FailurePattern]:
    return FailurePattern.objects.for_org(organisation).select_related("agent").order_by("-last_seen")


def agent_runs(organisation: Organisation, agent: Agent) -> int:
    return AgentHour.objects.for_org(organisation).filter(agent=agent).aggregate(n=Sum("runs"))["n"] or 0


def agent_run_counts(organisation: Organisation, agent: Agent) -> tuple[int, int]:
    """(runs, failing runs) of the agent over all time, from the rollups."""
    sums = AgentHour.objects.for_org(organisation).filter(agent=agent).aggregate(runs=Sum("runs"),
                                                                                  successes=Sum("successes"))
    return sums["runs"] or 0, (sums["runs"] or 0) - (sums["successes"] or 0)


def pattern_scenarios(pattern: FailurePattern, limit: int = 20) -> list[scenarios.Scenario]:
    return scenarios.generate(category=pattern.category, message=pattern.message, step=pattern.step,
                              fingerprint=pattern.fingerprint, example_inputs=pattern.example_inputs, limit=limit)


def pattern_fixes(pattern: FailurePattern) -> list[dict[str, Any]]:
    """Fixes for the pattern, aimed at its failing step; the impact is the share of the agent's failing runs it
    explains, and the reliability points its absence would add over all of the agent's runs. The one source
    of a fix's impact: the pattern page, the trace page, the API, the CLI and reports read it here."""
    runs, failing = agent_run_counts(pattern.organisation, pattern.agent)
    total_runs = max(runs, pattern.occurrences)
    stats = plan.PatternStats(pattern.fingerprint, pattern.category, pattern.occurrences, total_runs,
                              step=pattern.step)
    return remediation.suggest([stats], framework=pattern.framework or "generic",
                               failing_runs=max(failing, pattern.occurrences))


def trace_fixes(organisation: Organisation, evaluation: Evaluation) -> list[dict[str, Any]]:
    """A run's fixes: its pattern's (with the pattern's impact) when the run belongs to one, else the engine's
    own for the run (aimed the same way, impact unknown); the diff against the user's source is the run's."""
    details = evaluation.details if isinstance(evaluation.details, dict) else {}
    own = [f for f in details.get("fixes") or [] if isinstance(f, dict)]
    pattern = (FailurePattern.objects.for_org(organisation)
               .filter(agent_id=evaluation.agent_id, fingerprint=evaluation.failure_fingerprint).first()
               if evaluation.failure_fingerprint else None)
    if pattern is None:
        return own
    diffs = {f.get("category"): f.get("diff") for f in own}
    return [{**fix, "target": next((f.get("target") for f in own if f.get("category") == fix["category"]),
                                   fix["target"]),
             "diff": diffs.get(fix["category"])} for fix in pattern_fixes(pattern)]


def improvement_plan(organisation: Organisation, agent: Agent) -> dict[str, Any]:
    """Open patterns ranked by the reliability they cost, each with its scenarios simplest first."""
    total_runs = agent_runs(organisation, agent)
    open_patterns = list(patterns_for(organisation).filter(
        agent=agent, status__in=[PatternStatus.OPEN, PatternStatus.REGRESSED]))
    stats = {p.fingerprint: plan.PatternStats(p.fingerprint, p.category, p.occurrences, max(total_runs, 1))
             for p in open_patterns}
    by_fingerprint = {p.fingerprint: p for p in open_patterns}
    ranked = plan.rank_patterns(stats.values())
    for entry in ranked:
        pattern = by_fingerprint[entry["fingerprint"]]
        entry.update({"id": str(pattern.id), "status": pattern.status, "step": pattern.step,
                      "scenarios": plan.order_scenarios([s.as_dict() for s in pattern_scenarios(pattern, 8)])})
    closed = patterns_for(organisation).filter(agent=agent).exclude(
        status__in=[PatternStatus.OPEN, PatternStatus.REGRESSED]).values_list("status", flat=True)
    return {"agent": agent.name, "runs": total_runs, "open": ranked,
            "fix_applied": sum(s == PatternStatus.FIX_APPLIED for s in closed),
            "resolved": sum(s == PatternStatus.RESOLVED for s in closed),
            "progress": weekly_reliability(organisation, agent)}


def weekly_reliability(organisation: Organisation, agent: Agent, weeks: int = 8,
                       now: datetime | None = None) -> list[dict[str, Any]]:
    """The plan's progress: reliability per week, oldest first (weeks without runs have None)."""
    now = now or timezone.now()
    start = hour_of(now) - timedelta(weeks=weeks)
    buckets = [[0, 0] for _ in range(weeks)]
    for hour, runs, successes in hours(organisation, agent, start, now).values_list("hour", "runs", "successes"):
        index = min(int((hour - start) / timedelta(weeks=1)), weeks - 1)
        buckets[index][0] += runs
        buckets[index][1] += successes
    return [{"week_start": start + timedelta(weeks=n), "runs": runs,
             "reliability": round(100 * ok / runs, 2) if runs else None} for n, (runs, ok) in enumerate(buckets)]
