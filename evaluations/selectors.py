"""Reads of what we concluded, scoped to one organisation: agents, patterns and their fixes, plans, labels.

Figures of an agent over a window (reliability, pass^k, cost, …) are not here: they come from `figures`.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import BooleanField, Count, ExpressionWrapper, Q, QuerySet
from django.db.models.functions import TruncDay
from django.utils import timezone

from arcweb.models import Membership, Organisation
from arcweb.windows import Window, hour_of
from traces.models import Agent, Trace
from traces.selectors import uuid_text

from . import figures
from .engine import agreement, plan, remediation, scenarios
from .engine.failures import TAXONOMY
from .models import Baseline, Evaluation, EvaluationStatus, FailurePattern, Feedback, PatternStatus

QUEUE_SIZE = 15
MAX_SKIPPED = 50
MAX_NAMED = 10  # baselines listed in a "no such baseline" message
TREND_DAYS = 14
SAVINGS_SAMPLE = 300
SAVING_TITLES = {
    "cheaper_model": "Use a cheaper model for simple calls",
    "prompt_caching": "Cache repeated prompt prefixes",
    "duplicate_calls": "Reuse identical calls within a run",
    "retries": "Stop paying for failed calls",
}


def find_agent(organisation: Organisation, ident: str) -> Agent | None:
    """An agent by its id or by its name."""
    agents = Agent.objects.for_org(organisation)
    try:
        return agents.filter(id=uuid.UUID(str(ident))).first()
    except ValueError:
        return agents.filter(name=ident).first()


def agents_of(organisation: Organisation) -> QuerySet[Agent]:
    return Agent.objects.for_org(organisation).order_by("name")


# --- failure patterns ----------------------------------------------------------------------------------------

def patterns_for(organisation: Organisation) -> QuerySet[FailurePattern]:
    return FailurePattern.objects.for_org(organisation).select_related("agent").order_by("-last_seen")


def top_patterns(organisation: Organisation, agent: Agent, limit: int = 5) -> list[FailurePattern]:
    return list(FailurePattern.objects.for_org(organisation).filter(agent=agent)
                .exclude(status=PatternStatus.RESOLVED).order_by("-occurrences")[:limit])


@dataclass(frozen=True)
class PatternFilters:
    """The pattern list's filters, already validated: an unknown value is dropped, never an error page."""

    agent: str = ""
    status: str = ""
    category: str = ""

    @classmethod
    def from_query(cls, params: Any) -> PatternFilters:
        status, category = params.get("status", ""), params.get("category", "")
        return cls(agent=uuid_text(params.get("agent")), status=status if status in PatternStatus.values else "",
                   category=category if category in TAXONOMY else "")


@dataclass
class PatternRow:
    pattern: FailurePattern
    daily: list[int] = field(default_factory=list)

    @property
    def recent(self) -> int:
        return sum(self.daily[7:])

    @property
    def prior(self) -> int:
        return sum(self.daily[:7])

    @property
    def direction(self) -> str:
        return "up" if self.recent > self.prior else ("down" if self.recent < self.prior else "flat")


def pattern_rows(organisation: Organisation, filters: PatternFilters, limit: int = 200) -> list[PatternRow]:
    """The patterns, most frequent first, with their occurrences per day over the last two weeks."""
    queryset = patterns_for(organisation).order_by("-occurrences")
    if filters.agent:
        queryset = queryset.filter(agent_id=filters.agent)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.category:
        queryset = queryset.filter(category=filters.category)
    patterns = list(queryset[:limit])
    counts = _daily_counts(organisation, patterns)
    days = [timezone.now().date() - timedelta(days=i) for i in range(TREND_DAYS - 1, -1, -1)]
    return [PatternRow(p, [counts.get((p.agent_id, p.fingerprint), {}).get(d, 0) for d in days]) for p in patterns]


def _daily_counts(organisation: Organisation, patterns: list[FailurePattern]) -> dict[tuple, dict[date, int]]:
    """Occurrences per day over the last two weeks for the listed patterns (one grouped query)."""
    if not patterns:
        return {}
    rows = (Evaluation.objects.for_org(organisation)
            .filter(started_at__gte=timezone.now() - timedelta(days=TREND_DAYS),
                    agent_id__in={p.agent_id for p in patterns}, failure_fingerprint__in={p.fingerprint for p in patterns})
            .annotate(day=TruncDay("started_at")).values("agent_id", "failure_fingerprint", "day")
            .annotate(n=Count("id")))
    counts: dict[tuple, dict[date, int]] = defaultdict(dict)
    for row in rows:
        counts[(row["agent_id"], row["failure_fingerprint"])][row["day"].date()] = row["n"]
    return counts


