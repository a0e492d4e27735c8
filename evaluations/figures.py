"""Agent figures: the one source of every number about an agent over a window.

The API, the overview, the agent page, compare, the CLI (through the API) and report snapshots all read
`agent_figures`; none computes a figure of its own. Everything comes from the hourly rollups (`AgentHour`):
a window of any length is one indexed range read of at most agents × hours rows, summed by the database.
Only pass^k reads runs — the window's latest `PASS_K_SAMPLE` evaluated runs per agent, grouped by task in
the database. A run still pending has no verdict yet: it is in no figure (the rollups count a run when it is
evaluated, and pass^k samples evaluated runs only), so every page agrees while the workers catch up.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import BigIntegerField, Count, Q, Sum, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, TruncDay

from arcweb import formatting
from arcweb.models import Organisation
from arcweb.windows import Window, WindowsOverlap, hour_of
from traces.models import Agent
from traces.verdicts import verdict_q, verdict_value

from .engine import compare, reliability
from .engine.reliability import LATENCY_EDGES_MS, WindowCounts
from .models import AgentHour, Evaluation, EvaluationStatus

PASS_K_SAMPLE = 5000  # pass^k is estimated from the window's latest evaluated runs of the agent, at most this many
CENT_FRACTIONS = Decimal("0.00000001")  # money is stored to 8 decimals
HISTOGRAM_BUCKETS = len(LATENCY_EDGES_MS) + 1
SUMMED = ("runs", "successes", "score_sum", "timed_runs", "duration_ms_sum", "duration_ms_sq_sum", "llm_ms_sum", "tool_ms_sum",
          "tool_calls", "tool_errors", "cost_usd_sum", "cost_usd_sq_sum", "priced_runs", "compliance_passed")
# What the engine's rollup computes and an AgentFigures carries as it is.
ENGINE_FIGURES = ("runs", "successes", "reliability", "wilson_low", "wilson_high", "grade", "mean_score", "pass_k",
                  "trend", "latency_p50_ms", "latency_p95_ms", "latency_mean_ms", "time_split", "tool_success",
                  "compliance_passed")


@dataclass(frozen=True)
class AgentFigures:
    """An agent's figures over a window. Rates in percent, pass^k and tool success as fractions, money in USD."""

    agent: Agent
    window: Window
    runs: int
    successes: int
    reliability: float
    wilson_low: float
    wilson_high: float
    grade: str | None
    mean_score: float | None
    pass_k: dict[str, float | None]
    trend: dict[str, Any] | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_mean_ms: float | None
    time_split: dict[str, float]
    tool_success: float | None
    compliance_passed: int
    tool_calls: int
    tool_errors: int
    cost_per_run_usd: Decimal | None
    cost_total_usd: Decimal
    savings_total_usd: Decimal
    savings_per_run_usd: Decimal | None
    reduction_pct: float

    @property
    def open_compliance_findings(self) -> int:
        """Runs in the window with a failed compliance rule."""
        return self.runs - self.compliance_passed

    @property
    def pass_k_best(self) -> tuple[int, float] | None:
        """The largest k with an estimate (pass^k is only defined from tasks run at least k times)."""
        known = [(int(k), v) for k, v in self.pass_k.items() if v is not None]
        return max(known) if known else None

    @property
    def tool_time_ms(self) -> float | None:
        """Of the mean run, the time spent in tool calls."""
        return self.latency_mean_ms * self.time_split["tool"] if self.latency_mean_ms else None

    def as_dict(self) -> dict[str, Any]:
        """The figures as the API and report snapshots carry them (money as strings, exact)."""
        values = {name: getattr(self, name) for name in FIGURE_FIELDS}
        values.update({"agent": self.agent.name, "agent_id": str(self.agent.id), "window": self.window.name,
                       "window_start": self.window.start, "window_end": self.window.end,
                       "open_compliance_findings": self.open_compliance_findings})
        for name in ("cost_per_run_usd", "cost_total_usd", "savings_total_usd", "savings_per_run_usd"):
            values[name] = None if values[name] is None else str(values[name])
        return values

    def display(self) -> dict[str, str]:
        """The headline figures as every page writes them, for clients that print them (the CLI)."""
        best = self.pass_k_best
        return {
            "reliability": formatting.percent(self.reliability) if self.runs else formatting.DASH,
            "interval": f"{formatting.percent(self.wilson_low)} – {formatting.percent(self.wilson_high)}"
            if self.runs else formatting.DASH,
            "grade": self.grade or formatting.DASH,
            "pass_k": " · ".join(f"k={k}: {formatting.share(v)}" for k, v in self.pass_k.items() if v is not None)
            or formatting.DASH,
            "pass_k_best": f"{formatting.share(best[1])} (k={best[0]})" if best else formatting.DASH,
            "cost_per_run": formatting.usd(self.cost_per_run_usd),
            "cost_total": formatting.usd(self.cost_total_usd, 2),
            "reduction": f"{self.reduction_pct:g}%",
            "tool_success": formatting.share(self.tool_success),
            "latency_p50": formatting.duration(self.latency_p50_ms),
            "latency_p95": formatting.duration(self.latency_p95_ms),
            "runs": f"{self.runs:,}",
        }


