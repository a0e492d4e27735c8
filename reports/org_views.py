"""The organisation's report pages: list and create, detail with links and views, share, revoke, PDF."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from arcweb.models import Role
from arcweb.tenancy import get_for_org_or_404, org_view, require_role
from arcweb.windows import REPORT_WINDOWS, window_title
from evaluations.models import Baseline
from traces.models import Agent

from . import services
from .models import SECTIONS, Paper, PdfStatus, Report, ReportPdf, ReportSchedule, ShareLink
from .presentation import report_context

SECTION_LABELS = {
    "reliability": "Reliability", "pass_k": "pass^k",  # nosec B105 - section labels, not passwords
    "trend": "Trend", "cost": "Cost", "tools": "Tool accuracy", "latency": "Latency",
    "compliance": "Compliance summary", "patterns": "Failure patterns & fixes", "baseline": "Baseline comparison",
}


class ReportForm(forms.Form):
    agents = forms.ModelMultipleChoiceField(queryset=Agent.objects.none(), widget=forms.CheckboxSelectMultiple)
    window = forms.ChoiceField(choices=[(w, window_title(w)) for w in REPORT_WINDOWS], initial="30d")
    sections = forms.MultipleChoiceField(choices=[(s, SECTION_LABELS[s]) for s in SECTIONS if s != "baseline"],
                                         initial=[s for s in SECTIONS if s != "baseline"],
                                         widget=forms.CheckboxSelectMultiple, required=False)
    baseline = forms.ModelChoiceField(queryset=Baseline.objects.none(), required=False)
    title = forms.CharField(max_length=200, required=False, widget=forms.TextInput(attrs={"placeholder": "automatic"}))

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        # both querysets scoped to the organisation: a foreign id is "not a valid choice", like a missing one
        self.fields["agents"].queryset = Agent.objects.for_org(organisation).order_by("name")
        self.fields["baseline"].queryset = Baseline.objects.for_org(organisation).select_related("agent")
        self.fields["baseline"].empty_label = "— none —"


class ShareForm(forms.Form):
    expires_at = forms.DateTimeField(required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                                     help_text="Optional; the link stops working then.")


@org_view()
def report_list(request):
    organisation = request.organisation
    form = ReportForm(request.POST or None, organisation=organisation)
    if request.method == "POST":
        require_role(request, Role.MEMBER)
        if form.is_valid():
            data = form.cleaned_data
            try:
                report = services.create_report(
                    organisation=organisation, agents=list(data["agents"]), window=data["window"],
                    sections=data["sections"], baseline=data["baseline"], title=data["title"],
                    created_by=request.user, source="web")
            except services.ReportError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "Report created. It is private until an owner or admin shares it.")
                return redirect("report-detail", org_slug=organisation.slug, report_id=report.id)
    reports = (Report.objects.for_org(organisation).select_related("created_by").prefetch_related("links")
               .order_by("-created_at")[:200])
    schedules = ReportSchedule.objects.for_org(organisation).select_related("agent").order_by("agent__name")
    return render(request, "reports/org/list.html", {
        "nav": "reports", "reports": reports, "form": form, "schedules": schedules,
        "can_create": request.membership.can(Role.MEMBER), "can_admin": request.membership.can(Role.ADMIN),
        "agents": Agent.objects.for_org(organisation).order_by("name"),
    })


def _report(request, report_id) -> Report:
    return get_for_org_or_404(Report.objects.prefetch_related("links"), request.organisation, id=report_id)


@org_view()
def report_detail(request, report_id):
    report = _report(request, report_id)
    context = report_context(report.snapshot)
    links = list(ShareLink.objects.for_org(request.organisation).filter(report=report).order_by("-created_at"))
    pdfs = {p.paper: p for p in ReportPdf.objects.for_org(request.organisation).filter(report=report)
            .defer("content")}
    context.update({
        "nav": "reports", "report": report, "links": links, "pdfs": pdfs, "papers": Paper.choices,
        "total_views": sum(link.view_count for link in links), "share_form": ShareForm(),
        "can_admin": request.membership.can(Role.ADMIN),
        "sharing_enabled": request.organisation.public_sharing_enabled,
    })
    return render(request, "reports/org/detail.html", context)


@require_POST
@org_view(Role.ADMIN)
def report_share(request, report_id):
    report = _report(request, report_id)
    form = ShareForm(request.POST)
    if form.is_valid():
        try:
            services.share_report(report=report, created_by=request.user, expires_at=form.cleaned_data["expires_at"])
        except services.ReportError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Public link created. Anyone with it can read this report.")
    else:
        messages.error(request, "The expiry is not a valid date.")
    return redirect("report-detail", org_slug=request.organisation.slug, report_id=report.id)


@require_POST
@org_view(Role.ADMIN)
def report_revoke(request, report_id):
    report = _report(request, report_id)
    count = services.revoke_links(report=report, by=request.user)
    messages.success(request, f"{count} link(s) revoked; they now answer 410 Gone.")
    return redirect("report-detail", org_slug=request.organisation.slug, report_id=report.id)


@require_POST
@org_view(Role.ADMIN)
def report_delete(request, report_id):
    report = _report(request, report_id)
    services.delete_report(report=report)
    messages.success(request, "Report deleted.")
    return redirect("report-list", org_slug=request.organisation.slug)


@org_view()
def report_pdf(request, report_id, paper: str):
    """Download when ready; otherwise queue it and show the progress (an htmx partial polls this)."""
    report = _report(request, report_id)
    if paper not in Paper.values:
        return HttpResponse(status=404)
    pdf = services.request_pdf(report=report, paper=paper)
    pdf.refresh_from_db()
    if pdf.status == PdfStatus.DONE and not request.htmx:
        response = HttpResponse(bytes(pdf.content), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="report-{report.id}-{paper}.pdf"'
        return response
    return render(request, "reports/org/_pdf_status.html", {"report": report, "pdf": pdf, "paper": paper},
                  status=200 if request.htmx or pdf.status == PdfStatus.DONE else 202)


@require_POST
@org_view(Role.ADMIN)
def schedule_save(request):
    """Turn the weekly report of an agent on (with or without e-mail) or off."""
    agent = get_for_org_or_404(Agent, request.organisation, id=request.POST.get("agent", ""))
    active = request.POST.get("active") == "on"
    email = request.POST.get("email_members") == "on"
    ReportSchedule.objects.update_or_create(
        organisation=request.organisation, agent=agent,
        defaults={"active": active, "email_members": email, "created_by": request.user})
    messages.success(request, f"Weekly report of {agent.name} {'on' if active else 'off'}.")
    return redirect("report-list", org_slug=request.organisation.slug)
