"""Reads behind the dashboards (overview and agent page), scoped to one organisation.

Every figure comes from the hourly rollups (AgentHour): a window of any length is one indexed range read of
at most agents × hours rows, folded in Python, so the pages cost the same with a thousand runs or millions.
Only pass^k reads runs, and only a bounded sample of the most recent ones.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import BigIntegerField, Count, Q, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, TruncDay
from django.utils import timezone

from arcweb.models import Organisation
from evaluations import selectors as ev_selectors
from evaluations.engine import agreement, reliability
from evaluations.engine.reliability import LATENCY_EDGES_MS, WindowCounts
from evaluations.models import (
    AgentHour,
    Baseline,
    Evaluation,
    EvaluationStatus,
    FailurePattern,
    Feedback,
    PatternStatus,
)
from evaluations.rollups import hour_of
from traces.models import Agent, Trace

WINDOWS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
DEFAULT_WINDOW = "7d"
# Bucket of the charts and sparklines for each window: ~24-30 points whatever the window.
BUCKETS = {"24h": timedelta(hours=1), "7d": timedelta(hours=6), "30d": timedelta(days=1)}
OVERVIEW_PASS_K_SAMPLE = 1000  # per agent; the agent page estimates from 5000
HISTOGRAM_BUCKETS = len(LATENCY_EDGES_MS) + 1

_SUMMED = ("runs", "successes", "score_sum", "duration_ms_sum", "duration_ms_sq_sum", "llm_ms_sum", "tool_ms_sum",
           "tool_calls", "tool_errors", "cost_usd_sum", "cost_usd_sq_sum", "priced_runs", "compliance_passed")


def window_name(value: str | None) -> str:
    return value if value in WINDOWS else DEFAULT_WINDOW


@dataclass
class Bucket:
    runs: int = 0
    successes: int = 0
    cost: Decimal = Decimal(0)
    priced: int = 0
    duration: float = 0.0
    tool_ms: float = 0.0

    @property
    def reliability(self) -> float | None:
        return round(100 * self.successes / self.runs, 2) if self.runs else None

    @property
    def cost_per_run(self) -> float | None:
        return float(self.cost / self.priced) if self.priced else None

    @property
    def latency_s(self) -> float | None:
        return round(self.duration / self.runs / 1000, 3) if self.runs else None


@dataclass
class Fold:
    """One agent's rollup rows of the current and previous windows, with the chart buckets."""

    current: WindowCounts = field(default_factory=WindowCounts)
    previous: WindowCounts = field(default_factory=WindowCounts)
    savings: Decimal = Decimal(0)
    buckets: dict[int, Bucket] = field(default_factory=lambda: defaultdict(Bucket))


def _fold_rows(organisation: Organisation, agent_ids: list, *, window: str, now: datetime) -> dict[Any, Fold]:
    """Per agent: the current window's sums and latency histogram, the previous window's runs and successes
    (for the trend) and the chart buckets — summed by the database, not folded row by row in Python."""
    span, bucket = WINDOWS[window], BUCKETS[window]
    start = hour_of(now - span)
    hours = AgentHour.objects.for_org(organisation).filter(agent_id__in=agent_ids, hour__lt=now)
    current = Q(hour__gte=start)
    # One scan of both windows' rows: the current sums, the latency histogram summed element by element
    # (`latency_histogram->>i`, which reads each row once instead of expanding arrays into rows), and the
    # previous window's runs and successes for the trend.
    histogram = {f"h{i}": Sum(Cast(KeyTextTransform(str(i), "latency_histogram"), BigIntegerField()), filter=current)
                 for i in range(HISTOGRAM_BUCKETS)}
    sums = (hours.filter(hour__gte=hour_of(now - 2 * span)).values("agent_id")
            .annotate(**{f"c_{name}": Sum(name, filter=current) for name in (*_SUMMED, "savings_usd_sum")},
                      **histogram,
                      prev_runs=Sum("runs", filter=~current), prev_successes=Sum("successes", filter=~current)))
    folds: dict[Any, Fold] = defaultdict(Fold)
    for row in sums:
        fold = folds[row["agent_id"]]
        for name in _SUMMED:
            if row[f"c_{name}"] is not None:
                setattr(fold.current, name, row[f"c_{name}"])
        fold.savings = row["c_savings_usd_sum"] or Decimal(0)
        fold.previous.runs = row["prev_runs"] or 0
        fold.previous.successes = row["prev_successes"] or 0
        fold.current.latency_histogram = [int(row[f"h{i}"] or 0) for i in range(HISTOGRAM_BUCKETS)]
    in_window = hours.filter(current)
    if bucket >= timedelta(days=1):
        # Day buckets are summed by the database: 31 rows per agent instead of 720.
        rows = (in_window.annotate(moment=TruncDay("hour")).values("agent_id", "moment")
                .annotate(r=Sum("runs"), s=Sum("successes"), d=Sum("duration_ms_sum"), t=Sum("tool_ms_sum"),
                          c=Sum("cost_usd_sum"), p=Sum("priced_runs"))
                .values_list("agent_id", "moment", "r", "s", "d", "t", "c", "p"))
        origin = start.replace(hour=0)
    else:
        rows = in_window.values_list("agent_id", "hour", "runs", "successes", "duration_ms_sum", "tool_ms_sum",
                                     "cost_usd_sum", "priced_runs")
        origin = start
    for agent_id, moment, runs, successes, duration, tool_ms, cost, priced in rows:
        b = folds[agent_id].buckets[int((moment - origin) / bucket)]
        b.runs += runs
        b.successes += successes
        b.duration += duration
        b.tool_ms += tool_ms
        b.cost += cost
        b.priced += priced
    return folds


