"""Writes of reports: make a snapshot, share it, revoke it, count its views, ask for its PDF, run schedules.

A snapshot is built from the same `evaluations.figures.agent_figures` the pages and the API read, so a report
says what the workbench said at that moment; it holds figures only, never trace contents.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from arcweb import audit, windows
from arcweb.branding import logo_base64
from arcweb.models import Organisation, OrganisationLogo
from arcweb.windows import Window
from evaluations import figures, selectors
from evaluations.engine import ENGINE_VERSION
from evaluations.figures import AgentFigures
from evaluations.models import Baseline, Evaluation, EvaluationStatus, PatternStatus
from judges import selectors as judge_selectors
from traces.models import Agent

from .models import DEFAULT_SECTIONS, SECTIONS, Paper, PdfStatus, Report, ReportPdf, ReportSchedule, ShareLink

log = logging.getLogger(__name__)
MAX_AGENTS = 10
TOP_PATTERNS = 5
COMPLIANCE_SAMPLE = 20_000  # compliance counts are summed over at most this many of the window's runs
FIGURES = ("runs", "successes", "reliability", "wilson_low", "wilson_high", "grade", "pass_k", "trend",
           "latency_p50_ms", "latency_p95_ms", "latency_mean_ms", "time_split", "tool_success", "tool_calls",
           "tool_errors", "cost_per_run_usd", "cost_total_usd", "reduction_pct", "compliance_passed",
           "open_compliance_findings")


class ReportError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class PublicLookup:
    """What a public token resolves to: a live link, or why there is none (gone = known and revoked)."""

    link: ShareLink | None
    gone: bool = False


def _plain(value: Any) -> Any:
    """JSON-safe copy: datetimes as ISO strings, Decimals as strings."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _series(organisation: Organisation, agents: Sequence[Agent], span: Window) -> list[list[Any]]:
    """Reliability per day (per hour for windows up to two days) of these agents taken together:
    [bucket start ISO, percent or None, runs]."""
    bucket = timedelta(hours=1) if span.span <= timedelta(days=2) else timedelta(days=1)
    per_agent = figures.series(organisation, [a.id for a in agents], span, bucket).values()
    together = [figures.Bucket(same[0].start, runs=sum(b.runs for b in same),
                               successes=sum(b.successes for b in same)) for same in zip(*per_agent, strict=True)]
    return [[b.start.isoformat(), b.reliability, b.runs] for b in together]


def _compliance(organisation: Organisation, agent: Agent, start: datetime, end: datetime) -> dict[str, Any]:
    """Findings counted by rule: the rule names and how often, never the values that matched."""
    summaries = (Evaluation.objects.for_org(organisation)
                 .filter(agent=agent, status=EvaluationStatus.DONE, started_at__gte=start, started_at__lt=end)
                 .order_by("-started_at").values_list("details__compliance__by_rule", flat=True)[:COMPLIANCE_SAMPLE])
    by_rule: Counter[str] = Counter()
    for counts in summaries:
        if isinstance(counts, dict):
            for rule, n in counts.items():
                if isinstance(n, int):
                    by_rule[str(rule)[:60]] += n
    return {"by_rule": dict(by_rule.most_common(20)), "findings": sum(by_rule.values())}


def _patterns(organisation: Organisation, agent: Agent) -> list[dict[str, Any]]:
    """The agent's most frequent failure patterns with the fix suggested or applied — categories, not messages."""
    found = []
    for pattern in selectors.patterns_for(organisation).filter(agent=agent).order_by("-occurrences")[:TOP_PATTERNS]:
        fixes = selectors.pattern_fixes(pattern)
        found.append({
            "category": pattern.category, "step": pattern.step[:80], "occurrences": pattern.occurrences,
            "status": pattern.status, "status_label": PatternStatus(pattern.status).label,
            "fix_applied_at": pattern.fix_applied_at, "fix": fixes[0]["title"] if fixes else None,
            "reliability_pp": fixes[0]["impact"]["reliability_pp"] if fixes else None,
        })
    return found


