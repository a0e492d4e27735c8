"""Reads: datasets at a version, an experiment's results and the comparison of two experiments.

Every figure of an experiment (success rate, pass^k, cost, latency, tool success, compliance, judge scores) is
computed here, by `experiment_results`, and read by the API, the pages and the CLI (through the API).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from arcweb.models import Organisation
from evaluations.engine import paired, reliability
from evaluations.engine.verdict import verdict_of
from evaluations.models import Evaluation, EvaluationStatus
from judges.models import Score, ScoreStatus, Source

from .models import Dataset, DatasetItem, Experiment, ItemRun


def datasets_for(organisation: Organisation) -> QuerySet[Dataset]:
    return Dataset.objects.for_org(organisation).order_by("name")


def find_dataset(organisation: Organisation, ident: str) -> Dataset | None:
    """A dataset by its id or by its name."""
    datasets = Dataset.objects.for_org(organisation)
    try:
        return datasets.filter(id=uuid.UUID(str(ident))).first()
    except ValueError:
        return datasets.filter(name=ident).first()


def find_experiment(organisation: Organisation, ident: str) -> Experiment | None:
    """An experiment by its id or by its name."""
    experiments = Experiment.objects.for_org(organisation).select_related("dataset")
    try:
        return experiments.filter(id=uuid.UUID(str(ident))).first()
    except ValueError:
        return experiments.filter(name=ident).first()


def items_at(dataset: Dataset, version: int | None = None) -> QuerySet[DatasetItem]:
    number = dataset.version if version is None else version
    return DatasetItem.objects.for_org(dataset.organisation_id).filter(dataset=dataset).at_version(number)


# -- one experiment -------------------------------------------------------------------------------------------
@dataclass(slots=True)
class RunResult:
    repeat: int
    passed: bool
    error: dict[str, Any] | None
    checks: list[dict[str, Any]]
    checks_passed: bool
    verdict: bool | None  # the run's verdict (a label wins over the engine); None until evaluated
    trace_id: uuid.UUID | None
    duration_ms: float | None
    cost_usd: Decimal | None
    score: float | None
    tool_calls: int
    tool_errors: int
    compliance_passed: bool | None
    judge_scores: list[dict[str, Any]] = field(default_factory=list)  # the organisation's judges on its trace


def pass_k(tasks: list[tuple[int, int]], k: int) -> float | None:
    """pass^k with k = the repeats, by the engine's one estimator (None with fewer than two runs an item)."""
    return reliability.pass_k_curve(tasks, (k,))[str(k)]


def run_passed(*, error: Any, checks_passed: bool, verdict: bool | None) -> bool:
    """A run passes when the agent answered (no exception, no timeout), every check of the item passed and
    its verdict is not a failure (a run still being evaluated is not held against it)."""
    return error is None and checks_passed and verdict is not False


@dataclass(slots=True)
class ItemResult:
    item: DatasetItem
    runs: list[RunResult] = field(default_factory=list)

    @property
    def passes(self) -> int:
        return sum(r.passed for r in self.runs)

    @property
    def passed_every_time(self) -> bool | None:
        """The item's outcome in a comparison: every repeat passed (None when it did not run)."""
        return None if not self.runs else self.passes == len(self.runs)

    @property
    def pass_rate(self) -> float | None:
        return self.passes / len(self.runs) if self.runs else None

    def pass_k(self, k: int) -> float | None:
        return pass_k([(len(self.runs), self.passes)], k)

    @property
    def cost_usd(self) -> Decimal | None:
        return _mean_decimal([r.cost_usd for r in self.runs])

    @property
    def duration_ms(self) -> float | None:
        return _mean([r.duration_ms for r in self.runs])

    @property
    def score(self) -> float | None:
        return _mean([r.score for r in self.runs])

    @property
    def tool_success(self) -> float | None:
        calls = sum(r.tool_calls for r in self.runs)
        return 1 - sum(r.tool_errors for r in self.runs) / calls if calls else None

    @property
    def compliant(self) -> bool | None:
        known = [r.compliance_passed for r in self.runs if r.compliance_passed is not None]
        return all(known) if known else None

    @property
    def judge_marks(self) -> list[dict[str, Any]]:
        """Per judge: of this item's runs, how many it passed, judged and has still to judge (the matrix cell)."""
        marks: dict[uuid.UUID, dict[str, Any]] = {}
        for score in (s for r in self.runs for s in r.judge_scores):
            mark = marks.setdefault(score["judge_id"], {"name": score["name"], "passed": 0, "judged": 0, "waiting": 0})
            done = score["status"] == ScoreStatus.DONE and score["passed"] is not None
            mark["judged"] += done
            mark["passed"] += done and score["passed"]
            mark["waiting"] += score["status"] == ScoreStatus.PENDING
        return list(marks.values())

    def judge_verdicts(self, judge_id: uuid.UUID) -> list[bool]:
        """The judge's finished pass/fail verdicts on this item's runs."""
        return [s["passed"] for r in self.runs for s in r.judge_scores
                if s["judge_id"] == judge_id and s["status"] == ScoreStatus.DONE and s["passed"] is not None]


