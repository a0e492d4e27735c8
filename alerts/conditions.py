"""Whether each monitor's condition holds for each of its agents now, with the evidence behind it.

Every figure is read where the pages read it: success rates, trends and costs from the engine's
`reliability.rollup` over `evaluations.figures.window_counts` (runs counted by when they started, to the
second, so a late upload lands in its own window), failure patterns from `FailurePattern`, leaks from the
masked findings the engine stored on each run. Nothing here writes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q

from arcweb.windows import Window
from evaluations.engine import reliability
from evaluations.engine.compliance import SEVERITIES
from evaluations.engine.reliability import WindowCounts
from evaluations.figures import window_counts
from evaluations.models import Evaluation, EvaluationStatus, FailurePattern, PatternStatus
from judges.models import Score, ScoreStatus
from traces.models import Agent
from traces.verdicts import verdict_q

from .excerpts import excerpt
from .models import Monitor, MonitorKind

EVIDENCE_RUNS = 10  # runs linked from an alert
COST_HISTORY = timedelta(days=7)  # what a cost spike is measured against: the week before the window
SILENCE_HISTORY = timedelta(hours=24)  # "usually sends": at least min_runs runs in the day before the silence


@dataclass(frozen=True)
class Condition:
    met: bool
    summary: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    pattern: FailurePattern | None = None


NOT_MET = Condition(False)


def _window_of(monitor: Monitor, now: datetime) -> Window:
    return Window(now - timedelta(minutes=monitor.window_minutes), now)


def _span(window: Window) -> dict[str, Any]:
    return {"start": window.start.isoformat(), "end": window.end.isoformat()}


def _latest_runs(monitor: Monitor, agent_ids: Sequence[Any], window: Window, when=None) -> dict[Any, list[str]]:
    rows = (Evaluation.objects.for_org(monitor.organisation)
            .filter(agent_id__in=agent_ids, status=EvaluationStatus.DONE, started_at__gte=window.start,
                    started_at__lt=window.end)
            .filter(when if when is not None else verdict_q(False)).order_by("-started_at").values_list("agent_id", "trace_id"))
    found: dict[Any, list[str]] = defaultdict(list)
    for agent_id, trace_id in rows[:EVIDENCE_RUNS * max(1, len(agent_ids))]:
        if len(found[agent_id]) < EVIDENCE_RUNS:
            found[agent_id].append(str(trace_id))
    return found


@dataclass(frozen=True)
class _Drop:
    """A rate over the window against the same rate before it (the previous window or a baseline)."""

    window: Window
    before: Window
    rate: float
    previous_rate: float
    current: WindowCounts
    previous: WindowCounts
    trend: dict[str, Any]

    @property
    def met(self) -> bool:
        return self.trend["significant"] and self.trend["direction"] == "down"

    def evidence(self, monitor: Monitor, figures: dict[str, Any], **more: Any) -> dict[str, Any]:
        return {"window": _span(self.window),
                "compared_with": {**_span(self.before), "baseline": monitor.baseline.name if monitor.baseline else None},
                "figures": {**figures, "delta_pp": self.trend["delta_pp"], "p_value": self.trend["p_value"]}, **more}


Counter = Callable[[Monitor, Sequence[Any], Window], dict[Any, WindowCounts]]


def _drops(monitor: Monitor, agents: Sequence[Agent], now: datetime, counter: Counter) -> dict[Any, _Drop | None]:
    """Per agent, the counts of both windows and the engine's trend test between them (its rollup, as the
    dashboards flag a trend); None where either window has fewer than min_runs."""
    window = _window_of(monitor, now)
    before = Window(monitor.baseline.start, monitor.baseline.end) if monitor.baseline else window.previous
    ids = [a.id for a in agents]
    current, previous = counter(monitor, ids, window), counter(monitor, ids, before)
    found: dict[Any, _Drop | None] = {}
    for agent in agents:
        now_counts, then = current.get(agent.id, WindowCounts()), previous.get(agent.id, WindowCounts())
        if min(now_counts.runs, then.runs) < monitor.min_runs:
            found[agent.id] = None
            continue
        figures = reliability.rollup(now_counts, then)
        found[agent.id] = _Drop(window, before, figures["reliability"], reliability.rollup(then)["reliability"],
                                now_counts, then, figures["trend"])
    return found


def _run_counts(monitor: Monitor, agent_ids: Sequence[Any], window: Window) -> dict[Any, WindowCounts]:
    return window_counts(monitor.organisation, agent_ids, window)


def _against(monitor: Monitor) -> str:
    return f"baseline {excerpt(monitor.baseline.name, 60)}" if monitor.baseline else "the previous window"


def reliability_drop(monitor: Monitor, agents: Sequence[Agent], now: datetime) -> dict[Any, Condition]:
    """Met when the success rate over the window is significantly below the previous window's (or the named
    baseline's) by the engine's trend test, both with at least min_runs runs."""
    drops = _drops(monitor, agents, now, _run_counts)
    failing = _latest_runs(monitor, [a.id for a in agents], _window_of(monitor, now))
    found = {}
    for agent in agents:
        drop = drops[agent.id]
        found[agent.id] = NOT_MET if drop is None else Condition(
            drop.met, f"{agent.name}: reliability {drop.rate}% against {drop.previous_rate}% in {_against(monitor)} "
                      f"({drop.trend['delta_pp']} pp, p={drop.trend['p_value']})",
            drop.evidence(monitor, {"runs": drop.current.runs, "successes": drop.current.successes,
                                    "reliability": drop.rate, "previous_runs": drop.previous.runs,
                                    "previous_successes": drop.previous.successes,
                                    "previous_reliability": drop.previous_rate},
                          runs=failing.get(agent.id, [])))
    return found


def _pattern_evidence(pattern: FailurePattern) -> dict[str, Any]:
    return {"id": str(pattern.id), "category": pattern.category, "step": excerpt(pattern.step, 80),
            "message": excerpt(pattern.message), "occurrences": pattern.occurrences, "status": pattern.status,
            "first_seen": pattern.first_seen.isoformat(), "last_seen": pattern.last_seen.isoformat()}


def _patterns(monitor: Monitor, agents: Sequence[Agent], patterns, title: str, window: Window | None
              ) -> dict[Any, Condition]:
    by_agent: dict[Any, list[FailurePattern]] = defaultdict(list)
    for pattern in patterns.filter(agent_id__in=[a.id for a in agents]).order_by("-last_seen"):
        by_agent[pattern.agent_id].append(pattern)
    found = {}
    for agent in agents:
        mine = by_agent.get(agent.id)
        if not mine:
            found[agent.id] = NOT_MET
            continue
        newest = mine[0]
        found[agent.id] = Condition(
            True, f"{agent.name}: {title}: {newest.category} in {excerpt(newest.step, 80) or 'the run'}"
                  + (f" (and {len(mine) - 1} more)" if len(mine) > 1 else ""),
            {"window": _span(window) if window else None, "patterns": [_pattern_evidence(p) for p in mine[:5]],
             "figures": {"patterns": len(mine), "occurrences": sum(p.occurrences for p in mine)},
             "runs": list(newest.example_traces[:EVIDENCE_RUNS])},
            pattern=newest)
    return found


def new_pattern(monitor: Monitor, agents: Sequence[Agent], now: datetime) -> dict[Any, Condition]:
    """Met while a pattern first seen within the window exists."""
    window = _window_of(monitor, now)
    patterns = FailurePattern.objects.for_org(monitor.organisation).filter(first_seen__gte=window.start)
    return _patterns(monitor, agents, patterns, "new failure pattern", window)


def regressed_pattern(monitor: Monitor, agents: Sequence[Agent], now: datetime) -> dict[Any, Condition]:
    """Met while a pattern that was fixed or resolved fails again (until the team marks a new fix)."""
    patterns = FailurePattern.objects.for_org(monitor.organisation).filter(status=PatternStatus.REGRESSED)
    return _patterns(monitor, agents, patterns, "pattern regressed", None)


def _cost_per_run(counts: WindowCounts) -> Decimal | None:
    value = reliability.rollup(counts)["cost_per_run_usd"]
    return Decimal(value) if value is not None else None


def _usd(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(Decimal("0.000001")))


def cost_per_run(monitor: Monitor, agents: Sequence[Agent], now: datetime) -> dict[Any, Condition]:
    """Met when the cost per priced run over the window is above the threshold (with at least min_runs)."""
    window = _window_of(monitor, now)
    counts = window_counts(monitor.organisation, [a.id for a in agents], window)
    found = {}
    for agent in agents:
        mine = counts.get(agent.id, WindowCounts())
        value = _cost_per_run(mine)
        if monitor.threshold_usd is None or value is None or mine.priced_runs < monitor.min_runs:
            found[agent.id] = NOT_MET
            continue
        found[agent.id] = Condition(
            value > monitor.threshold_usd,
            f"{agent.name}: cost per run ${_usd(value)} above ${_usd(monitor.threshold_usd)}",
            {"window": _span(window), "figures": {"priced_runs": mine.priced_runs, "cost_per_run_usd": _usd(value),
                                                  "threshold_usd": _usd(monitor.threshold_usd),
                                                  "cost_in_window_usd": _usd(mine.cost_usd_sum)}})
    return found


def cost_spike(monitor: Monitor, agents: Sequence[Agent], now: datetime) -> dict[Any, Condition]:
    """Met when the cost per run over the window is at least spike_factor times the agent's own over the week
    before it (both with at least min_runs priced runs)."""
    window = _window_of(monitor, now)
    history = Window(window.start - COST_HISTORY, window.start)
    ids = [a.id for a in agents]
    current, before = window_counts(monitor.organisation, ids, window), window_counts(monitor.organisation, ids, history)
    found = {}
    for agent in agents:
        mine, usual = current.get(agent.id, WindowCounts()), before.get(agent.id, WindowCounts())
        value, usual_value = _cost_per_run(mine), _cost_per_run(usual)
        if value is None or not usual_value or min(mine.priced_runs, usual.priced_runs) < monitor.min_runs:
            found[agent.id] = NOT_MET
            continue
        factor = float(value / usual_value)
        found[agent.id] = Condition(
            factor >= monitor.spike_factor,
            f"{agent.name}: cost per run ${_usd(value)}, {factor:.1f}× its usual ${_usd(usual_value)}",
            {"window": _span(window), "compared_with": _span(history),
             "figures": {"priced_runs": mine.priced_runs, "cost_per_run_usd": _usd(value),
                         "usual_cost_per_run_usd": _usd(usual_value), "factor": round(factor, 2),
                         "spike_factor": monitor.spike_factor}})
    return found


def pii_finding(monitor: Monitor, agents: Sequence[Agent], now: datetime) -> dict[Any, Condition]:
    """Met while a run that started within the window has a PII or secret finding of the monitor's severity or
    worse. The evidence names the rule, where it was and its masked form, never the value."""
    window = _window_of(monitor, now)
    severities = SEVERITIES[SEVERITIES.index(monitor.severity):]
    leaking = Q(details__compliance__worst_severity__in=list(severities))
    rows = (Evaluation.objects.for_org(monitor.organisation)
            .filter(agent_id__in=[a.id for a in agents], status=EvaluationStatus.DONE, compliance_findings__gt=0,
                    started_at__gte=window.start, started_at__lt=window.end)
            .filter(leaking).order_by("-started_at").values_list("agent_id", "trace_id", "details__compliance"))
    by_agent: dict[Any, list[tuple[str, dict]]] = defaultdict(list)
    for agent_id, trace_id, compliance in rows[:500]:
        by_agent[agent_id].append((str(trace_id), compliance or {}))
    found = {}
    for agent in agents:
        runs = by_agent.get(agent.id)
        if not runs:
            found[agent.id] = NOT_MET
            continue
        findings = [{"rule": f.get("rule"), "severity": f.get("severity"), "where": excerpt(
                        f"{'span ' + str(f['span_id']) + ' ' if f.get('span_id') else ''}{f.get('field')} {f.get('path')}",
                        80),
                     "masked": excerpt(f.get("masked"), 60)}
                    for _, compliance in runs[:3] for f in (compliance.get("findings") or [])[:5]
                    if f.get("severity") in severities]
        rules = sorted({f["rule"] for f in findings if f["rule"]})
        found[agent.id] = Condition(
            True, f"{agent.name}: {len(runs)} run{'s' if len(runs) != 1 else ''} with {monitor.severity} or worse "
                  f"findings ({', '.join(rules)})",
            {"window": _span(window), "figures": {"runs": len(runs), "severity": monitor.severity},
             "findings": findings[:10], "runs": [trace_id for trace_id, _ in runs[:EVIDENCE_RUNS]]})
    return found


def silence(monitor: Monitor, agents: Sequence[Agent], now: datetime) -> dict[Any, Condition]:
    """Met when an agent that sent at least min_runs runs in the day before the window sent none within it."""
    window = _window_of(monitor, now)
    usual = Window(window.start - SILENCE_HISTORY, window.start)
    ids = [a.id for a in agents]
    recent, before = window_counts(monitor.organisation, ids, window), window_counts(monitor.organisation, ids, usual)
    pending = set(Evaluation.objects.for_org(monitor.organisation)
                  .filter(agent_id__in=ids, started_at__gte=window.start).values_list("agent_id", flat=True)
                  .distinct())
    found = {}
    for agent in agents:
        sent_before = before.get(agent.id, WindowCounts()).runs
        quiet = recent.get(agent.id, WindowCounts()).runs == 0 and agent.id not in pending
        found[agent.id] = Condition(
            quiet and sent_before >= monitor.min_runs,
            f"{agent.name}: no runs for {monitor.window_minutes} minutes (it sent {sent_before} the day before)",
            {"window": _span(window), "figures": {"runs": 0, "runs_the_day_before": sent_before,
                                                  "silent_minutes": monitor.window_minutes}})
    return found


def score_counts(monitor: Monitor, agent_ids: Sequence[Any], window: Window) -> dict[Any, WindowCounts]:
    """Per agent, the judged scores named `monitor.score_name` of runs that started in the window, and how many
    passed (scores a judge could not give are left out)."""
    rows = (Score.objects.for_org(monitor.organisation)
            .filter(name=monitor.score_name, status=ScoreStatus.DONE, passed__isnull=False,
                    trace__agent_id__in=agent_ids, trace__started_at__gte=window.start,
                    trace__started_at__lt=window.end)
            .values("trace__agent_id").annotate(n=Count("pk"), s=Count("pk", filter=Q(passed=True))))
    return {row["trace__agent_id"]: WindowCounts(runs=row["n"], successes=row["s"]) for row in rows}


def judge_pass_rate(monitor: Monitor, agents: Sequence[Agent], now: datetime) -> dict[Any, Condition]:
    """Met when the share of runs a judge's score passes over the window is significantly below the previous
    window's (or the named baseline's), by the engine's trend test, both with at least min_runs scores."""
    drops = _drops(monitor, agents, now, score_counts)
    name = excerpt(monitor.score_name, 120)
    found = {}
    for agent in agents:
        drop = drops[agent.id]
        found[agent.id] = NOT_MET if drop is None else Condition(
            drop.met, f"{agent.name}: {name} passes {drop.rate}% against {drop.previous_rate}% in "
                      f"{_against(monitor)} ({drop.trend['delta_pp']} pp, p={drop.trend['p_value']})",
            drop.evidence(monitor, {"score": name, "scored_runs": drop.current.runs, "pass_rate": drop.rate,
                                    "previous_scored_runs": drop.previous.runs,
                                    "previous_pass_rate": drop.previous_rate}))
    return found


CHECKS: dict[str, Callable[[Monitor, Sequence[Agent], datetime], dict[Any, Condition]]] = {
    MonitorKind.RELIABILITY_DROP: reliability_drop,
    MonitorKind.NEW_PATTERN: new_pattern,
    MonitorKind.REGRESSED_PATTERN: regressed_pattern,
    MonitorKind.COST_PER_RUN: cost_per_run,
    MonitorKind.COST_SPIKE: cost_spike,
    MonitorKind.PII_FINDING: pii_finding,
    MonitorKind.SILENCE: silence,
    MonitorKind.JUDGE_PASS_RATE: judge_pass_rate,
}


def check(monitor: Monitor, agents: Sequence[Agent], now: datetime) -> dict[Any, Condition]:
    """Per agent id, whether the monitor's condition holds now."""
    return CHECKS[monitor.kind](monitor, agents, now) if agents else {}