def agent_snapshot(organisation: Organisation, agent_figures: AgentFigures, *,
                   baseline: Baseline | None = None) -> dict[str, Any]:
    agent, span = agent_figures.agent, agent_figures.window
    entry: dict[str, Any] = {
        "name": agent.name,
        "figures": {k: v for k, v in agent_figures.as_dict().items() if k in FIGURES},
        "series": _series(organisation, [agent], span),
        "compliance": _compliance(organisation, agent, span.start, span.end),
        "patterns": _patterns(organisation, agent),
        "scores": judge_selectors.agent_scores(organisation, agent, span.start, span.end),
    }
    if baseline is not None and baseline.agent_id == agent.id:
        entry["baseline"] = {"name": baseline.name, "start": baseline.start, "end": baseline.end,
                             "metrics": figures.compare_windows(organisation, agent,
                                                                selectors.baseline_window(baseline), span)}
    return entry


def build_snapshot(organisation: Organisation, agents: Sequence[Agent], *, span: Window, sections: Sequence[str],
                   baseline: Baseline | None = None) -> dict[str, Any]:
    agent_figures = figures.agent_figures(organisation, agents, span)
    logo = OrganisationLogo.objects.for_org(organisation).values_list("png", flat=True).first()
    return _plain({
        "organisation": organisation.name,
        "organisation_logo": logo_base64(bytes(logo)) if logo else None,
        "engine_version": ENGINE_VERSION,
        "generated_at": span.end,
        "window": {"label": span.name, "start": span.start, "end": span.end},
        "sections": list(sections),
        "headline": figures.combined(agent_figures),
        "series": _series(organisation, agents, span),  # the headline's chart: every agent of the report
        "agents": [agent_snapshot(organisation, f, baseline=baseline) for f in agent_figures],
    })


def _clean_sections(sections: Sequence[str] | None, baseline: Baseline | None) -> list[str]:
    if not sections:
        chosen = list(DEFAULT_SECTIONS)
    else:
        unknown = [s for s in sections if s not in SECTIONS]
        if unknown:
            raise ReportError("sections", f"unknown section {unknown[0]!r}; choose from {', '.join(SECTIONS)}")
        chosen = [s for s in SECTIONS if s in sections]
    if baseline is not None and "baseline" not in chosen:
        chosen.append("baseline")
    return chosen


def resolve_agents(organisation: Organisation, idents: Sequence[str]) -> list[Agent]:
    agents: list[Agent] = []
    for ident in idents:
        agent = selectors.find_agent(organisation, str(ident))
        if agent is None:
            raise ReportError("agent", f"no agent {str(ident)[:80]!r} in this organisation")
        if agent not in agents:
            agents.append(agent)
    if not agents:
        raise ReportError("agent", "name at least one agent")
    if len(agents) > MAX_AGENTS:
        raise ReportError("agents", f"a report covers at most {MAX_AGENTS} agents")
    return agents


def create_report(*, organisation: Organisation, agents: Sequence[Agent], window: str = "30d",
                  sections: Sequence[str] | None = None, baseline: Baseline | None = None, title: str = "",
                  created_by=None, source: str = "web", share: bool = False, expires_at: datetime | None = None,
                  now: datetime | None = None) -> Report:
    """Freeze the figures of `agents` over the window named `window` into a Report (and a share link when `share`).

    The A4 PDF is queued at once, so a download right after creation usually finds it ready.
    """
    try:
        span = windows.window(window, now=now)
    except windows.BadWindow as exc:
        raise ReportError("window", str(exc)) from None
    if baseline is not None and baseline.organisation_id != organisation.id:
        raise ReportError("baseline", "no such baseline")
    chosen = _clean_sections(sections, baseline)
    try:
        snapshot = build_snapshot(organisation, agents, span=span, sections=chosen, baseline=baseline)
    except windows.WindowsOverlap as exc:  # a baseline section never compares a window with itself
        raise ReportError("baseline", str(exc)) from None
    names = [a.name for a in agents]
    with transaction.atomic():
        report = Report.objects.create(
            organisation=organisation, title=(title or _default_title(names, span.name))[:200], agent_names=names,
            window=span.name, window_start=span.start, window_end=span.end, sections=chosen, baseline=baseline,
            engine_version=ENGINE_VERSION, snapshot=snapshot, source=source, created_by=created_by,
            created_at=span.end)
        if share:
            share_report(report=report, created_by=created_by, expires_at=expires_at)
        request_pdf(report=report, paper=Paper.A4)
    return report


