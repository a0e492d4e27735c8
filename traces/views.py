"""Trace explorer and trace detail pages (with the feedback form)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django import forms
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from arcweb.models import Role
from arcweb.tenancy import get_for_org_or_404, org_view
from evaluations.engine.failures import TAXONOMY
from evaluations.engine.frameworks import FRAMEWORK_NAMES
from evaluations.feedback import InvalidFeedback, add_feedback
from evaluations.models import Evaluation, Feedback
from evaluations.selectors import trace_fixes
from reports.selectors import WINDOWS, window_name

from . import selectors

GRADES = ("A+", "A", "A-", "B+", "B", "B-", "C+", "C", "C-", "D+", "D", "D-", "F")
PRETTY_LIMIT = 20_000  # characters of one pretty-printed value shown on the page


@org_view()
@vary_on_headers("HX-Request")
def trace_list(request):
    organisation = request.organisation
    filters = selectors.ExplorerFilters.from_query(request.GET)
    rows, next_cursor = selectors.explore_traces(organisation, filters, cursor=request.GET.get("cursor"))
    params = request.GET.copy()
    params.pop("cursor", None)
    params.pop("more", None)
    first_query = params.urlencode()
    if next_cursor:
        params["cursor"] = next_cursor
    context = {
        "nav": "traces", "rows": rows, "filters": filters, "next_query": params.urlencode() if next_cursor else "",
        "is_first_page": not request.GET.get("cursor"), "first_query": first_query, "grades": GRADES,
        "categories": sorted(TAXONOMY), "frameworks": FRAMEWORK_NAMES,
        "agents": selectors.explorer_choices(organisation)["agents"], "search_min_chars": selectors.SEARCH_MIN_CHARS,
        "shared": selectors.shared_context(organisation, filters),
    }
    if request.htmx and request.GET.get("more"):
        return render(request, "traces/list.html#rows", context)
    return render(request, "traces/list.html#results" if request.htmx else "traces/list.html", context)


@org_view()
@vary_on_headers("HX-Request")
def run_groups(request, kind: str):
    """Sessions or users with their runs in a window; each links to its runs in the explorer by a run id."""
    window = window_name(request.GET.get("window"))
    try:
        page = min(max(int(request.GET.get("page", 0)), 0), selectors.GROUPS_MAX_PAGES - 1)
    except ValueError:
        page = 0
    rows, more = selectors.run_groups(request.organisation, selectors.GROUP_FIELDS[kind],
                                      since=timezone.now() - WINDOWS[window], page=page)
    context = {"nav": "traces", "kind": kind, "rows": rows, "window": window, "windows": list(WINDOWS),
               "page": page, "next_page": page + 1 if more and page + 1 < selectors.GROUPS_MAX_PAGES else None,
               "link_param": "session_of" if kind == "sessions" else "user_of"}
    return render(request, "traces/groups.html#groups" if request.htmx else "traces/groups.html", context)


def pretty(value: Any) -> str:
    """Indented JSON for a <pre>; autoescaped by the template like any other text."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return text if len(text) <= PRETTY_LIMIT else text[:PRETTY_LIMIT] + f"\n… ({len(text) - PRETTY_LIMIT:,} more characters)"


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        return None