FIGURE_FIELDS = tuple(name for name in AgentFigures.__dataclass_fields__ if name not in ("agent", "window"))


@dataclass
class _Sums:
    """One agent's rollup rows summed over the window and the window before it."""

    current: WindowCounts = field(default_factory=WindowCounts)
    previous: WindowCounts = field(default_factory=WindowCounts)
    savings: Decimal = Decimal(0)


def _sums(organisation: Organisation, agent_ids: Sequence[Any], window: Window) -> dict[Any, _Sums]:
    """Per agent, in one scan of both windows' rollup rows: the window's sums and latency histogram (summed
    element by element, `latency_histogram->>i`, reading each row once), and the previous window's runs and
    successes (for the trend)."""
    current = Q(hour__gte=hour_of(window.start))
    histogram = {f"h{i}": Sum(Cast(KeyTextTransform(str(i), "latency_histogram"), BigIntegerField()), filter=current)
                 for i in range(HISTOGRAM_BUCKETS)}
    rows = (AgentHour.objects.for_org(organisation)
            .filter(agent_id__in=agent_ids, hour__gte=hour_of(window.previous.start), hour__lt=window.end)
            .values("agent_id")
            .annotate(**{f"c_{name}": Sum(name, filter=current) for name in (*SUMMED, "savings_usd_sum")},
                      **histogram,
                      prev_runs=Sum("runs", filter=~current), prev_successes=Sum("successes", filter=~current)))
    found: dict[Any, _Sums] = defaultdict(_Sums)
    for row in rows:
        sums = found[row["agent_id"]]
        for name in SUMMED:
            if row[f"c_{name}"] is not None:
                setattr(sums.current, name, row[f"c_{name}"])
        sums.current.latency_histogram = [int(row[f"h{i}"] or 0) for i in range(HISTOGRAM_BUCKETS)]
        sums.savings = row["c_savings_usd_sum"] or Decimal(0)
        sums.previous.runs = row["prev_runs"] or 0
        sums.previous.successes = row["prev_successes"] or 0
    return found