def pattern_examples(organisation: Organisation, pattern: FailurePattern) -> QuerySet[Trace]:
    return (Trace.objects.for_org(organisation)
            .filter(id__in=[i for i in pattern.example_traces if uuid_text(i)])
            .select_related("evaluation", "agent").defer("spans", "metadata").order_by("-started_at"))


def pattern_scenarios(pattern: FailurePattern, limit: int = 20) -> list[scenarios.Scenario]:
    return scenarios.generate(category=pattern.category, message=pattern.message, step=pattern.step,
                              fingerprint=pattern.fingerprint, example_inputs=pattern.example_inputs, limit=limit)


@dataclass(frozen=True)
class ScenarioFile:
    text: str
    content_type: str
    filename: str


def scenario_file(pattern: FailurePattern, fmt: str, *, module: str = "my_agent",
                  function: str = "run_agent") -> ScenarioFile:
    """A pattern's scenarios as a JSONL file or a pytest module (ValueError for a module name that is not one)."""
    found = pattern_scenarios(pattern)
    if fmt == "jsonl":
        return ScenarioFile(scenarios.to_jsonl(found), "application/x-ndjson", f"scenarios-{pattern.id}.jsonl")
    return ScenarioFile(scenarios.to_pytest(found, module=module, function=function), "text/x-python",
                        "test_arc_eval_scenarios.py")


def pattern_fixes(pattern: FailurePattern) -> list[dict[str, Any]]:
    """Fixes for the pattern, aimed at its failing step; the impact is the share of the agent's failing runs it
    explains, and the reliability points its absence would add over all of the agent's runs. The one source
    of a fix's impact: the pattern page, the trace page, the API, the CLI and reports read it here."""
    counts = figures.totals(pattern.organisation, pattern.agent)
    failing = counts.runs - counts.successes
    stats = plan.PatternStats(pattern.fingerprint, pattern.category, pattern.occurrences,
                              max(counts.runs, pattern.occurrences), step=pattern.step)
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


def improvement_plan(organisation: Organisation, agent: Agent, *, weeks: int = 8) -> dict[str, Any]:
    """Open patterns ranked by the reliability they cost, each with its scenarios simplest first, and the
    agent's reliability per week (the plan's progress)."""
    total_runs = figures.totals(organisation, agent).runs
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
    now = timezone.now()
    weekly = figures.series(organisation, [agent.id], Window(hour_of(now) - timedelta(weeks=weeks), now),
                            timedelta(weeks=1))[agent.id]
    return {"agent": agent.name, "runs": total_runs, "open": ranked,
            "fix_applied": sum(s == PatternStatus.FIX_APPLIED for s in closed),
            "resolved": sum(s == PatternStatus.RESOLVED for s in closed),
            "progress": [{"week_start": b.start, "runs": b.runs, "reliability": b.reliability}
                         for b in weekly[-weeks:]]}


# --- savings -------------------------------------------------------------------------------------------------

