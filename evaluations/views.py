"""Pages of what we concluded: the labelling queue, failure patterns and the compare page."""

from __future__ import annotations

import csv
import json
import uuid
from collections import defaultdict
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.db.models import Count
from django.db.models.functions import TruncDay
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from arcweb.models import Membership, Role
from arcweb.tenancy import get_for_org_or_404, org_view
from reports import charts
from reports import selectors as report_selectors
from reports.presentation import svg
from traces.models import Agent, Trace
from traces.views import pretty

from . import patterns as pattern_services
from . import selectors
from .engine import scenarios as scenario_engine
from .engine.failures import TAXONOMY
from .feedback import InvalidFeedback, add_feedback
from .models import (
    Baseline,
    Evaluation,
    EvaluationStatus,
    FailurePattern,
    Feedback,
    LabelAssignment,
    PatternStatus,
)

QUEUE_SIZE = 15
MAX_SKIPPED = 50



# --- labelling queue ---------------------------------------------------------------------------

def _queue_filters(params) -> dict[str, Any]:
    skipped = []
    for raw in (params.get("skip") or "").split(",")[:MAX_SKIPPED]:
        raw = raw.strip()
        if len(raw) == 36:
            skipped.append(raw)
    assigned = params.get("assigned", "")
    auto = params.get("auto", "")
    return {"agent": _uuid_text(params.get("agent")), "assigned": assigned if assigned in ("me", "unassigned") else "",
            "auto": auto if auto in ("pass", "fail") else "", "skip": skipped}


def _queue(request, filters: dict[str, Any]) -> list[Trace]:
    """Unlabelled, evaluated runs, newest first (read from the traces' (organisation, -started_at) index)."""
    queryset = (Trace.objects.for_org(request.organisation)
                .filter(evaluation__status=EvaluationStatus.DONE, evaluation__label_success__isnull=True)
                .select_related("agent", "evaluation", "label_assignment__assignee")
                .defer("spans", "metadata", "input", "output", "error", "evaluation__details"))
    if filters["agent"]:
        queryset = queryset.filter(agent_id=filters["agent"])
    if filters["assigned"] == "me":
        queryset = queryset.filter(label_assignment__assignee=request.user)
    elif filters["assigned"] == "unassigned":
        queryset = queryset.filter(label_assignment__isnull=True)
    if filters["auto"]:
        queryset = queryset.filter(evaluation__success=filters["auto"] == "pass")
    if filters["skip"]:
        queryset = queryset.exclude(id__in=filters["skip"])
    return list(queryset.order_by("-started_at", "-id")[:QUEUE_SIZE])


def _query_of(filters: dict[str, Any], **extra: str) -> str:
    values = {k: v for k, v in (("agent", filters["agent"]), ("assigned", filters["assigned"]),
                                ("auto", filters["auto"]), ("skip", ",".join(filters["skip"]))) if v}
    values.update({k: v for k, v in extra.items() if v})
    return urlencode(values)


def _workspace(request, filters: dict[str, Any], *, error: str = "", done: Feedback | None = None) -> dict[str, Any]:
    organisation = request.organisation
    queue = _queue(request, filters)
    current = None
    if queue:
        current = (Trace.objects.for_org(organisation).select_related("agent", "evaluation")
                   .defer("spans").get(pk=queue[0].pk))
    details = current.evaluation.details if current is not None and isinstance(current.evaluation.details, dict) else {}
    skip_more = ",".join([*filters["skip"], str(current.id)][-MAX_SKIPPED:]) if current else ""
    return {
        "filters": filters, "queue": queue, "current": current, "details": details,
        "current_input": pretty(current.input) if current else "",
        "current_output": pretty(current.output) if current else "",
        "query": _query_of(filters), "skip_query": _query_of({**filters, "skip": skip_more.split(",")}) if current else "",
        "categories": sorted(TAXONOMY), "scores": range(1, 6), "error": error, "done": done,
        "members": Membership.objects.for_org(organisation).select_related("user").order_by("user__email"),
        "can_label": request.membership.can(Role.MEMBER),
    }