def pass_k_tasks(organisation: Organisation, agent_ids: Sequence[Any],
                 window: Window) -> dict[Any, list[tuple[int, int]]]:
    """Per agent, (runs, successes) per task (input fingerprint) among the window's latest PASS_K_SAMPLE evaluated
    runs of the agent — for all the agents in one query, each sample read from the `eval_pass_k_sample` index alone."""
    samples = [(Evaluation.objects.for_org(organisation)
                .filter(agent_id=agent_id, status=EvaluationStatus.DONE, started_at__gte=hour_of(window.start),
                        started_at__lt=window.end)
                .exclude(input_fingerprint="").order_by("-started_at")
                .values("input_fingerprint", sample=Value(i), passed=verdict_value())[:PASS_K_SAMPLE]).query.sql_with_params()
               for i, agent_id in enumerate(agent_ids)]
    if not samples:
        return {}
    # The ORM can neither count the rows of limited queries put together nor (on SQLite) put them in one UNION, so
    # the samples selected above are joined and counted here, in the database: per agent, how many tasks had each
    # (runs, successes) — a few dozen rows, however many runs and tasks. Only the ORM's SQL goes into the strings.
    runs = " UNION ALL ".join(f"SELECT * FROM ({sql}) AS part" for sql, _ in samples)  # noqa: S608  # nosec B608
    counted = ("SELECT sample, n, s, COUNT(*) FROM (SELECT sample, COUNT(*) AS n, "  # noqa: S608  # nosec B608
               f"SUM(CASE WHEN passed THEN 1 ELSE 0 END) AS s FROM ({runs}) AS runs "
               "GROUP BY sample, input_fingerprint) AS tasks GROUP BY sample, n, s")
    found: dict[Any, list[tuple[int, int]]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(counted, [value for _, params in samples for value in params])
        for sample, n, successes, tasks in cursor.fetchall():
            found[agent_ids[sample]] += [(n, successes)] * tasks
    return found


def window_counts(organisation: Organisation, agent_ids: Sequence[Any], window: Window) -> dict[Any, WindowCounts]:
    """Per agent, the evaluated runs that started in the window, to the second, with their successes and cost:
    for rolling windows shorter than the rollups' hours (monitors). Hand them to the engine's `reliability.rollup`
    for the rate, the trend and the cost per run, as `agent_figures` does with the rollups' sums."""
    rows = (Evaluation.objects.for_org(organisation)
            .filter(agent_id__in=agent_ids, status=EvaluationStatus.DONE, started_at__gte=window.start,
                    started_at__lt=window.end)
            .values("agent_id")
            .annotate(n=Count("pk"), s=Count("pk", filter=verdict_q()), cost=Sum("cost_usd"),
                      priced=Count("pk", filter=Q(cost_usd__isnull=False))))
    return {row["agent_id"]: WindowCounts(runs=row["n"], successes=row["s"], cost_usd_sum=row["cost"] or Decimal(0),
                                          priced_runs=row["priced"]) for row in rows}


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT_FRACTIONS)


def _figures(agent: Agent, window: Window, sums: _Sums, tasks: list[tuple[int, int]]) -> AgentFigures:
    current = sums.current
    engine = reliability.rollup(current, sums.previous, tasks)
    priced = current.priced_runs
    return AgentFigures(
        agent=agent, window=window, **{name: engine[name] for name in ENGINE_FIGURES},
        tool_calls=current.tool_calls, tool_errors=current.tool_errors,
        cost_per_run_usd=_money(Decimal(engine["cost_per_run_usd"])) if engine["cost_per_run_usd"] else None,
        cost_total_usd=current.cost_usd_sum,
        savings_total_usd=sums.savings,
        savings_per_run_usd=_money(sums.savings / priced) if priced and current.cost_usd_sum > 0 else None,
        reduction_pct=round(float(sums.savings / current.cost_usd_sum * 100), 1) if current.cost_usd_sum > 0 else 0.0,
    )


def agent_figures(organisation: Organisation, agents: Iterable[Agent], window: Window) -> list[AgentFigures]:
    """The figures of each agent over the window, in the order given."""
    agents = list(agents)
    sums = _sums(organisation, [a.id for a in agents], window)
    tasks = pass_k_tasks(organisation, [a.id for a in agents if a.id in sums and sums[a.id].current.runs], window)
    return [_figures(agent, window, sums.get(agent.id) or _Sums(), tasks.get(agent.id, [])) for agent in agents]


def figures_of(organisation: Organisation, agent: Agent, window: Window) -> AgentFigures:
    return agent_figures(organisation, [agent], window)[0]


