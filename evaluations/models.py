"""What we conclude from traces."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from arcweb.models import Organisation
from arcweb.tenancy import TenantManager
from traces.models import Agent, Trace


class EvaluationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class Evaluation(models.Model):
    """One per trace, written pending in the ingestion transaction and filled by the worker."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="evaluations")
    trace = models.OneToOneField(Trace, on_delete=models.CASCADE, related_name="evaluation")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="evaluations")
    started_at = models.DateTimeField(help_text="The trace's start, copied here for window queries.")
    status = models.CharField(max_length=10, choices=EvaluationStatus.choices, default=EvaluationStatus.PENDING)
    enqueued_at = models.DateTimeField(default=timezone.now)
    evaluated_at = models.DateTimeField(null=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    engine_version = models.CharField(max_length=20, blank=True)
    success = models.BooleanField(null=True)
    score = models.FloatField(null=True)
    grade = models.CharField(max_length=3, blank=True)
    cost_usd = models.DecimalField(max_digits=14, decimal_places=8, null=True)
    input_tokens = models.PositiveBigIntegerField(default=0)
    output_tokens = models.PositiveBigIntegerField(default=0)
    llm_calls = models.PositiveIntegerField(default=0)
    tool_calls = models.PositiveIntegerField(default=0)
    tool_errors = models.PositiveIntegerField(default=0)
    duration_ms = models.FloatField(null=True)
    error_type = models.CharField(max_length=512, blank=True)
    failure_category = models.CharField(max_length=40, blank=True)
    failure_fingerprint = models.CharField(max_length=64, blank=True)
    framework = models.CharField(max_length=64, blank=True)
    details = models.JSONField(default=dict)

    objects = TenantManager()

    class Meta:
        indexes = [
            models.Index(fields=["organisation", "agent", "-started_at"], name="eval_org_agent_started"),
            models.Index(fields=["organisation", "enqueued_at"], name="eval_pending",
                         condition=models.Q(status="pending")),
        ]

    def __str__(self) -> str:
        return f"evaluation of {self.trace_id} ({self.status})"