def bucket_starts(window: str, now: datetime) -> list[datetime]:
    span, bucket = WINDOWS[window], BUCKETS[window]
    start = hour_of(now - span)
    if bucket >= timedelta(days=1):
        start = start.replace(hour=0)  # calendar days (UTC), as the database truncates them
    count = int((now - start) / bucket) + 1
    return [start + i * bucket for i in range(count)]


def _figures(organisation: Organisation, agent: Agent, fold: Fold, *, window: str, now: datetime,
             pass_k_sample: int) -> dict[str, Any]:
    start = now - WINDOWS[window]
    tasks = pass_k_tasks(organisation, agent, start, now, pass_k_sample) if fold.current.runs else []
    figures = reliability.rollup(fold.current, fold.previous if fold.previous.runs else None, tasks)
    current = fold.current
    cost_total = current.cost_usd_sum
    figures.update({
        "agent": agent,
        "open_compliance_findings": current.runs - current.compliance_passed,
        "tool_calls": current.tool_calls,
        "tool_errors": current.tool_errors,
        "cost_total_usd": cost_total,
        "savings_total_usd": fold.savings,
        "savings_per_run_usd": (fold.savings / current.priced_runs) if current.priced_runs else None,
        "reduction_pct": round(float(fold.savings / cost_total * 100), 1) if cost_total > 0 else 0.0,
        "cost_per_run": (cost_total / current.priced_runs) if current.priced_runs else None,
        "pass_k_best": _pass_k_best(figures["pass_k"]),
    })
    return figures


def _pass_k_best(curve: dict[str, float | None]) -> tuple[int, float] | None:
    """The largest k with an estimate (pass^k is only defined from tasks run at least k times)."""
    known = [(int(k), v) for k, v in curve.items() if v is not None]
    return max(known) if known else None


def pass_k_tasks(organisation: Organisation, agent: Agent, start: datetime, end: datetime,
                 sample: int) -> list[tuple[int, int]]:
    """(runs, successes) per input fingerprint among the window's latest `sample` runs."""
    runs = (Evaluation.objects.for_org(organisation)
            .filter(agent=agent, started_at__gte=start, started_at__lt=end)
            .order_by("-started_at")
            .values_list("input_fingerprint", "status", "success", "label_success")[:sample])
    tasks: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for fingerprint, status, success, label in runs:
        if not fingerprint or status != EvaluationStatus.DONE:
            continue
        tasks[fingerprint][0] += 1
        tasks[fingerprint][1] += bool(label if label is not None else success)
    return [(n, s) for n, s in tasks.values()]


def overview(organisation: Organisation, *, window: str, now: datetime | None = None) -> list[dict[str, Any]]:
    """Every agent's figures over the window, with a sparkline series of reliability per bucket."""
    now = now or timezone.now()
    agents = list(Agent.objects.for_org(organisation).order_by("name"))
    folds = _fold_rows(organisation, [a.id for a in agents], window=window, now=now)
    starts = bucket_starts(window, now)
    rows = []
    for agent in agents:
        fold = folds.get(agent.id) or Fold()
        figures = _figures(organisation, agent, fold, window=window, now=now,
                           pass_k_sample=OVERVIEW_PASS_K_SAMPLE)
        figures["spark"] = [fold.buckets[i].reliability if i in fold.buckets else None
                            for i in range(len(starts))]
        rows.append(figures)
    return rows


def last_run_at(organisation: Organisation) -> datetime | None:
    """When the newest run arrived, by the server's clock (a client's clock cannot make a run look live; the
    index on (organisation, received_at) answers this from its last entry)."""
    return (Trace.objects.for_org(organisation).order_by("-received_at")
            .values_list("received_at", flat=True).first())


def has_traces(organisation: Organisation) -> bool:
    return Trace.objects.for_org(organisation).exists()


