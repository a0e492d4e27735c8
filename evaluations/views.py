"""Pages of what we concluded: a run with its verdict, the labelling queue, failure patterns and compare.

Each view validates its input, calls selectors (reads) or one service (write), and renders.
"""

from __future__ import annotations

import csv
import json
import shlex
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from arcweb import charts, formatting
from arcweb.models import Role
from arcweb.tenancy import get_for_org_or_404, org_view
from arcweb.windows import PAGE_WINDOWS, WindowsOverlap, window
from traces import selectors as trace_selectors
from traces.models import Agent, Trace
from traces.presentation import pretty, shown, span_detail, waterfall

from . import feedback, figures, patterns, selectors, services
from .engine.failures import TAXONOMY
from .models import Baseline, Evaluation, PatternStatus

# --- a run ---------------------------------------------------------------------------------------------------


class FeedbackForm(forms.Form):
    correct = forms.TypedChoiceField(choices=[("", "—"), ("true", "Correct"), ("false", "Incorrect")],
                                     coerce=lambda v: v == "true", empty_value=None, required=False)
    score = forms.TypedChoiceField(choices=[("", "—")] + [(str(i), str(i)) for i in range(1, 6)], coerce=int,
                                   empty_value=None, required=False)
    label = forms.ChoiceField(choices=[("", "—")] + [(c, c.replace("_", " ")) for c in sorted(TAXONOMY)],
                              required=False)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 1}), required=False, max_length=10_000)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "fb-%s")
        super().__init__(*args, **kwargs)


def _run_context(request, trace: Trace, *, form: FeedbackForm | None = None, error: str = "") -> dict:
    evaluation: Evaluation | None = getattr(trace, "evaluation", None)
    details = evaluation.details if evaluation is not None and isinstance(evaluation.details, dict) else {}
    cost = details.get("cost") or {}
    costs = {str(c.get("span_id")): c.get("cost_usd") for c in cost.get("spans") or [] if isinstance(c, dict)}
    spans = waterfall(trace, costs)
    return {
        "nav": "traces", "trace": trace, "evaluation": evaluation, "details": details,
        "fixes": selectors.trace_fixes(request.organisation, evaluation) if evaluation is not None else [],
        "output_recorded": not isinstance(trace.metadata, dict) or trace.metadata.get("output_recorded") is not False,
        "spans": spans, "picked": span_detail(trace, spans, request.GET.get("span")),
        "input": shown(trace.input), "output": shown(trace.output),
        "error": trace.error if isinstance(trace.error, dict) else None,
        "metadata": pretty(trace.metadata) if trace.metadata else "",
        "tags": [str(tag) for tag in trace.tags[:50]] if isinstance(trace.tags, list) else [],
        "feedback": selectors.feedback_of(request.organisation, trace),
        "form": form or FeedbackForm(), "form_error": error, "can_label": request.membership.can(Role.MEMBER),
    }


def _trace(request, trace_id) -> Trace:
    return get_for_org_or_404(trace_selectors.traces_with_evaluation(), request.organisation, id=trace_id)


@org_view()
@vary_on_headers("HX-Request")
def trace_detail(request, trace_id):
    context = _run_context(request, _trace(request, trace_id))
    partial = request.htmx and request.GET.get("span")  # a span picked in the tree: its detail only
    return render(request, "traces/_spans.html#span-panel" if partial else "traces/detail.html", context)


@require_POST
@org_view(Role.MEMBER)
def trace_feedback(request, trace_id):
    trace = _trace(request, trace_id)
    if getattr(trace, "evaluation", None) is None:
        raise Http404("Not evaluated")
    form = FeedbackForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            feedback.add_feedback(evaluation=trace.evaluation, author=request.user, source="web", **form.cleaned_data)
        except feedback.InvalidFeedback as exc:
            error = exc.message
        else:
            if not request.htmx:
                return redirect("trace-detail", org_slug=request.organisation.slug, trace_id=trace.id)
            trace, form = _trace(request, trace_id), None
    else:
        error = "; ".join(f"{k}: {', '.join(v)}" for k, v in form.errors.items())
    status = 400 if error and not request.htmx else 200  # htmx swaps 2xx answers only
    template = "traces/detail.html#feedback" if request.htmx else "traces/detail.html"
    return render(request, template, _run_context(request, trace, form=form, error=error), status=status)


# --- labelling queue -----------------------------------------------------------------------------------------

def _queue_filters(request, params) -> selectors.QueueFilters:
    """The queue's filters; a scope naming something this organisation does not have is a 404."""
    filters = selectors.QueueFilters.from_query(params)
    if selectors.scope_title(request.organisation, filters) is None:
        raise Http404("No such queue")
    return filters


