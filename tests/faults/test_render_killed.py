"""A worker process SIGKILLed in the middle of a PDF render: the task comes back and renders it — the PDF never
stays "Rendering" for ever, and nobody has to ask again."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest
from django.conf import settings
from django.utils import timezone

from reports import services
from reports.models import PdfStatus, ReportPdf
from tests.processes import celery_worker, log_path, wait_until
from tests.reports.conftest import AGENT, runs

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (make test sets it)")]


def pool_child(parent: int) -> int | None:
    found = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True).stdout.split()
    return int(found[0]) if found else None


def test_a_render_killed_mid_way_is_rendered_by_the_redelivered_task(acme, acme_api):
    assert acme_api.post("/api/v1/traces", runs()).status_code == 202
    report = services.create_report(organisation=acme.organisation,
                                    agents=services.resolve_agents(acme.organisation, [AGENT]), window="30d")
    pdf = ReportPdf.objects.get(report=report)  # queued on commit, to the real broker
    with celery_worker(queue_purge=False, pool="prefork") as worker:
        assert wait_until(lambda: ReportPdf.objects.get(pk=pdf.pk).status == PdfStatus.RUNNING, timeout=60,
                          interval=0.01)
        child = pool_child(worker.pid)
        assert child is not None, "no pool process to kill"
        os.kill(child, signal.SIGKILL)
        killed_at = timezone.now()
        at_kill = ReportPdf.objects.get(pk=pdf.pk)
        assert at_kill.status == PdfStatus.RUNNING and at_kill.content is None  # killed mid-render, not after
        assert wait_until(lambda: ReportPdf.objects.get(pk=pdf.pk).status == PdfStatus.DONE, timeout=90), \
            log_path("test-worker").read_text()[-3000:]
        log = log_path("test-worker").read_text()
    done = ReportPdf.objects.get(pk=pdf.pk)
    drained = (done.finished_at - killed_at).total_seconds()
    assert "WorkerLostError" in log and "signal 9 (SIGKILL)" in log  # the job was in the killed process
    assert done.render_task_id == at_kill.render_task_id  # the same message, redelivered, took it over
    assert bytes(done.content)[:4] == b"%PDF" and done.size == len(bytes(done.content))
    print(f"\nrender killed mid-way: 1 PDF requested; status RUNNING {(killed_at - at_kill.render_started_at)
          .total_seconds():.2f} s into the render when killed; rendered by the redelivered task, done "
          f"{drained:.2f} s after the kill")