def waterfall(trace, costs: dict[str, str]) -> list[dict[str, Any]]:
    """Spans in tree order with depth and the offset/width of their timing bar in a 0–1000 box."""
    spans = [s for s in (trace.spans or []) if isinstance(s, dict)]
    t0 = trace.started_at
    starts = [(_moment(s.get("started_at")) or t0) for s in spans]
    t0 = min([t0, *starts])
    ends = [((st - t0).total_seconds() * 1000 + float(s.get("duration_ms") or 0)) for st, s in zip(starts, spans, strict=True)]
    total = max([float(trace.duration_ms or 0), *ends, 1.0])
    ids = {str(s.get("span_id")) for s in spans}
    children: dict[str | None, list[int]] = {}
    for i, s in enumerate(spans):
        parent = s.get("parent_id")
        key = str(parent) if parent is not None and str(parent) in ids else None
        children.setdefault(key, []).append(i)
    ordered: list[tuple[int, int]] = []
    seen: set[int] = set()
    # Depth first, parents before children, with a stack: a chain of thousands of spans must not recurse.
    stack = [(i, 0) for i in reversed(children.get(None, []))]
    while stack:
        i, depth = stack.pop()
        if i in seen:
            continue
        seen.add(i)
        ordered.append((i, depth))
        stack.extend((child, min(depth + 1, 12)) for child in reversed(children.get(str(spans[i].get("span_id")), [])))
    ordered += [(i, 0) for i in range(len(spans)) if i not in seen]  # cycles: shown flat, never lost
    rows = []
    for i, depth in ordered:
        s = spans[i]
        offset = (starts[i] - t0).total_seconds() * 1000
        duration = float(s.get("duration_ms") or 0)
        usage = s.get("usage") if isinstance(s.get("usage"), dict) else {}
        error = s.get("error") if isinstance(s.get("error"), dict) else ({"message": str(s["error"])} if s.get("error") else None)
        rows.append({
            "id": str(s.get("span_id") or i), "name": str(s.get("name") or ""), "kind": str(s.get("kind") or "other"),
            "depth": range(depth), "depth_n": depth, "offset_ms": offset, "duration_ms": duration,
            "x": round(1000 * offset / total, 1), "w": round(max(1000 * duration / total, 3), 1),
            "model": s.get("model") or "", "provider": s.get("provider") or "", "usage": usage,
            "cost": costs.get(str(s.get("span_id"))), "error": error,
            "input": pretty(s.get("input")), "output": pretty(s.get("output")),
            "attributes": pretty(s.get("attributes")) if s.get("attributes") else "",
        })
    return rows


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


def _detail_context(request, trace, *, form: FeedbackForm | None = None, error: str = "") -> dict[str, Any]:
    evaluation: Evaluation | None = getattr(trace, "evaluation", None)
    details = evaluation.details if evaluation is not None and isinstance(evaluation.details, dict) else {}
    cost = details.get("cost") or {}
    costs = {str(c.get("span_id")): c.get("cost_usd") for c in cost.get("spans") or [] if isinstance(c, dict)}
    return {
        "nav": "traces", "trace": trace, "evaluation": evaluation, "details": details,
        "fixes": trace_fixes(request.organisation, evaluation) if evaluation is not None else [],
        "output_recorded": not isinstance(trace.metadata, dict) or trace.metadata.get("output_recorded") is not False,
        "spans": waterfall(trace, costs), "input": pretty(trace.input), "output": pretty(trace.output),
        "error": trace.error if isinstance(trace.error, dict) else None,
        "metadata": pretty(trace.metadata) if trace.metadata else "",
        "tags": [str(tag) for tag in trace.tags[:50]] if isinstance(trace.tags, list) else [],
        "feedback": Feedback.objects.for_org(request.organisation).filter(trace=trace)
        .select_related("author").order_by("-created_at")[:20],
        "form": form or FeedbackForm(), "form_error": error, "can_label": request.membership.can(Role.MEMBER),
    }


@org_view()
def trace_detail(request, trace_id: str):
    trace = get_for_org_or_404(selectors.traces_with_evaluation(), request.organisation, id=trace_id)
    return render(request, "traces/detail.html", _detail_context(request, trace))


@require_POST
@org_view(Role.MEMBER)
def trace_feedback(request, trace_id: str):
    trace = get_for_org_or_404(selectors.traces_with_evaluation(), request.organisation, id=trace_id)
    if getattr(trace, "evaluation", None) is None:
        raise Http404("Not evaluated")
    form = FeedbackForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            add_feedback(evaluation=trace.evaluation, author=request.user, source="web",
                         correct=form.cleaned_data["correct"], score=form.cleaned_data["score"],
                         label=form.cleaned_data["label"], notes=form.cleaned_data["notes"])
        except InvalidFeedback as exc:
            error = exc.message
        else:
            if not request.htmx:
                return redirect("trace-detail", org_slug=request.organisation.slug, trace_id=trace.id)
            trace = get_for_org_or_404(selectors.traces_with_evaluation(), request.organisation, id=trace_id)
            form = None
    else:
        error = "; ".join(f"{k}: {', '.join(v)}" for k, v in form.errors.items())
    status = 400 if error and not request.htmx else 200  # htmx swaps 2xx answers only
    template = "traces/detail.html#feedback" if request.htmx else "traces/detail.html"
    return render(request, template, _detail_context(request, trace, form=form, error=error), status=status)
