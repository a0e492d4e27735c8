"""Celery tasks of reports: render a PDF (with progress), make the weekly reports, e-mail one.

Thin and idempotent: each takes ids, loads the rows, calls a service, saves. Without REDIS_URL they run
in-process (settings.CELERY_TASK_ALWAYS_EAGER).
"""

from __future__ import annotations

import logging
import time

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from arcweb.models import Membership

from . import services
from .models import RENDER_TIME_LIMIT, PdfStatus, Report, ReportPdf
from .pdf import render_pdf

log = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, time_limit=RENDER_TIME_LIMIT)
def render_report_pdf(self, pdf_id: int) -> str:
    with transaction.atomic():
        pdf = ReportPdf.objects.select_for_update().select_related("report").filter(pk=pdf_id).first()
        if pdf is None:
            return "missing"
        now = timezone.now()
        if pdf.status == PdfStatus.DONE or (pdf.status == PdfStatus.RUNNING and not _abandoned(pdf, self, now)):
            return pdf.status
        pdf.status, pdf.progress = PdfStatus.RUNNING, 10
        pdf.render_started_at, pdf.render_task_id = now, self.request.id or ""
        pdf.save(update_fields=["status", "progress", "render_started_at", "render_task_id"])

    def progress(value: int) -> None:
        ReportPdf.objects.filter(pk=pdf_id).update(progress=value)

    started = time.perf_counter()
    try:
        content = render_pdf(pdf.report, paper=pdf.paper, progress=progress)
    except Exception as exc:  # a broken render must show as failed (and be retried on request), not hang
        log.exception("PDF of report %s failed", pdf.report_id)
        ReportPdf.objects.filter(pk=pdf_id).update(status=PdfStatus.FAILED, error=type(exc).__name__[:200],
                                                   finished_at=timezone.now())
        return PdfStatus.FAILED
    ReportPdf.objects.filter(pk=pdf_id).update(
        status=PdfStatus.DONE, progress=100, content=content, size=len(content), finished_at=timezone.now(),
        render_ms=round((time.perf_counter() - started) * 1000, 1))
    return PdfStatus.DONE


def _abandoned(pdf: ReportPdf, task, now) -> bool:
    """A render nobody is doing any more: this very task was rendering it (so it is a redelivery after its
    worker died: a message is redelivered only then, or after the broker's visibility timeout, which is far
    longer than RENDER_TIME_LIMIT), or it started longer ago than a render can take."""
    return bool(task.request.id) and pdf.render_task_id == task.request.id or pdf.is_stale(now)


@shared_task
def make_weekly_reports() -> int:
    return len(services.run_schedules())


@shared_task(acks_late=True)
def email_report(report_id: str) -> int:
    report = Report.objects.select_related("organisation").filter(pk=report_id).first()
    if report is None:
        return 0
    emails = sorted(set(Membership.objects.for_org(report.organisation).values_list("user__email", flat=True)))
    emails = [e for e in emails if e]
    if not emails:
        return 0
    url = settings.SITE_URL + reverse("report-detail", args=[report.organisation.slug, report.pk])
    body = render_to_string("reports/org/email.txt", {"report": report, "url": url,
                                                      "headline": report.snapshot.get("headline", {})})
    subject = "[Arc Eval] " + " ".join(report.title.split())  # a header holds no line breaks
    attachment = (f"reliability-report-{report.created_at:%Y-%m-%d}.pdf", render_pdf(report), "application/pdf")
    # one message per member: members need not see each other's addresses
    return sum(EmailMessage(subject, body, None, [email], attachments=[attachment]).send() for email in emails)
