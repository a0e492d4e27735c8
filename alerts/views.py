"""The Alerts tab: open alerts and their history, monitors, webhooks; an alert's evidence and deliveries."""

from __future__ import annotations

from datetime import datetime

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from arcweb.models import Role
from arcweb.tenancy import get_for_org_or_404, org_view
from evaluations.models import Baseline
from traces.models import Agent

from . import selectors, services
from .models import AlertStatus, MonitorKind, Severity, WebhookFormat

HISTORY = 100


class MonitorForm(forms.Form):
    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=MonitorKind.choices)
    agents = forms.MultipleChoiceField(required=False, help_text="None chosen: every agent")
    window_minutes = forms.IntegerField(min_value=1, initial=60)
    min_runs = forms.IntegerField(min_value=1, initial=20)
    baseline = forms.ChoiceField(required=False)
    threshold_usd = forms.DecimalField(label="Threshold (USD per run)", required=False, min_value=0, max_digits=14, decimal_places=8)
    spike_factor = forms.FloatField(min_value=1.01, initial=2.0)
    severity = forms.ChoiceField(choices=Severity.choices, initial=Severity.HIGH)
    score_name = forms.CharField(max_length=120, required=False, help_text="For a judge's pass rate")
    webhooks = forms.MultipleChoiceField(required=False)
    email_members = forms.BooleanField(required=False)

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agents"].choices = [(a.name, a.name) for a in Agent.objects.for_org(organisation).order_by("name")]
        self.fields["baseline"].choices = [("", "the previous window")] + [
            (str(b.id), f"{b.agent.name}: {b.name}")
            for b in Baseline.objects.for_org(organisation).select_related("agent").order_by("name")]
        self.fields["webhooks"].choices = [(str(w.id), w.name) for w in selectors.webhooks_for(organisation)]


class WebhookForm(forms.Form):
    name = forms.CharField(max_length=120)
    url = forms.CharField(label="URL", max_length=2000)
    format = forms.ChoiceField(choices=WebhookFormat.choices)


def _errors(form: forms.Form) -> str:
    return "; ".join(f"{name}: {', '.join(errors)}" for name, errors in form.errors.items())


def _index(request, **extra):
    organisation = request.organisation
    alerts = list(selectors.alerts_for(organisation)[:HISTORY])
    return render(request, "alerts/index.html", {
        "nav": "alerts", "open_alerts": [a for a in alerts if a.status == AlertStatus.FIRING],
        "history": [a for a in alerts if a.status != AlertStatus.FIRING],
        "monitors": selectors.monitors_for(organisation), "webhooks": selectors.webhooks_for(organisation),
        "can_admin": request.membership.can(Role.ADMIN), "can_snooze": request.membership.can(Role.MEMBER),
        "monitor_form": MonitorForm(organisation=organisation), "webhook_form": WebhookForm(), **extra,
    })


@org_view()
def index(request):
    return _index(request)


def _span(span: dict | None) -> dict | None:
    """An evidence window's ISO moments as datetimes, for the page to format."""
    if not span:
        return None
    return {**span, "start": datetime.fromisoformat(span["start"]), "end": datetime.fromisoformat(span["end"])}


@org_view()
def alert_detail(request, alert_id):
    alert = get_for_org_or_404(selectors.alerts_for(request.organisation), request.organisation, id=alert_id)
    evidence = alert.evidence or {}
    return render(request, "alerts/alert.html", {
        "nav": "alerts", "alert": alert, "evidence": evidence,
        "figures": [(name.replace("_", " ").capitalize(), value) for name, value in (evidence.get("figures") or {}).items()],
        "window": _span(evidence.get("window")), "compared_with": _span(evidence.get("compared_with")),
        "can_snooze": request.membership.can(Role.MEMBER)})


@require_POST
@org_view(Role.MEMBER)
def alert_snooze(request, alert_id):
    alert = get_for_org_or_404(selectors.alerts_for(request.organisation), request.organisation, id=alert_id)
    minutes = request.POST.get("minutes", "")
    if not minutes.isdigit() or int(minutes) > 60 * 24 * 90:
        messages.error(request, "minutes: a whole number of minutes up to 90 days")
    else:
        services.snooze(alert, int(minutes))
    return redirect("alert-detail", org_slug=request.organisation.slug, alert_id=alert.id)


@require_POST
@org_view(Role.ADMIN)
def monitor_create(request):
    form = MonitorForm(request.POST, organisation=request.organisation)
    if not form.is_valid():
        messages.error(request, _errors(form))
        return redirect("alerts", org_slug=request.organisation.slug)
    try:
        services.create_monitor(organisation=request.organisation, data=services.MonitorData(**form.cleaned_data))
    except services.InvalidInput as exc:
        messages.error(request, f"{exc.field}: {exc.message}")
    return redirect("alerts", org_slug=request.organisation.slug)


@require_POST
@org_view(Role.ADMIN)
def monitor_mute(request, monitor_id):
    monitor = get_for_org_or_404(selectors.monitors_for(request.organisation), request.organisation, id=monitor_id)
    services.set_muted(monitor, not monitor.muted)
    return redirect("alerts", org_slug=request.organisation.slug)


@require_POST
@org_view(Role.ADMIN)
def monitor_delete(request, monitor_id):
    get_for_org_or_404(selectors.monitors_for(request.organisation), request.organisation, id=monitor_id).delete()
    return redirect("alerts", org_slug=request.organisation.slug)


@require_POST
@org_view(Role.ADMIN)
def webhook_create(request):
    form = WebhookForm(request.POST)
    if not form.is_valid():
        messages.error(request, _errors(form))
        return redirect("alerts", org_slug=request.organisation.slug)
    try:
        webhook, secret = services.create_webhook(organisation=request.organisation, **form.cleaned_data)
    except services.InvalidInput as exc:
        messages.error(request, f"{exc.field}: {exc.message}")
        return redirect("alerts", org_slug=request.organisation.slug)
    # rendered, not redirected: the secret is on this one page and stored nowhere readable
    return _index(request, new_webhook=webhook, new_secret=secret)


@require_POST
@org_view(Role.ADMIN)
def webhook_test(request, webhook_id):
    webhook = get_for_org_or_404(selectors.webhooks_for(request.organisation), request.organisation, id=webhook_id)
    services.send_test(webhook)
    messages.success(request, f"A test notification is on its way to {webhook.name}: see its delivery below.")
    return redirect("alerts", org_slug=request.organisation.slug)


@require_POST
@org_view(Role.ADMIN)
def webhook_delete(request, webhook_id):
    get_for_org_or_404(selectors.webhooks_for(request.organisation), request.organisation, id=webhook_id).delete()
    return redirect("alerts", org_slug=request.organisation.slug)