def _default_title(names: list[str], window: str) -> str:
    who = names[0] if len(names) == 1 else f"{len(names)} agents"
    return f"Reliability of {who} — last {window}"


def share_report(*, report: Report, created_by=None, expires_at: datetime | None = None) -> ShareLink:
    """A new public link. Callers check the role (owner/admin) and the organisation's sharing switch."""
    if not report.organisation.public_sharing_enabled:
        raise ReportError("share", "public sharing is turned off for this organisation")
    if expires_at is not None and expires_at <= timezone.now():
        raise ReportError("expires_at", "the expiry must be in the future")
    link = ShareLink.objects.create(organisation=report.organisation, report=report, created_by=created_by,
                                    expires_at=expires_at)
    audit.record(organisation=report.organisation, action="report.shared", target=report.title,
                 actor=created_by, report=str(report.id), expires_at=expires_at.isoformat() if expires_at else None)
    return link


def revoke_links(*, report: Report, by=None, key=None) -> int:
    """Stop every live link of the report; the rows stay so the links answer 410 Gone."""
    revoked = ShareLink.objects.for_org(report.organisation).filter(report=report, revoked_at__isnull=True).update(
        revoked_at=timezone.now())
    if revoked:
        audit.record(organisation=report.organisation, action="report.revoked", target=report.title, actor=by,
                     key=key, report=str(report.id), links=revoked)
    return revoked


def delete_report(*, report: Report) -> None:
    """Links go with it: afterwards they are unknown tokens (404)."""
    report.delete()


def live_link(report: Report) -> ShareLink | None:
    return next((link for link in report.links.all() if link.is_live), None)


def lookup_public(token: str) -> PublicLookup:
    """The live link for a token. Unknown, expired or of an organisation that turned sharing off → none;
    known and revoked → gone. Public tokens are the one lookup not scoped to an organisation: the token
    is the credential, and the link row carries its organisation."""
    if not token or len(token) > 64:
        return PublicLookup(None)
    link = ShareLink.objects.select_related("report", "organisation").filter(token=token).first()
    if link is None or not link.organisation.public_sharing_enabled or link.is_expired:
        return PublicLookup(None)
    if link.is_revoked:
        return PublicLookup(None, gone=True)
    return PublicLookup(link)


def record_view(link: ShareLink) -> None:
    ShareLink.objects.filter(pk=link.pk).update(view_count=F("view_count") + 1, last_viewed_at=timezone.now())


def request_pdf(*, report: Report, paper: str = Paper.A4) -> ReportPdf:
    """The report's PDF on `paper`: made once by a task (queued after commit), then served from the row."""
    from .tasks import render_report_pdf

    pdf, created = ReportPdf.objects.get_or_create(organisation=report.organisation, report=report, paper=paper)
    if created or pdf.status == PdfStatus.FAILED or pdf.is_stale(timezone.now()):
        if not created:
            ReportPdf.objects.filter(pk=pdf.pk).update(status=PdfStatus.PENDING, progress=0, error="",
                                                       requested_at=timezone.now())
            pdf.status, pdf.progress = PdfStatus.PENDING, 0
        transaction.on_commit(lambda: _enqueue(render_report_pdf, pdf.pk))
    return pdf


def _enqueue(task, pk: Any) -> None:
    try:
        task.delay(pk)
    except Exception:  # broker down: the row stays pending; a request after 5 minutes queues it again
        log.warning("could not queue %s(%s)", task.name, pk)


def run_schedules(now: datetime | None = None) -> list[Report]:
    """The weekly reports that are due (none made in the last 7 days, give or take the hourly beat), one per active schedule."""
    now = now or timezone.now()
    made = []
    due = ReportSchedule.objects.select_related("organisation", "agent").filter(active=True).exclude(
        last_run_at__gt=now - timedelta(days=7, hours=-1))
    for schedule in due:
        report = create_report(organisation=schedule.organisation, agents=[schedule.agent], window="7d",
                               source="schedule", title=f"Weekly reliability of {schedule.agent.name}", now=now)
        ReportSchedule.objects.filter(pk=schedule.pk).update(last_run_at=now)
        made.append(report)
        if schedule.email_members:
            from .tasks import email_report

            transaction.on_commit(lambda r=report: _enqueue(email_report, str(r.pk)))
    return made
