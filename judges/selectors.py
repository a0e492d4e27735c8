"""Reads of judges and scores: spend, how many runs were judged, calibration against labels, a run's scores.

One function per figure: the API, the settings pages, the trace page and the CLI read them here.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Avg, Count, Q, QuerySet, Sum
from django.template.defaultfilters import pluralize
from django.utils import timezone

from arcweb.models import Organisation
from evaluations.engine import agreement

from .models import Judge, JudgingBudget, ModelConnection, Score, ScoreStatus, Source

DISAGREEING_SHOWN = 50


def day_start(now: datetime | None = None) -> datetime:
    """Budgets and "today" are UTC days."""
    now = (now or timezone.now()).astimezone(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def month_start(now: datetime | None = None) -> datetime:
    return day_start(now).replace(day=1)


def _judge_scores(organisation_id: Any, judge: Judge | None = None) -> QuerySet:
    scores = Score.objects.filter(organisation_id=organisation_id, source=Source.JUDGE)
    return scores.filter(judge=judge) if judge is not None else scores


# Other model calls the organisation's daily budget caps (experiments registers its replays): (organisation id,
# since) -> USD. Registered by the apps above judges, which judges may not import.
OTHER_SPEND: list[Callable[[Any, datetime], Decimal]] = []


def spend_since(organisation_id: Any, since: datetime, judge: Judge | None = None) -> Decimal:
    """What the judge spent on calls since then, in USD; without a judge, all the organisation's judges and the
    other model calls its budget caps (OTHER_SPEND)."""
    total = _judge_scores(organisation_id, judge).filter(created_at__gte=since).aggregate(s=Sum("cost_usd"))["s"]
    if judge is None:
        total = sum((spent(organisation_id, since) for spent in OTHER_SPEND), total or Decimal(0))
    return total or Decimal(0)


def spend_today(organisation_id: Any, judge: Judge | None = None) -> Decimal:
    return spend_since(organisation_id, day_start(), judge)


def organisation_budget(organisation_id: Any) -> Decimal | None:
    """The organisation's daily ceiling over all its judges (None: none)."""
    return JudgingBudget.objects.filter(organisation_id=organisation_id).values_list(
        "daily_budget_usd", flat=True).first()


def budget_figures(organisation: Organisation) -> dict[str, Any]:
    return {"daily_budget_usd": organisation_budget(organisation.id), "spend_today_usd": spend_today(organisation.id)}


def connections(organisation: Organisation) -> QuerySet:
    return ModelConnection.objects.for_org(organisation)


def judges(organisation: Organisation) -> QuerySet:
    return Judge.objects.for_org(organisation).select_related("connection").prefetch_related("agents")


def trace_scores(organisation: Organisation, trace_id: uuid.UUID) -> QuerySet:
    return Score.objects.for_org(organisation).filter(trace_id=trace_id).select_related("judge").order_by(
        "created_at")