def savings_breakdown(organisation: Organisation, agent_figures: figures.AgentFigures) -> list[dict[str, Any]]:
    """The window's savings (from the rollups) split by kind in the proportions of a recent sample of runs.

    Only the `cost.savings` part of each sampled run's details is read, not the whole document.
    """
    window, total = agent_figures.window, agent_figures.savings_total_usd
    sample = (Evaluation.objects.for_org(organisation)
              .filter(agent=agent_figures.agent, started_at__gte=window.start, started_at__lt=window.end,
                      savings_usd__gt=0)
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


# --- baselines -----------------------------------------------------------------------------------------------

def baselines_for(organisation: Organisation, agent: Agent | None = None) -> QuerySet[Baseline]:
    queryset = Baseline.objects.for_org(organisation).select_related("agent").order_by("-created_at")
    return queryset.filter(agent=agent) if agent is not None else queryset


def baseline_window(baseline: Baseline) -> Window:
    return Window(baseline.start, baseline.end)


def baselines_named(organisation: Organisation, name: str) -> QuerySet[Baseline]:
    return baselines_for(organisation).filter(name=name)


class BaselineNotFound(LookupError):
    """No such baseline: the message names the ones there are."""


class AmbiguousBaseline(LookupError):
    """Several agents have a baseline of this name."""


def find_baseline(organisation: Organisation, ident: str, *, agent: Agent | None = None) -> Baseline:
    """A baseline by its id, or by its name — unique per agent, so `agent` picks when several agents use it."""
    try:
        found = list(baselines_for(organisation).filter(id=uuid.UUID(str(ident))))
    except ValueError:
        found = list(baselines_for(organisation, agent).filter(name=ident)[:MAX_NAMED])
    if len(found) > 1:
        raise AmbiguousBaseline(f"several agents have a baseline named {ident!r} "
                                f"({', '.join(b.agent.name for b in found)}): name the agent too")
    if not found:
        known = ", ".join(f"{b.name!r} ({b.agent.name})" for b in baselines_for(organisation, agent)[:MAX_NAMED])
        raise BaselineNotFound(f"no baseline {str(ident)[:120]!r}" + (f"; there are {known}" if known else
                                                                      "; save one first (POST /api/v1/baselines)"))
    return found[0]


# --- labels --------------------------------------------------------------------------------------------------

def label_agreement(organisation: Organisation, agent: Agent | None = None) -> dict[Any, dict[str, Any]]:
    """Accuracy and Cohen's kappa of the automatic verdicts against the team's labels, per agent id.

    Driven by the labels (few) rather than the runs (many): the runs looked at are those with feedback.
    """
    labelled = Feedback.objects.for_org(organisation).filter(correct__isnull=False).values("trace_id")
    runs = Evaluation.objects.for_org(organisation).filter(trace_id__in=labelled, label_success__isnull=False,
                                                           status=EvaluationStatus.DONE)
    if agent is not None:
        runs = runs.filter(agent=agent)
    cells = runs.values("agent_id").annotate(
        both_pass=Count("id", filter=Q(success=True, label_success=True)),
        both_fail=Count("id", filter=Q(success=False, label_success=False)),
        auto_pass_human_fail=Count("id", filter=Q(success=True, label_success=False)),
        auto_fail_human_pass=Count("id", filter=Q(success=False, label_success=True)))
    return {row.pop("agent_id"): agreement.from_counts(**row).as_dict() for row in cells}


def agent_agreement(organisation: Organisation, agent: Agent) -> dict[str, Any]:
    """One agent's agreement (with no labels: none counted)."""
    return label_agreement(organisation, agent).get(agent.id) or agreement.agreement([]).as_dict()


@dataclass(frozen=True)
class QueueScope:
    """A narrower labelling queue an app above evaluations serves (judges: the runs where a judge and the team's
    labels disagree), registered by name from its AppConfig.ready, so evaluations imports none of them. Its runs may
    be labelled already (a disagreement is relabelled there)."""

    title: Callable[[Organisation, str], str | None]  # what the queue holds; None: the organisation has no such thing
    runs: Callable[[Organisation, str], QuerySet]  # the trace ids in it, as a subquery


QUEUE_SCOPES: dict[str, QueueScope] = {}


@dataclass(frozen=True)
class QueueFilters:
    """The labelling queue's filters, already validated: an unknown value is dropped, never an error page."""

    agent: str = ""
    assigned: str = ""
    auto: str = ""
    skip: tuple[str, ...] = ()
    scope: str = ""  # "<name>:<id>" of a registered QueueScope

    @classmethod
    def from_query(cls, params: Any) -> QueueFilters:
        skipped = [text for raw in (params.get("skip") or "").split(",")[:MAX_SKIPPED] if (text := uuid_text(raw))]
        assigned, auto = params.get("assigned", ""), params.get("auto", "")
        name, _, key = (params.get("scope") or "").partition(":")
        scope = f"{name}:{uuid_text(key)}" if name in QUEUE_SCOPES and uuid_text(key) else ""
        return cls(agent=uuid_text(params.get("agent")), assigned=assigned if assigned in ("me", "unassigned") else "",
                   auto=auto if auto in ("pass", "fail") else "", skip=tuple(skipped), scope=scope)

    def query(self, **extra: str) -> dict[str, str]:
        values = {"agent": self.agent, "assigned": self.assigned, "auto": self.auto, "skip": ",".join(self.skip),
                  "scope": self.scope, **extra}
        return {k: v for k, v in values.items() if v}

    def skipping(self, trace_id: Any) -> QueueFilters:
        return replace(self, skip=(*self.skip, str(trace_id))[-MAX_SKIPPED:])


def scope_title(organisation: Organisation, filters: QueueFilters) -> str | None:
    """What the scoped queue holds ('' unscoped; None when the organisation has no such scope: a 404)."""
    if not filters.scope:
        return ""
    name, _, key = filters.scope.partition(":")
    return QUEUE_SCOPES[name].title(organisation, key)


def label_queue(organisation: Organisation, user: Any, filters: QueueFilters) -> list[Trace]:
    """Unlabelled, evaluated runs, newest first (read from the traces' (organisation, -started_at) index); in a
    scope, its runs: the labelled ones first (a disagreement to look at again), then the unlabelled."""
    queryset = (Trace.objects.for_org(organisation).filter(evaluation__status=EvaluationStatus.DONE)
                .select_related("agent", "evaluation", "label_assignment__assignee")
                .defer("spans", "metadata", "input", "output", "error", "evaluation__details"))
    order = ["-started_at", "-id"]
    if filters.scope:
        name, _, key = filters.scope.partition(":")
        queryset = queryset.filter(id__in=QUEUE_SCOPES[name].runs(organisation, key))
        order.insert(0, ExpressionWrapper(Q(evaluation__label_success__isnull=True), output_field=BooleanField()))
    else:
        queryset = queryset.filter(evaluation__label_success__isnull=True)
    if filters.agent:
        queryset = queryset.filter(agent_id=filters.agent)
    if filters.assigned == "me":
        queryset = queryset.filter(label_assignment__assignee=user)
    elif filters.assigned == "unassigned":
        queryset = queryset.filter(label_assignment__isnull=True)
    if filters.auto:
        queryset = queryset.filter(evaluation__success=filters.auto == "pass")
    if filters.skip:
        queryset = queryset.exclude(id__in=filters.skip)
    return list(queryset.order_by(*order)[:QUEUE_SIZE])


def run_to_label(organisation: Organisation, trace: Trace) -> Trace:
    """The queue's first run with its input and output (the queue itself reads neither)."""
    return Trace.objects.for_org(organisation).select_related("agent", "evaluation").defer("spans").get(pk=trace.pk)


def members(organisation: Organisation) -> QuerySet[Membership]:
    return Membership.objects.for_org(organisation).select_related("user").order_by("user__email")


def recent_feedback(organisation: Organisation, limit: int = 15) -> QuerySet[Feedback]:
    return (Feedback.objects.for_org(organisation).select_related("author", "trace__agent")
            .order_by("-created_at")[:limit])


def labels_by_author(organisation: Organisation, limit: int = 10) -> QuerySet:
    return (Feedback.objects.for_org(organisation).values("author__email").annotate(n=Count("id"))
            .order_by("-n")[:limit])


def feedback_of(organisation: Organisation, trace: Trace, limit: int = 20) -> QuerySet[Feedback]:
    return Feedback.objects.for_org(organisation).filter(trace=trace).select_related("author").order_by(
        "-created_at")[:limit]


LABEL_FIELDS = ("trace_id", "agent", "started_at", "automatic_verdict", "correct", "score", "label", "notes",
                "author", "source", "labelled_at")


def label_rows(organisation: Organisation) -> Iterator[dict[str, Any]]:
    """Every label of the organisation, oldest first, streamed (for the CSV and JSONL exports)."""
    rows = (Feedback.objects.for_org(organisation)
            .select_related("author", "trace__agent", "trace__evaluation")
            .only("correct", "score", "label", "notes", "source", "created_at", "author__email",
                  "trace__trace_id", "trace__started_at", "trace__agent__name", "trace__evaluation__success")
            .order_by("created_at").iterator(chunk_size=2000))
    for fb in rows:
        evaluation = getattr(fb.trace, "evaluation", None)
        yield {"trace_id": fb.trace.trace_id, "agent": fb.trace.agent.name, "started_at": fb.trace.started_at.isoformat(),
               "automatic_verdict": None if evaluation is None else evaluation.success, "correct": fb.correct,
               "score": fb.score, "label": fb.label, "notes": fb.notes,
               "author": fb.author.email if fb.author else "", "source": fb.source,
               "labelled_at": fb.created_at.isoformat()}