@dataclass(slots=True)
class ExperimentResults:
    experiment: Experiment
    items: list[ItemResult]
    pending: int  # runs whose traces are still being evaluated

    @property
    def runs(self) -> list[RunResult]:
        return [r for item in self.items for r in item.runs]

    def summary(self) -> dict[str, Any]:
        runs = self.runs
        passed = sum(r.passed for r in runs)
        low, high = reliability.wilson_interval(passed, len(runs))
        k = self.experiment.repeats
        tasks = [(len(i.runs), i.passes) for i in self.items if i.runs]
        durations = sorted(r.duration_ms for r in runs if r.duration_ms is not None)
        costs = [r.cost_usd for r in runs if r.cost_usd is not None]
        calls = sum(r.tool_calls for r in runs)
        judged_items = [i for i in self.items if i.compliant is not None]
        return {
            "items": len(self.items),
            "items_run": len(tasks),
            "runs": len(runs),
            "runs_expected": len(self.items) * k,
            "passed": passed,
            "success_rate": passed / len(runs) if runs else None,
            "wilson_low": low if runs else None,
            "wilson_high": high if runs else None,
            "items_passed_every_time": sum(i.passed_every_time is True for i in self.items),
            "pass_k": pass_k(tasks, k),
            "k": k,
            "errors": sum(r.error is not None for r in runs),
            "cost_per_run_usd": sum(costs, Decimal(0)) / len(costs) if costs else None,
            "cost_usd": sum(costs, Decimal(0)) if costs else None,
            "latency_mean_ms": sum(durations) / len(durations) if durations else None,
            "latency_p50_ms": reliability.percentile(durations, 50),
            "latency_p95_ms": reliability.percentile(durations, 95),
            "mean_score": _mean([r.score for r in runs]),
            "tool_success": 1 - sum(r.tool_errors for r in runs) / calls if calls else None,
            "items_compliant": sum(bool(i.compliant) for i in judged_items),
            "items_compliance_known": len(judged_items),
            "pending_evaluations": self.pending,
            "judges": self.judges(),
        }

    def judges(self) -> list[dict[str, Any]]:
        """Per judge that scored a run: its pass rate over the runs it judged (Wilson 95%), the mean score, and
        how many runs still wait for it."""
        by_judge: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
        for run in self.runs:
            for score in run.judge_scores:
                by_judge[score["judge_id"]].append(score)
        figures = []
        for judge_id, scores in by_judge.items():
            verdicts = [s["passed"] for s in scores if s["status"] == ScoreStatus.DONE and s["passed"] is not None]
            passed = sum(verdicts)
            low, high = reliability.wilson_interval(passed, len(verdicts))
            figures.append({
                "judge": judge_id, "name": scores[-1]["name"], "judged": len(verdicts), "passed": passed,
                "pass_rate": passed / len(verdicts) if verdicts else None,
                "wilson_low": low if verdicts else None, "wilson_high": high if verdicts else None,
                "mean_value": _mean([s["value"] for s in scores if s["status"] == ScoreStatus.DONE]),
                "waiting": sum(s["status"] == ScoreStatus.PENDING for s in scores),
                "errors": sum(s["status"] == ScoreStatus.ERROR for s in scores),
                "skipped": sum(s["status"] == ScoreStatus.SKIPPED for s in scores)})
        return sorted(figures, key=lambda f: f["name"])


def experiment_results(experiment: Experiment) -> ExperimentResults:
    return results_of([experiment])[experiment.id]