def agent_scores(organisation: Organisation, agent: Any, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Per score name and source on the agent's runs started in [start, end): finished scores, the share that
    passed (of those with a verdict), the mean value and what the judge calls cost. The agent page and the
    reports read it here."""
    rows = (Score.objects.for_org(organisation)
            .filter(status=ScoreStatus.DONE, trace__agent=agent, trace__started_at__gte=start,
                    trace__started_at__lt=end)
            .values("name", "source").order_by("name", "source")
            .annotate(runs=Count("id"), n_passed=Count("id", filter=Q(passed=True)),
                      with_verdict=Count("id", filter=Q(passed__isnull=False)), mean=Avg("value"),
                      cost=Sum("cost_usd")))
    return [{"name": r["name"], "source": r["source"], "runs": r["runs"],
             "pass_share": r["n_passed"] / r["with_verdict"] if r["with_verdict"] else None,
             "mean_value": round(r["mean"], 3) if r["mean"] is not None else None,
             "cost_usd": r["cost"]} for r in rows]


def cost_figures(judge: Judge) -> dict[str, Any]:
    """Spend today and this month, runs judged (all time and this month), the cost per judged run, and what
    `uncertain` mode saved this month: the certain failures it did not send, at this month's cost per run."""
    month = _judge_scores(judge.organisation_id, judge).filter(created_at__gte=month_start())
    by_status = dict(month.order_by().values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    judged_month = by_status.get(ScoreStatus.DONE, 0)
    spent_month = spend_since(judge.organisation_id, month_start(), judge)
    per_run = (spent_month / judged_month).quantize(Decimal("0.00000001")) if judged_month else None
    skipped_certain = month.filter(status=ScoreStatus.SKIPPED, status_reason__startswith="certain failure").count()
    return {
        "judged": _judge_scores(judge.organisation_id, judge).filter(status=ScoreStatus.DONE).count(),
        "judged_this_month": judged_month,
        "errors_this_month": by_status.get(ScoreStatus.ERROR, 0),
        "skipped_this_month": by_status.get(ScoreStatus.SKIPPED, 0),
        "spend_today_usd": spend_today(judge.organisation_id, judge),
        "spend_month_usd": spent_month,
        "cost_per_judged_run_usd": per_run,
        "uncertain_skipped_this_month": skipped_certain,
        "uncertain_saved_usd": (per_run * skipped_certain) if per_run is not None else Decimal(0),
    }


def calibration(judge: Judge) -> dict[str, Any]:
    """The judge against the team's labels: from the first labelled run on, the count, accuracy, kappa with its
    95% interval, the confusion matrix, whether enough runs are labelled to trust it, and the runs where they
    disagree (latest first)."""
    rows = list(_judge_scores(judge.organisation_id, judge).filter(
        status=ScoreStatus.DONE, passed__isnull=False, evaluation__label_success__isnull=False)
        .order_by("-created_at").values_list("passed", "evaluation__label_success", "trace_id"))
    figures = agreement.agreement((passed, label) for passed, label, _ in rows).as_dict()
    figures["labelled"] = figures["n"]
    figures["minimum_labelled"] = settings.ARC_JUDGE_MIN_LABELLED
    figures["calibrated"] = figures["n"] >= settings.ARC_JUDGE_MIN_LABELLED
    figures["disagreeing_trace_ids"] = [trace for passed, label, trace in rows if passed != label][:DISAGREEING_SHOWN]
    return figures


DISAGREES = Q(passed=True, evaluation__label_success=False) | Q(passed=False, evaluation__label_success=True)


def calibration_queue(organisation: Organisation, judge_id: Any) -> QuerySet:
    """The runs to label for a judge's calibration, as trace ids: those where its verdict and the team's label
    disagree, and those it judged that nobody has labelled yet (to grow the calibration set). The labelling queue
    serves them under the scope `judge:<id>` (registered in judges.apps)."""
    return (_judge_scores(organisation.id).filter(judge_id=judge_id, status=ScoreStatus.DONE, passed__isnull=False)
            .filter(DISAGREES | Q(evaluation__label_success__isnull=True)).values("trace_id"))


def calibration_queue_counts(judge: Judge) -> dict[str, int]:
    return _judge_scores(judge.organisation_id, judge).filter(status=ScoreStatus.DONE, passed__isnull=False).aggregate(
        disagreeing=Count("id", filter=DISAGREES), unlabelled=Count("id", filter=Q(evaluation__label_success__isnull=True)))


def calibration_queue_title(organisation: Organisation, judge_id: Any) -> str | None:
    """The scoped labelling queue's heading; None when the organisation has no such judge (a 404)."""
    judge = Judge.objects.for_org(organisation).filter(id=judge_id).first()
    if judge is None:
        return None
    counts = calibration_queue_counts(judge)
    disagreeing, unlabelled = counts["disagreeing"], counts["unlabelled"]
    return (f"Judge “{judge.name}”: {disagreeing} run{pluralize(disagreeing)} where it and the team disagree, then "
            f"{unlabelled} it judged that nobody has labelled")