def agent_page(organisation: Organisation, agent: Agent, *, window: str,
               now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    fold = _fold_rows(organisation, [agent.id], window=window, now=now).get(agent.id) or Fold()
    figures = _figures(organisation, agent, fold, window=window, now=now,
                       pass_k_sample=ev_selectors.PASS_K_SAMPLE)
    starts = bucket_starts(window, now)
    series = [(moment, fold.buckets.get(i)) for i, moment in enumerate(starts)]
    figures["series"] = {
        "reliability": [(m, b.reliability if b else None) for m, b in series],
        "cost": [(m, b.cost_per_run if b else None) for m, b in series],
        "latency": [(m, b.latency_s if b else None) for m, b in series],
    }
    mean_ms = figures.get("latency_mean_ms")
    figures["tool_time_ms"] = (mean_ms * figures["time_split"]["tool"]) if mean_ms else None
    return figures


def top_patterns(organisation: Organisation, agent: Agent, limit: int = 5) -> list[FailurePattern]:
    return list(FailurePattern.objects.for_org(organisation).filter(agent=agent)
                .exclude(status=PatternStatus.RESOLVED).order_by("-occurrences")[:limit])


SAVINGS_SAMPLE = 300
SAVING_TITLES = {
    "cheaper_model": "Use a cheaper model for simple calls",
    "prompt_caching": "Cache repeated prompt prefixes",
    "duplicate_calls": "Reuse identical calls within a run",
    "retries": "Stop paying for failed calls",
}


def savings_breakdown(organisation: Organisation, agent: Agent, *, total: Decimal, start: datetime,
                      end: datetime) -> list[dict[str, Any]]:
    """The window's savings (`total`, from the rollups) split by kind in the proportions of a recent sample.

    Only the `cost.savings` part of each sampled run's details is read, not the whole document.
    """
    sample = (Evaluation.objects.for_org(organisation)
              .filter(agent=agent, started_at__gte=start, started_at__lt=end, savings_usd__gt=0)
              .order_by("-started_at").values_list("details__cost__savings", flat=True)[:SAVINGS_SAMPLE])
    by_kind: dict[str, dict[str, Any]] = {}
    sampled = Decimal(0)
    for savings in sample:
        for item in savings or []:
            if not isinstance(item, dict):
                continue
            kind = str(item.get("kind") or "other")
            try:
                amount = Decimal(str(item.get("amount_usd") or 0))
            except ArithmeticError:
                continue
            entry = by_kind.setdefault(kind, {"kind": kind, "title": SAVING_TITLES.get(kind, kind.replace("_", " ")),
                                              "sample_usd": Decimal(0), "runs": 0, "detail": "", "options": []})
            entry["sample_usd"] += amount
            entry["runs"] += 1
            entry["detail"] = entry["detail"] or str(item.get("detail") or "")
            entry["options"] = entry["options"] or [str(o) for o in (item.get("options") or [])][:3]
            sampled += amount
    rows = []
    for entry in by_kind.values():
        share = entry["sample_usd"] / sampled if sampled else Decimal(0)
        entry["window_usd"] = (total * share).quantize(Decimal("0.01")) if total else Decimal(0)
        entry["share_pct"] = round(float(share * 100), 1)
        rows.append(entry)
    return sorted(rows, key=lambda e: -e["window_usd"])


def baselines_for(organisation: Organisation, agent: Agent | None = None):
    queryset = Baseline.objects.for_org(organisation).select_related("agent").order_by("-created_at")
    return queryset.filter(agent=agent) if agent is not None else queryset


def pattern_counts(organisation: Organisation, agent: Agent) -> dict[str, int]:
    return FailurePattern.objects.for_org(organisation).filter(agent=agent).aggregate(
        open=Count("id", filter=Q(status__in=[PatternStatus.OPEN, PatternStatus.REGRESSED])),
        total=Count("id"))


def agreement_by_agent(organisation: Organisation) -> dict[Any, dict[str, Any]]:
    """Accuracy and Cohen's kappa of the automatic verdicts against the team's labels, per agent.

    Driven by the labels (few) rather than the runs (many): the runs looked at are those with feedback.
    """
    labelled = Feedback.objects.for_org(organisation).filter(correct__isnull=False).values("trace_id")
    cells = (Evaluation.objects.for_org(organisation)
             .filter(trace_id__in=labelled, label_success__isnull=False, status=EvaluationStatus.DONE)
             .values("agent_id")
             .annotate(both_pass=Count("id", filter=Q(success=True, label_success=True)),
                       both_fail=Count("id", filter=Q(success=False, label_success=False)),
                       auto_pass_human_fail=Count("id", filter=Q(success=True, label_success=False)),
                       auto_fail_human_pass=Count("id", filter=Q(success=False, label_success=True))))
    return {row.pop("agent_id"): agreement.from_counts(**row).as_dict() for row in cells}
