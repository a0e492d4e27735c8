"""Reports: frozen snapshots of an organisation's figures, the public links that show them, their PDFs."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from arcweb.models import Organisation
from arcweb.tenancy import TenantManager


class ReportSource(models.TextChoices):
    WEB = "web", "Web"
    API = "api", "API"
    SCHEDULE = "schedule", "Weekly schedule"


SECTIONS = ("reliability", "pass_k", "trend", "cost", "tools", "latency", "compliance", "patterns", "baseline")
DEFAULT_SECTIONS = SECTIONS[:-1]


class Report(models.Model):
    """What an organisation's agents achieved over a window, frozen when it was made.

    `snapshot` holds figures only — rates, counts, costs, counts of compliance findings by rule, the
    categories of failure patterns — never trace contents, so a shared report cannot leak them and never
    changes under its reader.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="reports")
    title = models.CharField(max_length=200)
    agent_names = models.JSONField(default=list)
    window = models.CharField(max_length=8, help_text="As asked: 24h, 7d, 30d, …")
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    sections = models.JSONField(default=list)
    baseline = models.ForeignKey("evaluations.Baseline", on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+")
    engine_version = models.CharField(max_length=20)
    snapshot = models.JSONField(default=dict)
    source = models.CharField(max_length=10, choices=ReportSource.choices, default=ReportSource.WEB)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        indexes = [models.Index(fields=["organisation", "-created_at"], name="report_org_created")]

    def __str__(self) -> str:
        return self.title


def new_share_token() -> str:
    # 32 random bytes: 256 bits, far above the 128 a link needs to be unguessable.
    return secrets.token_urlsafe(32)


class ShareLink(models.Model):
    """A public link to one report. Revoking keeps the row, so the link answers 410 rather than 404."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="links")
    token = models.CharField(max_length=64, unique=True, default=new_share_token)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    view_count = models.PositiveIntegerField(default=0)
    last_viewed_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        indexes = [models.Index(fields=["organisation", "report"], name="sharelink_org_report")]

    def __str__(self) -> str:
        return f"link to {self.report_id}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_live(self) -> bool:
        return not self.is_revoked and not self.is_expired


class Paper(models.TextChoices):
    A4 = "a4", "A4"
    LETTER = "letter", "Letter"


class PdfStatus(models.TextChoices):
    PENDING = "pending", "Queued"
    RUNNING = "running", "Rendering"
    DONE = "done", "Ready"
    FAILED = "failed", "Failed"


# A render takes a second or two; Celery kills one still running after RENDER_TIME_LIMIT seconds. A PDF queued
# or rendering for longer than it can take has lost its task (broker down, worker killed): it is queued again.
RENDER_TIME_LIMIT = 120
RUNNING_STALE = timedelta(seconds=RENDER_TIME_LIMIT + 30)
PENDING_STALE = timedelta(minutes=5)


class ReportPdf(models.Model):
    """A report rendered to PDF on one paper size; made once by a task, then served from here."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="pdfs")
    paper = models.CharField(max_length=8, choices=Paper.choices, default=Paper.A4)
    status = models.CharField(max_length=8, choices=PdfStatus.choices, default=PdfStatus.PENDING)
    progress = models.PositiveSmallIntegerField(default=0, help_text="0-100, shown while rendering.")
    content = models.BinaryField(null=True, blank=True)
    size = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=200, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    render_started_at = models.DateTimeField(null=True, blank=True)
    render_task_id = models.CharField(max_length=255, blank=True, help_text="The task rendering it (while running).")
    finished_at = models.DateTimeField(null=True, blank=True)
    render_ms = models.FloatField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "report", "paper"], name="one_pdf_per_paper")]

    def __str__(self) -> str:
        return f"{self.report_id} ({self.paper}, {self.status})"

    def is_stale(self, now: datetime) -> bool:
        """Queued or rendering for longer than a render can take: its task is lost and must be queued again."""
        if self.status == PdfStatus.PENDING:
            return self.requested_at < now - PENDING_STALE
        if self.status == PdfStatus.RUNNING:
            return self.render_started_at is None or self.render_started_at < now - RUNNING_STALE
        return False


class ReportSchedule(models.Model):
    """A weekly report of one agent, made by Celery beat and optionally e-mailed to the members."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey("traces.Agent", on_delete=models.CASCADE, related_name="+")
    email_members = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    last_run_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "agent"], name="one_schedule_per_agent")]

    def __str__(self) -> str:
        return f"weekly report of {self.agent_id}"
