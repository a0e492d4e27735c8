"""What agents send: the agents themselves and their traces.

A trace's spans are stored as one JSON document beside it: they are always read whole, with their
trace, and one row per trace keeps ingestion at thousands of traces a second. The facts that pages
filter and sum on (cost, tokens, calls, failure category) are columns of its Evaluation.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from arcweb.models import Organisation
from arcweb.tenancy import TenantManager


class Agent(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="agents")
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "name"], name="agent_name_per_org")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Trace(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="traces")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="traces")
    trace_id = models.CharField(max_length=512, help_text="The client's id; unique per organisation.")
    framework = models.CharField(max_length=64, blank=True)
    domain = models.CharField(max_length=32, blank=True)
    started_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    duration_ms = models.FloatField(null=True)
    success_reported = models.BooleanField(null=True)
    input = models.JSONField(null=True)
    output = models.JSONField(null=True)
    error = models.JSONField(null=True)
    spans = models.JSONField(default=list)
    span_count = models.PositiveIntegerField(default=0)
    session_id = models.CharField(max_length=512, blank=True)
    user_id = models.CharField(max_length=512, blank=True)
    tags = models.JSONField(default=list)
    metadata = models.JSONField(default=dict)

    objects = TenantManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "trace_id"], name="trace_id_per_org")]
        indexes = [
            models.Index(fields=["organisation", "-started_at"], name="trace_org_started"),
            models.Index(fields=["organisation", "agent", "-started_at"], name="trace_org_agent_started"),
            # Retention and "last run": the server's clock, not the client's.
            models.Index(fields=["organisation", "received_at"], name="trace_org_received"),
            # The explorer's "runs of this session / user"; partial, so runs without one cost nothing.
            models.Index(fields=["organisation", "session_id", "-started_at"], name="trace_org_session",
                         condition=~models.Q(session_id="")),
            models.Index(fields=["organisation", "user_id", "-started_at"], name="trace_org_user",
                         condition=~models.Q(user_id="")),
        ]

    def __str__(self) -> str:
        return f"{self.agent_id}:{self.trace_id}"
