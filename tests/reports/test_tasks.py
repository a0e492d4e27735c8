"""Celery work of reports: the PDF with progress, the weekly reports and their e-mail."""

from __future__ import annotations

from datetime import timedelta

from django.core import mail
from django.utils import timezone

from reports import services
from reports.models import RUNNING_STALE, PdfStatus, Report, ReportPdf, ReportSchedule
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


def test_a_render_whose_task_was_lost_is_queued_again_on_request(report, django_capture_on_commit_callbacks):
    """Left "rendering" by a worker that died with the task (the message lost with it): once it has been
    rendering for longer than a render can take, the next request queues it again."""
    ReportPdf.objects.filter(report=report).update(
        status=PdfStatus.RUNNING, content=None, render_task_id="lost",
        render_started_at=timezone.now() - RUNNING_STALE - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        pdf = services.request_pdf(report=report)
    pdf.refresh_from_db()
    assert pdf.status == PdfStatus.DONE and bytes(pdf.content)[:4] == b"%PDF"


def test_a_render_in_progress_is_neither_queued_again_nor_rendered_twice(report, django_capture_on_commit_callbacks):
    ReportPdf.objects.filter(report=report).update(status=PdfStatus.RUNNING, content=None, render_task_id="busy",
                                                   render_started_at=timezone.now() - timedelta(seconds=5))
    with django_capture_on_commit_callbacks(execute=True) as queued:
        pdf = services.request_pdf(report=report)
    assert queued == [] and pdf.status == PdfStatus.RUNNING
    assert render_report_pdf.apply(args=[pdf.pk]).get() == PdfStatus.RUNNING  # another task: it leaves it alone
    assert ReportPdf.objects.get(pk=pdf.pk).content is None


def test_the_redelivered_task_of_a_render_takes_it_over(report):
    """A worker killed mid-render: the message comes back with the same task id, and that task renders it."""
    pdf = ReportPdf.objects.get(report=report)
    ReportPdf.objects.filter(pk=pdf.pk).update(status=PdfStatus.RUNNING, content=None, render_task_id="t-1",
                                               render_started_at=timezone.now())
    assert render_report_pdf.apply(args=[pdf.pk], task_id="t-1").get() == PdfStatus.DONE
    assert bytes(ReportPdf.objects.get(pk=pdf.pk).content)[:4] == b"%PDF"