def results_of(experiments: list[Experiment]) -> dict[uuid.UUID, ExperimentResults]:
    """Each experiment's items (of the dataset version it ran) with their runs, sorted by repeat, and verdicts;
    a query per dataset version, one for the runs and one for their evaluations."""
    versions: dict[tuple, list[DatasetItem]] = {}
    for e in experiments:
        key = (e.dataset_id, e.dataset_version)
        if key not in versions:
            versions[key] = list(items_at(e.dataset, e.dataset_version))
    by_item = {e.id: {item.id: ItemResult(item) for item in versions[(e.dataset_id, e.dataset_version)]}
               for e in experiments}
    if not experiments:
        return {}
    runs = list(ItemRun.objects.for_org(experiments[0].organisation_id).filter(experiment__in=experiments)
                .order_by("repeat").values("experiment_id", "item_id", "repeat", "error", "check_results",
                                           "checks_passed", "trace_id", "duration_ms"))
    evaluations = {e["trace_id"]: e for e in Evaluation.objects.for_org(experiments[0].organisation_id).filter(
        trace_id__in=[r["trace_id"] for r in runs if r["trace_id"]]).values(
        "trace_id", "status", "success", "label_success", "judge_success", "cost_usd", "score", "tool_calls", "tool_errors",
        "compliance_passed")}
    scores = _judge_scores(experiments[0].organisation_id, [r["trace_id"] for r in runs if r["trace_id"]])
    pending: dict[uuid.UUID, int] = defaultdict(int)
    for row in runs:
        result = by_item[row["experiment_id"]].get(row["item_id"])
        if result is None:
            continue
        evaluation = evaluations.get(row["trace_id"]) or {}
        done = evaluation.get("status") == EvaluationStatus.DONE
        pending[row["experiment_id"]] += evaluation.get("status") == EvaluationStatus.PENDING
        verdict = verdict_of(evaluation["label_success"], evaluation["judge_success"],
                             evaluation["success"]) if done else None
        result.runs.append(RunResult(
            repeat=row["repeat"], error=row["error"], checks=row["check_results"], checks_passed=row["checks_passed"],
            verdict=verdict, passed=run_passed(error=row["error"], checks_passed=row["checks_passed"], verdict=verdict),
            trace_id=row["trace_id"], duration_ms=row["duration_ms"],
            cost_usd=evaluation.get("cost_usd") if done else None, score=evaluation.get("score") if done else None,
            tool_calls=evaluation.get("tool_calls") or 0, tool_errors=evaluation.get("tool_errors") or 0,
            compliance_passed=evaluation.get("compliance_passed") if done else None,
            judge_scores=scores.get(row["trace_id"], [])))
    return {e.id: ExperimentResults(e, list(by_item[e.id].values()), pending[e.id]) for e in experiments}


