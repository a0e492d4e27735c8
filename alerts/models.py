"""Monitors (conditions on an organisation's agents), the alerts they open and resolve, the webhooks alerts go to,
and the log of every notification sent."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from arcweb.encryption import SealedTextField
from arcweb.models import Organisation
from arcweb.tenancy import TenantManager
from evaluations.engine.compliance import SEVERITIES
from evaluations.models import Baseline, FailurePattern
from traces.models import Agent


class MonitorKind(models.TextChoices):
    RELIABILITY_DROP = "reliability_drop", "Reliability drop"
    NEW_PATTERN = "new_pattern", "New failure pattern"
    REGRESSED_PATTERN = "regressed_pattern", "Pattern regressed"
    COST_PER_RUN = "cost_per_run", "Cost per run above a threshold"
    COST_SPIKE = "cost_spike", "Cost per run spike"
    PII_FINDING = "pii_finding", "PII or secret finding"
    SILENCE = "silence", "Silence"
    JUDGE_PASS_RATE = "judge_pass_rate", "Judge score pass rate drop"


# The engine's compliance severities, mildest first (Severity.HIGH == "high", labelled "High").
Severity = models.TextChoices("Severity", [(name.upper(), name) for name in SEVERITIES])


class WebhookFormat(models.TextChoices):
    JSON = "json", "Generic JSON"
    SLACK = "slack", "Slack (text and blocks)"


class Webhook(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="webhooks")
    name = models.CharField(max_length=120)
    url = models.URLField(max_length=2000)
    format = models.CharField(max_length=10, choices=WebhookFormat.choices, default=WebhookFormat.JSON)
    active = models.BooleanField(default=True)
    secret = SealedTextField(help_text="The signing secret, encrypted; shown once when the webhook is made.")
    secret_hint = models.CharField(max_length=12)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["organisation", "name"], name="webhook_org_name")]

    def __str__(self) -> str:
        return self.name


class Monitor(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="monitors")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=MonitorKind.choices)
    agents = models.ManyToManyField(Agent, blank=True, related_name="+",
                                    help_text="The agents it watches; none means every agent.")
    window_minutes = models.PositiveIntegerField(default=60)
    min_runs = models.PositiveIntegerField(default=20)
    baseline = models.ForeignKey(Baseline, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    threshold_usd = models.DecimalField(max_digits=14, decimal_places=8, null=True, blank=True)
    spike_factor = models.FloatField(default=2.0)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.HIGH)
    score_name = models.CharField(max_length=120, blank=True, help_text="judge_pass_rate: the score (judge) watched.")
    webhooks = models.ManyToManyField(Webhook, blank=True, related_name="monitors")
    email_members = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    muted = models.BooleanField(default=False, help_text="Alerts still open and resolve; nothing is sent.")
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["organisation", "active"], name="monitor_org_active")]

    def __str__(self) -> str:
        return self.name


class AlertStatus(models.TextChoices):
    FIRING = "firing", "Firing"
    RESOLVED = "resolved", "Resolved"


class Alert(models.Model):
    """One episode of a monitor's condition on one agent: opened when it is met, resolved when it no longer is."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="alerts")
    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="alerts")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=AlertStatus.choices, default=AlertStatus.FIRING)
    summary = models.CharField(max_length=300)
    evidence = models.JSONField(default=dict, help_text="The figures, the window and the runs behind it.")
    pattern = models.ForeignKey(FailurePattern, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    opened_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    snoozed_until = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["-opened_at"]
        constraints = [models.UniqueConstraint(fields=["monitor", "agent"], condition=Q(status="firing"),
                                               name="one_open_alert_per_monitor_agent")]
        indexes = [models.Index(fields=["organisation", "-opened_at"], name="alert_org_opened"),
                   models.Index(fields=["organisation", "agent"], condition=Q(status="firing"),
                                name="alert_org_open_agent")]

    def __str__(self) -> str:
        return self.summary

    def snoozed(self, now=None) -> bool:
        return bool(self.snoozed_until and self.snoozed_until > (now or timezone.now()))


class Channel(models.TextChoices):
    WEBHOOK = "webhook", "Webhook"
    EMAIL = "email", "E-mail"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class Delivery(models.Model):
    """One notification (an alert firing or resolved, or a test) to one channel, with every attempt's outcome."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries")
    webhook = models.ForeignKey(Webhook, on_delete=models.SET_NULL, null=True, blank=True, related_name="deliveries")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    event = models.CharField(max_length=10, help_text="firing, resolved or test")
    body = models.TextField(help_text="What is sent, the same bytes on every attempt.")
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["organisation", "-created_at"], name="delivery_org_created")]

    def __str__(self) -> str:
        return f"{self.event} → {self.channel} ({self.status})"