@org_view()
@vary_on_headers("HX-Request")
def labelling(request):
    organisation = request.organisation
    filters = _queue_filters(request.GET)
    context = _workspace(request, filters)
    if request.htmx:
        return render(request, "evaluations/labelling.html#workspace", context)
    agents = {a.id: a for a in Agent.objects.for_org(organisation)}
    agreement = report_selectors.agreement_by_agent(organisation)
    context.update({
        "nav": "labelling",
        "agents": sorted(agents.values(), key=lambda a: a.name),
        "agreement": [{"agent": agents[k], **v} for k, v in agreement.items() if k in agents],
        "recent": Feedback.objects.for_org(organisation).select_related("author", "trace__agent")
        .order_by("-created_at")[:15],
        "by_author": Feedback.objects.for_org(organisation).values("author__email")
        .annotate(n=Count("id")).order_by("-n")[:10],
    })
    return render(request, "evaluations/labelling.html", context)


class LabelForm(forms.Form):
    correct = forms.TypedChoiceField(choices=[("true", "Correct"), ("false", "Incorrect")],
                                     coerce=lambda v: v == "true")
    score = forms.TypedChoiceField(choices=[(str(i), str(i)) for i in range(1, 6)], coerce=int, empty_value=None,
                                   required=False)
    label = forms.ChoiceField(choices=[("", "")] + [(c, c) for c in TAXONOMY], required=False)
    notes = forms.CharField(required=False, max_length=10_000)


@require_POST
@org_view(Role.MEMBER)
def label_run(request, trace_id: str):
    evaluation = get_for_org_or_404(Evaluation, request.organisation, trace_id=trace_id)
    filters = _queue_filters(request.POST)
    form = LabelForm(request.POST)
    error, done = "", None
    if not form.is_valid():
        error = "Choose correct (c) or incorrect (x)." if "correct" in form.errors else "; ".join(
            f"{k}: {', '.join(v)}" for k, v in form.errors.items())
    else:
        try:
            done = add_feedback(evaluation=evaluation, author=request.user, source="web", **form.cleaned_data)
        except InvalidFeedback as exc:
            error = exc.message
    if not request.htmx:
        return redirect(reverse("labelling", args=[request.organisation.slug]) + "?" + _query_of(filters))
    # htmx swaps 2xx answers only: the error is shown in the swapped workspace.
    return render(request, "evaluations/labelling.html#workspace", _workspace(request, filters, error=error, done=done))


@require_POST
@org_view(Role.MEMBER)
def assign_run(request, trace_id: str):
    trace = get_for_org_or_404(Trace, request.organisation, id=trace_id)
    filters = _queue_filters(request.POST)
    assignee_id = request.POST.get("assignee") or ""
    if assignee_id:
        membership = Membership.objects.for_org(request.organisation).filter(user_id=assignee_id).first() \
            if assignee_id.isdigit() else None
        if membership is None:
            raise Http404("Not a member of this organisation")
        LabelAssignment.objects.update_or_create(
            trace=trace, defaults={"organisation": request.organisation, "assignee_id": membership.user_id,
                                   "assigned_by": request.user})
    else:
        LabelAssignment.objects.for_org(request.organisation).filter(trace=trace).delete()
    if not request.htmx:
        return redirect(reverse("labelling", args=[request.organisation.slug]) + "?" + _query_of(filters))
    return render(request, "evaluations/labelling.html#workspace", _workspace(request, filters))


class _Echo:
    def write(self, value: str) -> str:
        return value


EXPORT_FIELDS = ("trace_id", "agent", "started_at", "automatic_verdict", "correct", "score", "label", "notes",
                 "author", "source", "labelled_at")