def combined(figures: Sequence[AgentFigures]) -> dict[str, Any]:
    """Runs, reliability, its interval and grade of several agents taken together (a report's headline), by
    the engine's own rollup — for one agent, exactly that agent's."""
    counts = WindowCounts(runs=sum(f.runs for f in figures), successes=sum(f.successes for f in figures))
    engine = reliability.rollup(counts)
    return {"runs": counts.runs, "successes": counts.successes,
            "reliability": engine["reliability"] if counts.runs else None, "wilson_low": engine["wilson_low"],
            "wilson_high": engine["wilson_high"], "grade": engine["grade"]}


def compare_windows(organisation: Organisation, agent: Agent, before: Window, after: Window) -> list[dict[str, Any]]:
    """Each metric of two windows of one agent side by side, with its delta and whether it is significant.

    Windows that overlap are refused (WindowsOverlap): runs in both would be compared with themselves."""
    if before.overlaps(after):
        raise WindowsOverlap(before, after)
    counts = [_sums(organisation, [agent.id], w).get(agent.id, _Sums()).current for w in (before, after)]
    return compare.compare(*counts)


# --- figures over time (charts) --------------------------------------------------------------------------------

@dataclass
class Bucket:
    start: datetime
    runs: int = 0
    successes: int = 0
    cost: Decimal = Decimal(0)
    priced: int = 0
    timed: int = 0
    duration_ms: float = 0.0

    @property
    def reliability(self) -> float | None:
        return round(100 * self.successes / self.runs, 2) if self.runs else None

    @property
    def cost_per_run(self) -> float | None:
        return float(self.cost / self.priced) if self.priced else None

    @property
    def latency_s(self) -> float | None:
        return round(self.duration_ms / self.timed / 1000, 3) if self.timed else None


def chart_bucket(window: Window) -> timedelta:
    """~24-30 points whatever the window: an hour for a day, 6 hours for a week, a day beyond."""
    if window.span <= timedelta(days=2):
        return timedelta(hours=1)
    return timedelta(hours=6) if window.span <= timedelta(days=8) else timedelta(days=1)


def series(organisation: Organisation, agent_ids: Sequence[Any], window: Window,
           bucket: timedelta) -> dict[Any, list[Bucket]]:
    """Per agent, the window cut into buckets (oldest first; day buckets start at midnight UTC), each with the
    runs, successes, cost and time of the rollup hours in it."""
    origin = hour_of(window.start)
    daily = bucket >= timedelta(days=1)
    if daily:
        origin = origin.replace(hour=0)
    count = int((window.end - origin) / bucket) + 1
    found = {agent_id: [Bucket(origin + i * bucket) for i in range(count)] for agent_id in agent_ids}
    hours = AgentHour.objects.for_org(organisation).filter(agent_id__in=agent_ids, hour__gte=hour_of(window.start),
                                                           hour__lt=window.end)
    if daily:  # summed per day by the database: 31 rows per agent instead of 720
        rows = (hours.annotate(moment=TruncDay("hour")).values("agent_id", "moment")
                .annotate(r=Sum("runs"), s=Sum("successes"), t=Sum("timed_runs"), d=Sum("duration_ms_sum"),
                          c=Sum("cost_usd_sum"), p=Sum("priced_runs"))
                .values_list("agent_id", "moment", "r", "s", "t", "d", "c", "p"))
    else:
        rows = hours.values_list("agent_id", "hour", "runs", "successes", "timed_runs", "duration_ms_sum",
                                 "cost_usd_sum", "priced_runs")
    for agent_id, moment, runs, successes, timed, duration, cost, priced in rows:
        b = found[agent_id][min(int((moment - origin) / bucket), count - 1)]
        b.runs += runs
        b.successes += successes
        b.timed += timed
        b.duration_ms += duration
        b.cost += cost
        b.priced += priced
    return found


def totals(organisation: Organisation, agent: Agent) -> WindowCounts:
    """The agent's runs and successes over all time (what pattern impacts are measured against)."""
    sums = AgentHour.objects.for_org(organisation).filter(agent=agent).aggregate(r=Sum("runs"), s=Sum("successes"))
    return WindowCounts(runs=sums["r"] or 0, successes=sums["s"] or 0)
