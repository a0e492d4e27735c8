"""Pages: model connections and judges under Settings (admins change them), a run's scores on its page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from arcweb.models import Role
from arcweb.tenancy import get_for_org_or_404, org_view
from traces.models import Agent, Trace

from . import selectors, services
from .models import Judge, Mode, ModelConnection, Provider, Template


class ConnectionForm(forms.Form):
    name = forms.CharField(max_length=120)
    provider = forms.ChoiceField(choices=Provider.choices)
    base_url = forms.CharField(max_length=500, initial="https://api.openai.com/v1")
    api_key = forms.CharField(required=False, max_length=1000, widget=forms.PasswordInput,
                              help_text="Sealed at rest; never shown again")
    default_model = forms.CharField(max_length=200, initial="gpt-4o-mini")


class JudgeForm(forms.Form):
    name = forms.CharField(max_length=120, required=False)
    template = forms.ChoiceField(choices=Template.choices)
    rubric = forms.CharField(required=False, max_length=20_000, widget=forms.Textarea(attrs={"rows": 2}))
    connection = forms.ChoiceField()
    model = forms.CharField(max_length=200, required=False, help_text="Blank: the connection's model")
    agents = forms.MultipleChoiceField(required=False, help_text="None picked: every agent")
    sample_rate = forms.FloatField(min_value=0, max_value=1, initial=1.0)
    only_failed = forms.BooleanField(required=False)
    tag = forms.CharField(max_length=200, required=False)
    mode = forms.ChoiceField(choices=Mode.choices)
    daily_budget_usd = forms.DecimalField(min_value=0, max_digits=12, decimal_places=4, required=False)
    decides_success = forms.BooleanField(required=False)
    enabled = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args: Any, organisation=None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["connection"].choices = [(str(c.id), c.name) for c in selectors.connections(organisation)]
        self.fields["agents"].choices = [(a.name, a.name) for a in Agent.objects.for_org(organisation)]


class BackfillForm(forms.Form):
    hours = forms.IntegerField(min_value=1, max_value=24 * 90, initial=24)


class BudgetForm(forms.Form):
    daily_budget_usd = forms.DecimalField(min_value=0, max_digits=12, decimal_places=4, required=False)


def _errors(form: forms.Form) -> str:
    return "; ".join(f"{name}: {', '.join(errors)}" for name, errors in form.errors.items())


@org_view()
def connections(request):
    organisation = request.organisation
    return render(request, "judges/connections.html", {
        "nav": "settings", "connections": selectors.connections(organisation), "form": ConnectionForm(),
        "can_admin": request.membership.can(Role.ADMIN)})


@require_POST
@org_view(Role.ADMIN)
def connection_create(request):
    form = ConnectionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _errors(form))
    else:
        try:
            services.save_connection(organisation=request.organisation, **form.cleaned_data)
        except services.InvalidInput as exc:
            messages.error(request, f"{exc.field}: {exc.message}")
    return redirect("model-connections", org_slug=request.organisation.slug)


@require_POST
@org_view(Role.ADMIN)
def connection_test(request, connection_id):
    connection = get_for_org_or_404(ModelConnection, request.organisation, id=connection_id)
    error = services.test_connection(connection)
    return render(request, "judges/connections.html#test-result", {"connection": connection, "error": error,
                                                                     "tested": True})


@org_view()
def judges(request):
    organisation = request.organisation
    rows = [(judge, selectors.cost_figures(judge), selectors.calibration(judge))
            for judge in selectors.judges(organisation)]
    budget = selectors.budget_figures(organisation)
    return render(request, "judges/judges.html", {
        "nav": "settings", "rows": rows, "form": JudgeForm(organisation=organisation),
        "budget_form": BudgetForm(initial={"daily_budget_usd": budget["daily_budget_usd"]}),
        "spend_today": budget["spend_today_usd"], "has_connections": selectors.connections(
            organisation).exists(), "can_admin": request.membership.can(Role.ADMIN)})


@require_POST
@org_view(Role.ADMIN)
def judge_save(request, judge_id=None):
    organisation = request.organisation
    judge = get_for_org_or_404(Judge, organisation, id=judge_id) if judge_id else None
    form = JudgeForm(request.POST, organisation=organisation)
    if not form.is_valid():
        messages.error(request, _errors(form))
    else:
        try:
            judge = services.save_judge(organisation=organisation, judge=judge, **form.cleaned_data)
        except services.InvalidInput as exc:
            messages.error(request, f"{exc.field}: {exc.message}")
    if judge is not None and judge.pk:
        return redirect("judge-detail", org_slug=organisation.slug, judge_id=judge.id)
    return redirect("judges", org_slug=organisation.slug)


@require_POST
@org_view(Role.ADMIN)
def budget_save(request):
    form = BudgetForm(request.POST)
    if form.is_valid():
        services.set_organisation_budget(request.organisation, form.cleaned_data["daily_budget_usd"])
    else:
        messages.error(request, _errors(form))
    return redirect("judges", org_slug=request.organisation.slug)


@org_view()
def judge_detail(request, judge_id):
    organisation = request.organisation
    judge = get_for_org_or_404(selectors.judges(organisation), organisation, id=judge_id)
    initial = {**{f: getattr(judge, f) for f in ("name", "template", "rubric", "model", "sample_rate", "only_failed",
                                                 "tag", "mode", "daily_budget_usd", "decides_success", "enabled")},
               "connection": str(judge.connection_id), "agents": [a.name for a in judge.agents.all()]}
    return render(request, "judges/judge.html", {
        "nav": "settings", "judge": judge, "costs": selectors.cost_figures(judge),
        "calibration": selectors.calibration(judge), "to_label": selectors.calibration_queue_counts(judge),
        "form": JudgeForm(initial=initial, organisation=organisation),
        "backfill_form": BackfillForm(),
        "can_admin": request.membership.can(Role.ADMIN)})


@require_POST
@org_view(Role.ADMIN)
def judge_backfill(request, judge_id):
    judge = get_for_org_or_404(Judge, request.organisation, id=judge_id)
    form = BackfillForm(request.POST)
    if form.is_valid():
        end = timezone.now()
        result = services.backfill(judge, end - timedelta(hours=form.cleaned_data["hours"]), end)
        messages.success(request, f"{result.queued} past runs queued for judging.")
    else:
        messages.error(request, _errors(form))
    return redirect("judge-detail", org_slug=request.organisation.slug, judge_id=judge.id)


@org_view()
def trace_scores(request, trace_id):
    trace = get_for_org_or_404(Trace, request.organisation, id=trace_id)
    return render(request, "judges/_scores.html", {"scores": selectors.trace_scores(request.organisation, trace.id)})