def _label_rows(request):
    rows = (Feedback.objects.for_org(request.organisation)
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


def _csv_cell(value: Any) -> Any:
    # A cell that starts like a formula is quoted, so a spreadsheet shows it instead of running it.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


@org_view()
def export_labels(request, fmt: str):
    slug = request.organisation.slug
    if fmt == "csv":
        writer = csv.writer(_Echo())
        lines = (writer.writerow([_csv_cell(row[f]) for f in EXPORT_FIELDS]) for row in _label_rows(request))
        response = StreamingHttpResponse(_chain([writer.writerow(EXPORT_FIELDS)], lines),
                                         content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="labels-{slug}.csv"'
        return response
    response = StreamingHttpResponse((json.dumps(row, ensure_ascii=False) + "\n" for row in _label_rows(request)),
                                     content_type="application/x-ndjson; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="labels-{slug}.jsonl"'
    return response


def _chain(*iterables):
    for iterable in iterables:
        yield from iterable


# --- failure patterns --------------------------------------------------------------------------

TREND_DAYS = 14


def _daily_counts(organisation, patterns: list[FailurePattern]) -> dict[tuple, dict]:
    """Occurrences per day over the last two weeks for the listed patterns (one grouped query)."""
    if not patterns:
        return {}
    since = timezone.now() - timedelta(days=TREND_DAYS)
    rows = (Evaluation.objects.for_org(organisation)
            .filter(started_at__gte=since, agent_id__in={p.agent_id for p in patterns},
                    failure_fingerprint__in={p.fingerprint for p in patterns})
            .annotate(day=TruncDay("started_at")).values("agent_id", "failure_fingerprint", "day")
            .annotate(n=Count("id")))
    counts: dict[tuple, dict] = defaultdict(dict)
    for row in rows:
        counts[(row["agent_id"], row["failure_fingerprint"])][row["day"].date()] = row["n"]
    return counts


@org_view()
@vary_on_headers("HX-Request")
def pattern_list(request):
    organisation = request.organisation
    queryset = selectors.patterns_for(organisation).order_by("-occurrences")
    agent_id = _uuid_text(request.GET.get("agent"))
    status = request.GET.get("status", "")
    category = request.GET.get("category", "")
    if agent_id:
        queryset = queryset.filter(agent_id=agent_id)
    if status in PatternStatus.values:
        queryset = queryset.filter(status=status)
    if category in TAXONOMY:
        queryset = queryset.filter(category=category)
    patterns = list(queryset[:200])
    daily = _daily_counts(organisation, patterns)
    today = timezone.now().date()
    days = [today - timedelta(days=i) for i in range(TREND_DAYS - 1, -1, -1)]
    rows = []
    for pattern in patterns:
        counts = daily.get((pattern.agent_id, pattern.fingerprint), {})
        series = [counts.get(d, 0) for d in days]
        recent, prior = sum(series[7:]), sum(series[:7])
        rows.append({"p": pattern, "recent": recent, "prior": prior,
                     "direction": "up" if recent > prior else ("down" if recent < prior else "flat"),
                     "spark": svg(charts.sparkline(series, width=96, height=22, title="occurrences per day",
                                                    colour=charts.BAD if recent > prior else charts.ACCENT))})
    context = {"nav": "patterns", "rows": rows, "agents": Agent.objects.for_org(organisation).order_by("name"),
               "statuses": PatternStatus.choices, "categories": sorted(TAXONOMY),
               "f": {"agent": agent_id, "status": status, "category": category}}
    return render(request, "evaluations/patterns.html#results" if request.htmx else "evaluations/patterns.html",
                  context)


def _pattern(request, pattern_id: str) -> FailurePattern:
    return get_for_org_or_404(selectors.patterns_for(request.organisation), request.organisation, id=pattern_id)


@org_view()
def pattern_detail(request, pattern_id: str):
    organisation = request.organisation
    pattern = _pattern(request, pattern_id)
    runs, failing = selectors.agent_run_counts(organisation, pattern.agent)
    examples = (Trace.objects.for_org(organisation).filter(id__in=[i for i in pattern.example_traces if _is_uuid(i)])
                .select_related("evaluation", "agent").defer("spans", "metadata").order_by("-started_at"))
    context = {"nav": "patterns", "pattern": pattern, "examples": examples,
               "description": TAXONOMY.get(pattern.category, ""),
               "scenarios": [s.as_dict() for s in selectors.pattern_scenarios(pattern)],
               "fixes": selectors.pattern_fixes(pattern), "failing": failing, "runs": runs,
               "can_write": request.membership.can(Role.MEMBER)}
    return render(request, "evaluations/pattern_detail.html", context)


def _uuid_text(raw: Any) -> str:
    """Agents are filtered by id: their names are client text and stay out of URLs."""
    return str(raw).strip() if raw and _is_uuid(str(raw).strip()) else ""


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


@require_POST
@org_view(Role.MEMBER)
def pattern_fix_applied(request, pattern_id: str):
    pattern = pattern_services.mark_fix_applied(_pattern(request, pattern_id))
    return redirect("pattern-detail", org_slug=request.organisation.slug, pattern_id=pattern.id)


@org_view()
def pattern_scenarios(request, pattern_id: str, fmt: str):
    pattern = _pattern(request, pattern_id)
    found = selectors.pattern_scenarios(pattern)
    if fmt == "jsonl":
        text, content_type, filename = scenario_engine.to_jsonl(found), "application/x-ndjson", \
            f"scenarios-{pattern.id}.jsonl"
    else:
        module = request.GET.get("module") or "my_agent"
        function = request.GET.get("function") or "run_agent"
        try:
            text = scenario_engine.to_pytest(found, module=module, function=function)
        except ValueError as exc:
            return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
        content_type, filename = "text/x-python", "test_arc_eval_scenarios.py"
    response = HttpResponse(text, content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- compare -----------------------------------------------------------------------------------

CURRENT_WINDOWS = ("24h", "7d", "30d")


class BaselineCreateForm(forms.Form):
    agent = forms.ChoiceField()
    name = forms.CharField(max_length=120)
    window = forms.ChoiceField(choices=[(w, f"Last {w}") for w in CURRENT_WINDOWS], initial="7d")

    def __init__(self, *args, agents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agent"].choices = [(str(a.id), a.name) for a in agents]


METRIC_LABELS = {"reliability": "Reliability", "cost_per_run_usd": "Cost per run", "tool_success": "Tool success",
                 "latency_ms": "Latency (mean)", "compliance_passed": "Compliance passed"}


def _format_metric(metric: str, value: Any, *, delta: bool = False) -> str:
    """A compare figure as read on the page; `delta` adds the sign and shows rates in points (pp)."""
    if value is None:
        return "—"
    sign = "+" if delta and value > 0 else ""
    if metric in ("reliability", "tool_success", "compliance_passed"):
        return f"{sign}{value * 100:.1f}{' pp' if delta else '%'}"
    if metric == "cost_per_run_usd":
        return f"{sign}${value:.5f}"
    if metric == "latency_ms":
        return f"{sign}{value / 1000:.2f}s"
    return f"{sign}{value}"


@org_view()
def compare(request):
    organisation = request.organisation
    baselines = list(Baseline.objects.for_org(organisation).select_related("agent").order_by("-created_at")[:200])
    agents = list(Agent.objects.for_org(organisation).order_by("name"))
    baseline = None
    rows: list[dict[str, Any]] = []
    current = request.GET.get("current") or "7d"
    after = None
    if request.GET.get("baseline"):
        baseline = get_for_org_or_404(Baseline.objects.select_related("agent"), organisation,
                                      id=request.GET["baseline"])
        if current in CURRENT_WINDOWS:
            now = timezone.now()
            after = (now - selectors.parse_window(current), now)
        else:
            other = get_for_org_or_404(Baseline, organisation, id=current)
            after = (other.start, other.end)
        for row in selectors.compare_windows(organisation, baseline.agent, (baseline.start, baseline.end), after):
            metric = row["metric"]
            rows.append({**row, "label": METRIC_LABELS.get(metric, metric),
                         "before_text": _format_metric(metric, row["before"]),
                         "after_text": _format_metric(metric, row["after"]),
                         "delta_text": _format_metric(metric, row["delta"], delta=True)})
    context = {"nav": "compare", "baselines": baselines, "baseline": baseline, "current": current, "after": after,
               "rows": rows, "windows": CURRENT_WINDOWS, "form": BaselineCreateForm(agents=agents),
               "agents": agents, "can_write": request.membership.can(Role.MEMBER)}
    return render(request, "evaluations/compare.html", context)


@require_POST
@org_view(Role.MEMBER)
def baseline_create(request):
    organisation = request.organisation
    agents = list(Agent.objects.for_org(organisation))
    form = BaselineCreateForm(request.POST, agents=agents)
    if not form.is_valid():
        return redirect("compare", org_slug=organisation.slug)
    agent = get_for_org_or_404(Agent, organisation, id=form.cleaned_data["agent"])
    end = timezone.now()
    baseline, _ = Baseline.objects.update_or_create(
        organisation=organisation, agent=agent, name=form.cleaned_data["name"],
        defaults={"start": end - selectors.parse_window(form.cleaned_data["window"]), "end": end,
                  "created_by": request.user})
    return redirect(reverse("compare", args=[organisation.slug]) + f"?baseline={baseline.id}")

