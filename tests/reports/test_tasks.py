"""Celery work of reports: the PDF with progress, the weekly reports and their e-mail."""

from __future__ import annotations

from datetime import timedelta

from django.core import mail
from django.utils import timezone

from reports import services
from reports.models import PdfStatus, Report, ReportPdf, ReportSchedule
from reports.tasks import make_weekly_reports, render_report_pdf
from traces.models import Agent


def test_creating_a_report_renders_its_a4_pdf(report):
    pdf = ReportPdf.objects.get(report=report)
    assert pdf.status == PdfStatus.DONE and pdf.progress == 100
    assert bytes(pdf.content)[:4] == b"%PDF" and pdf.render_ms is not None


def test_render_task_is_idempotent(report):
    pdf = ReportPdf.objects.get(report=report)
    assert render_report_pdf(pdf.pk) == PdfStatus.DONE
    assert ReportPdf.objects.filter(report=report).count() == 1


def test_failed_pdf_is_queued_again_on_request(report, django_capture_on_commit_callbacks):
    ReportPdf.objects.filter(report=report).update(status=PdfStatus.FAILED, content=None)
    with django_capture_on_commit_callbacks(execute=True):
        pdf = services.request_pdf(report=report)
    pdf.refresh_from_db()
    assert pdf.status == PdfStatus.DONE


def test_weekly_schedule_makes_a_report_and_mails_members(seeded, django_capture_on_commit_callbacks):
    agent = Agent.objects.for_org(seeded.organisation).get()
    ReportSchedule.objects.create(organisation=seeded.organisation, agent=agent, email_members=True)
    with django_capture_on_commit_callbacks(execute=True):
        assert make_weekly_reports() == 1
    report = Report.objects.for_org(seeded.organisation).get()
    assert report.source == "schedule" and report.window == "7d"
    assert sorted(m.to[0] for m in mail.outbox) == ["owner@acme.test", "viewer@acme.test"]
    assert "75" in mail.outbox[0].body
    (name, content, mimetype), = mail.outbox[0].attachments
    assert name.startswith("reliability-report-") and mimetype == "application/pdf" and content.startswith(b"%PDF")
    assert make_weekly_reports() == 0  # not due again for a week


def test_schedule_is_due_again_after_a_week(seeded):
    agent = Agent.objects.for_org(seeded.organisation).get()
    ReportSchedule.objects.create(organisation=seeded.organisation, agent=agent,
                                  last_run_at=timezone.now() - timedelta(days=7))
    assert make_weekly_reports() == 1