def _judge_scores(organisation_id: Any, trace_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """The organisation's judges' scores on these traces, by trace, in judge name order."""
    scores: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    rows = (Score.objects.for_org(organisation_id).filter(trace_id__in=trace_ids, source=Source.JUDGE,
                                                          judge__isnull=False)
            .order_by("name").values("trace_id", "judge_id", "name", "passed", "value", "status"))
    for row in rows:
        scores[row.pop("trace_id")].append(row)
    return scores


# -- two experiments ------------------------------------------------------------------------------------------
class NotComparable(ValueError):
    pass


@dataclass(slots=True)
class ItemPair:
    item: DatasetItem
    before: ItemResult
    after: ItemResult

    @property
    def change(self) -> str:
        was, now = self.before.passed_every_time, self.after.passed_every_time
        return {(False, True): "fixed", (True, False): "broke", (False, False): "still_failing"}.get(
            (was, now), "still_passing")


@dataclass(slots=True)
class Comparison:
    before: ExperimentResults
    after: ExperimentResults
    pairs: list[ItemPair]
    only_before: int
    only_after: int
    mcnemar: paired.McNemar
    intervals: dict[str, paired.PairedInterval | None]
    rows: list[dict[str, Any]]
    judges: list[dict[str, Any]]

    def listed(self, change: str) -> list[ItemPair]:
        return [p for p in self.pairs if p.change == change]

    @property
    def regressed(self) -> bool:
        """Reliability got significantly worse: the CI gate."""
        return self.mcnemar.broke > self.mcnemar.fixed and self.mcnemar.significant()


def compare_experiments(before: Experiment, after: Experiment) -> Comparison:
    """Pair the two experiments item by item (the items both dataset versions hold, unchanged) and test
    the difference: McNemar on pass/fail every time, paired bootstrap on per-item means."""
    if before.dataset_id != after.dataset_id:
        raise NotComparable("the two experiments ran on different datasets; compare experiments of one dataset")
    results = results_of([before, after])
    a, b = results[before.id], results[after.id]
    a_items = {r.item.id: r for r in a.items if r.runs}
    b_items = {r.item.id: r for r in b.items if r.runs}
    common = [i for i in a_items if i in b_items]
    pairs = [ItemPair(a_items[i].item, a_items[i], b_items[i]) for i in common]
    changes = [p.change for p in pairs]
    test = paired.mcnemar(changes.count("fixed"), changes.count("broke"))
    intervals = {
        "pass_rate": _interval(pairs, lambda r: r.pass_rate),
        "score": _interval(pairs, lambda r: r.score),
        "cost_usd": _interval(pairs, lambda r: r.cost_usd),
        "latency_ms": _interval(pairs, lambda r: r.duration_ms),
        "tool_success": _interval(pairs, lambda r: r.tool_success),
    }
    compliance_known = [p for p in pairs if p.before.compliant is not None and p.after.compliant is not None]
    compliance = paired.mcnemar(sum(not p.before.compliant and p.after.compliant for p in compliance_known),
                                sum(p.before.compliant and not p.after.compliant for p in compliance_known))
    rows = progress_rows(pairs, test, intervals, compliance_known, compliance)
    return Comparison(a, b, pairs, len(a_items) - len(common), len(b_items) - len(common), test, intervals, rows,
                      judge_differences(a, b, pairs))


def judge_differences(a: ExperimentResults, b: ExperimentResults, pairs: list[ItemPair]) -> list[dict[str, Any]]:
    """Per judge that scored both experiments, on the paired items it judged in both: its pass rate over their
    runs before and after, and McNemar on each item passing (every judged run passed by the judge)."""
    judged_before = {j["judge"] for j in a.judges() if j["judged"]}
    both = [j for j in b.judges() if j["judged"] and j["judge"] in judged_before]
    differences = []
    for judge in both:
        judged = [(p.before.judge_verdicts(judge["judge"]), p.after.judge_verdicts(judge["judge"])) for p in pairs]
        judged = [(x, y) for x, y in judged if x and y]
        before = [v for x, _ in judged for v in x]
        after = [v for _, y in judged for v in y]
        test = paired.mcnemar(sum(not all(x) and all(y) for x, y in judged),
                              sum(all(x) and not all(y) for x, y in judged))
        rate_before = sum(before) / len(before) if before else None
        rate_after = sum(after) / len(after) if after else None
        differences.append({
            "judge": judge["judge"], "name": judge["name"], "items": len(judged),
            "pass_rate_before": rate_before, "pass_rate_after": rate_after,
            "delta": None if rate_before is None else rate_after - rate_before,
            "mcnemar": test.as_dict(), "significant": test.significant()})
    return differences


def _interval(pairs: list[ItemPair], value) -> paired.PairedInterval | None:
    values = [(value(p.before), value(p.after)) for p in pairs]
    return paired.paired_bootstrap([(float(x), float(y)) for x, y in values if x is not None and y is not None])


def progress_rows(pairs: list[ItemPair], test: paired.McNemar, intervals: dict[str, paired.PairedInterval | None],
                  compliance_known: list[ItemPair], compliance: paired.McNemar) -> list[dict[str, Any]]:
    """The roadmap's progress table over the paired items: reliability, cost, tool success, compliance
    (and latency), each with its delta, its test and whether the change is significant and for the better."""
    def rate(side: str) -> float | None:
        runs = [r for p in pairs for r in getattr(p, side).runs]
        return sum(r.passed for r in runs) / len(runs) if runs else None

    def mean_row(metric: str, key: str, higher_is_better: bool) -> dict[str, Any]:
        interval = intervals[key]
        if interval is None:
            return _row(metric, None, None, None, "paired bootstrap", False, None)
        better = None if interval.delta == 0 else (interval.delta > 0) == higher_is_better
        return _row(metric, interval.mean_before, interval.mean_after, None, "paired bootstrap",
                    interval.significant, better, low=interval.low, high=interval.high)

    before, after = rate("before"), rate("after")
    delta = None if before is None or after is None else after - before
    rows = [
        _row("reliability", before, after, test.p_value, "McNemar (exact)", test.significant(),
             None if not delta else delta > 0),
        mean_row("cost_per_run_usd", "cost_usd", higher_is_better=False),
        mean_row("tool_success", "tool_success", higher_is_better=True),
        _row("compliance", sum(bool(p.before.compliant) for p in compliance_known),
             sum(bool(p.after.compliant) for p in compliance_known), compliance.p_value, "McNemar (exact)",
             compliance.significant(), None if compliance.fixed == compliance.broke else compliance.fixed > compliance.broke,
             of=len(compliance_known)),
        mean_row("latency_ms", "latency_ms", higher_is_better=False),
    ]
    return rows


def _row(metric: str, before, after, p_value, test: str, significant: bool, better: bool | None, **extra):
    delta = None if before is None or after is None else after - before
    return {"metric": metric, "before": before, "after": after, "delta": delta, "p_value": p_value, "test": test,
            "significant": bool(significant), "better": better, **extra}


def experiments_on(dataset: Dataset, limit: int = 20) -> list[Experiment]:
    return list(Experiment.objects.for_org(dataset.organisation_id).filter(dataset=dataset)
                .select_related("dataset").order_by("-created_at")[:limit])


def _mean(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def _mean_decimal(values: list[Decimal | None]) -> Decimal | None:
    known = [v for v in values if v is not None]
    return sum(known, Decimal(0)) / len(known) if known else None