def _workspace(request, filters: selectors.QueueFilters, *, error: str = "", done=None) -> dict:
    organisation = request.organisation
    queue = selectors.label_queue(organisation, request.user, filters)
    current = selectors.run_to_label(organisation, queue[0]) if queue else None
    details = current.evaluation.details if current is not None and isinstance(current.evaluation.details, dict) else {}
    return {
        "filters": filters, "queue": queue, "current": current, "details": details,
        "current_input": pretty(current.input) if current else "",
        "current_output": pretty(current.output) if current else "",
        "query": urlencode(filters.query()),
        "skip_query": urlencode(filters.skipping(current.id).query()) if current else "",
        "scope_title": selectors.scope_title(organisation, filters),
        "categories": sorted(TAXONOMY), "scores": range(1, 6), "error": error, "done": done,
        "members": selectors.members(organisation), "can_label": request.membership.can(Role.MEMBER),
    }


def _to_queue(request, filters: selectors.QueueFilters):
    return redirect(reverse("labelling", args=[request.organisation.slug]) + "?" + urlencode(filters.query()))


@org_view()
@vary_on_headers("HX-Request")
def labelling(request):
    organisation = request.organisation
    context = _workspace(request, _queue_filters(request, request.GET))
    if request.htmx:
        return render(request, "evaluations/labelling.html#workspace", context)
    agents = {a.id: a for a in selectors.agents_of(organisation)}
    context.update({
        "nav": "labelling", "agents": list(agents.values()),
        "agreement": [{"agent": agents[k], **v} for k, v in selectors.label_agreement(organisation).items()
                      if k in agents],
        "recent": selectors.recent_feedback(organisation), "by_author": selectors.labels_by_author(organisation),
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
def label_run(request, trace_id):
    evaluation = get_for_org_or_404(Evaluation, request.organisation, trace_id=trace_id)
    filters = _queue_filters(request, request.POST)
    form = LabelForm(request.POST)
    error, done = "", None
    if not form.is_valid():
        error = "Choose correct (c) or incorrect (x)." if "correct" in form.errors else "; ".join(
            f"{k}: {', '.join(v)}" for k, v in form.errors.items())
    else:
        try:
            done = feedback.add_feedback(evaluation=evaluation, author=request.user, source="web", **form.cleaned_data)
        except feedback.InvalidFeedback as exc:
            error = exc.message
        else:
            if filters.scope:  # its runs may stay in it once labelled: this one is done with for now
                filters = filters.skipping(evaluation.trace_id)
    if not request.htmx:
        return _to_queue(request, filters)
    # htmx swaps 2xx answers only: the error is shown in the swapped workspace.
    return render(request, "evaluations/labelling.html#workspace", _workspace(request, filters, error=error, done=done))


@require_POST
@org_view(Role.MEMBER)
def assign_run(request, trace_id):
    trace = get_for_org_or_404(Trace, request.organisation, id=trace_id)
    filters = _queue_filters(request, request.POST)
    try:
        feedback.assign_run(organisation=request.organisation, trace=trace, by=request.user,
                            assignee_id=request.POST.get("assignee") or "")
    except feedback.NotAMember:
        raise Http404("Not a member of this organisation") from None
    if not request.htmx:
        return _to_queue(request, filters)
    return render(request, "evaluations/labelling.html#workspace", _workspace(request, filters))


class _Echo:
    def write(self, value: str) -> str:
        return value


# What a spreadsheet may read as the start of a formula, once it has skipped leading blanks and line breaks
# (the full-width forms too: some spreadsheets fold them to ASCII).
FORMULA_STARTS = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")


def _csv_cell(value: Any) -> Any:
    """A cell that could start a formula is prefixed with ', so a spreadsheet shows it instead of running it."""
    if isinstance(value, str) and (value[:1] in ("\t", "\r", "\n") or value.lstrip()[:1] in FORMULA_STARTS):
        return "'" + value
    return "" if value is None else value


@org_view()
def export_labels(request, fmt: str):
    slug = request.organisation.slug
    rows = selectors.label_rows(request.organisation)
    if fmt == "csv":
        writer = csv.writer(_Echo())
        header = writer.writerow(selectors.LABEL_FIELDS)
        lines = (writer.writerow([_csv_cell(row[f]) for f in selectors.LABEL_FIELDS]) for row in rows)
        response = StreamingHttpResponse(_chain([header], lines), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="labels-{slug}.csv"'
        return response
    response = StreamingHttpResponse((json.dumps(row, ensure_ascii=False) + "\n" for row in rows),
                                     content_type="application/x-ndjson; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="labels-{slug}.jsonl"'
    return response


def _chain(*iterables):
    for iterable in iterables:
        yield from iterable


# --- failure patterns ----------------------------------------------------------------------------------------

@org_view()
@vary_on_headers("HX-Request")
def pattern_list(request):
    organisation = request.organisation
    filters = selectors.PatternFilters.from_query(request.GET)
    rows = [{"p": row.pattern, "recent": row.recent, "prior": row.prior, "direction": row.direction,
             "spark": formatting.svg(charts.sparkline(row.daily, width=96, height=22, title="occurrences per day",
                                                  colour=charts.BAD if row.direction == "up" else charts.ACCENT))}
            for row in selectors.pattern_rows(organisation, filters)]
    context = {"nav": "patterns", "rows": rows, "agents": selectors.agents_of(organisation),
               "statuses": PatternStatus.choices, "categories": sorted(TAXONOMY), "f": filters}
    return render(request, "evaluations/patterns.html#results" if request.htmx else "evaluations/patterns.html",
                  context)


def _pattern(request, pattern_id):
    return get_for_org_or_404(selectors.patterns_for(request.organisation), request.organisation, id=pattern_id)


@org_view()
def pattern_detail(request, pattern_id):
    pattern = _pattern(request, pattern_id)
    counts = figures.totals(request.organisation, pattern.agent)
    context = {"nav": "patterns", "pattern": pattern, "examples": selectors.pattern_examples(request.organisation, pattern),
               "description": TAXONOMY.get(pattern.category, ""),
               "scenarios": [s.as_dict() for s in selectors.pattern_scenarios(pattern)],
               "fixes": selectors.pattern_fixes(pattern), "failing": counts.runs - counts.successes, "runs": counts.runs,
               "can_write": request.membership.can(Role.MEMBER)}
    return render(request, "evaluations/pattern_detail.html", context)


@require_POST
@org_view(Role.MEMBER)
def pattern_fix_applied(request, pattern_id):
    pattern = patterns.mark_fix_applied(_pattern(request, pattern_id))
    return redirect("pattern-detail", org_slug=request.organisation.slug, pattern_id=pattern.id)


@org_view()
def pattern_scenarios(request, pattern_id, fmt: str):
    pattern = _pattern(request, pattern_id)
    try:
        found = selectors.scenario_file(pattern, fmt, module=request.GET.get("module") or "my_agent",
                                        function=request.GET.get("function") or "run_agent")
    except ValueError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    return attachment(found)


def attachment(found: selectors.ScenarioFile) -> HttpResponse:
    response = HttpResponse(found.text, content_type=f"{found.content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{found.filename}"'
    return response


# --- compare -------------------------------------------------------------------------------------------------

class BaselineCreateForm(forms.Form):
    agent = forms.ChoiceField()
    name = forms.CharField(max_length=120)
    window = forms.ChoiceField(choices=[(w, f"Last {w}") for w in PAGE_WINDOWS], initial="7d")

    def __init__(self, *args, agents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agent"].choices = [(str(a.id), a.name) for a in agents]


@org_view()
def compare(request):
    organisation = request.organisation
    agents = list(selectors.agents_of(organisation))
    baseline, after, rows, overlap, command = None, None, [], "", ""
    current = request.GET.get("current") or "7d"
    if request.GET.get("baseline"):
        baseline = get_for_org_or_404(Baseline.objects.select_related("agent"), organisation,
                                      id=request.GET["baseline"])
        other = None if current in PAGE_WINDOWS else get_for_org_or_404(Baseline, organisation, id=current)
        after = window(current) if other is None else selectors.baseline_window(other)
        try:
            rows = [{**row, "display": formatting.compare_display(row)} for row in figures.compare_windows(
                organisation, baseline.agent, selectors.baseline_window(baseline), after)]
        except WindowsOverlap as exc:
            overlap = str(exc)
        command = _compare_command(organisation, baseline, other.name if other else current)
    context = {"nav": "compare", "baselines": selectors.baselines_for(organisation)[:200], "baseline": baseline,
               "current": current, "after": (after.start, after.end) if after else None, "rows": rows,
               "overlap": overlap, "cli_command": command,
               "windows": PAGE_WINDOWS, "form": BaselineCreateForm(agents=agents), "agents": agents,
               "can_write": request.membership.can(Role.MEMBER)}
    return render(request, "evaluations/compare.html", context)


def _compare_command(organisation, baseline: Baseline, current: str) -> str:
    """The same comparison from the terminal, by the baselines' names (the agent too when a name is shared)."""
    command = ["arc-eval", "compare", "--baseline", baseline.name, "--current", current]
    if selectors.baselines_named(organisation, baseline.name).count() > 1:
        command += ["--agent", baseline.agent.name]
    return shlex.join(command)


@require_POST
@org_view(Role.MEMBER)
def baseline_create(request):
    organisation = request.organisation
    form = BaselineCreateForm(request.POST, agents=selectors.agents_of(organisation))
    if not form.is_valid():
        return redirect("compare", org_slug=organisation.slug)
    agent = get_for_org_or_404(Agent, organisation, id=form.cleaned_data["agent"])
    baseline = services.save_baseline(organisation=organisation, agent=agent, name=form.cleaned_data["name"],
                                      span=window(form.cleaned_data["window"]), created_by=request.user)
    return redirect(reverse("compare", args=[organisation.slug]) + f"?baseline={baseline.id}")
