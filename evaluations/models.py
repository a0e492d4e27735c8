"""What we conclude from traces."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F
from django.utils import timezone

from arcweb.models import Organisation
from arcweb.tenancy import TenantManager
from evaluations.engine.verdict import verdict_of, verdict_source
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
    llm_ms = models.FloatField(default=0)
    tool_ms = models.FloatField(default=0)
    compliance_findings = models.PositiveIntegerField(default=0)
    compliance_passed = models.BooleanField(default=True)
    unpriced = models.BooleanField(default=False)
    input_fingerprint = models.CharField(max_length=32, blank=True)
    savings_usd = models.DecimalField(max_digits=14, decimal_places=8, null=True,
                                      help_text="What the savings found in this run would save on it.")
    label_success = models.BooleanField(null=True, help_text="The latest human label; it overrides `success`.")
    judge_success = models.BooleanField(null=True, help_text="The deciding judge's verdict; it overrides `success`.")
    counted_in = models.DateTimeField(null=True, help_text="The rollup hour this run was counted in, if any.")

    objects = TenantManager()

    class Meta:
        indexes = [
            models.Index(fields=["organisation", "agent", "-started_at"], name="eval_org_agent_started"),
            models.Index(fields=["organisation", "enqueued_at"], name="eval_pending",
                         condition=models.Q(status="pending")),
            # The explorer sorted by cost or by tokens (either way: the index is read forwards or backwards).
            models.Index(fields=["organisation", "cost_usd", "trace"], name="eval_org_cost",
                         condition=models.Q(cost_usd__isnull=False)),
            models.Index(F("organisation"), F("input_tokens") + F("output_tokens"), F("trace"), name="eval_org_tokens"),
        ]

    def __str__(self) -> str:
        return f"evaluation of {self.trace_id} ({self.status})"

    @property
    def verdict(self) -> bool | None:
        """The run's outcome: a human label wins, then the deciding judge, then the rules."""
        return verdict_of(self.label_success, self.judge_success, self.success)

    @property
    def verdict_source(self) -> str:
        return verdict_source(self.label_success, self.judge_success)


class AgentHour(models.Model):
    """An agent's runs in one hour, as sums and counts: windows of any length add these up."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="hours")
    hour = models.DateTimeField()
    runs = models.PositiveIntegerField(default=0)
    successes = models.PositiveIntegerField(default=0)
    score_sum = models.FloatField(default=0)
    timed_runs = models.PositiveIntegerField(default=0, help_text="Runs with a recorded duration (the latency figures').")
    duration_ms_sum = models.FloatField(default=0)
    duration_ms_sq_sum = models.FloatField(default=0)
    llm_ms_sum = models.FloatField(default=0)
    tool_ms_sum = models.FloatField(default=0)
    tool_calls = models.PositiveBigIntegerField(default=0)
    tool_errors = models.PositiveBigIntegerField(default=0)
    cost_usd_sum = models.DecimalField(max_digits=18, decimal_places=8, default=0)
    cost_usd_sq_sum = models.DecimalField(max_digits=24, decimal_places=12, default=0)
    priced_runs = models.PositiveIntegerField(default=0)
    compliance_passed = models.PositiveIntegerField(default=0)
    input_tokens = models.PositiveBigIntegerField(default=0)
    output_tokens = models.PositiveBigIntegerField(default=0)
    savings_usd_sum = models.DecimalField(max_digits=18, decimal_places=8, default=0)
    latency_histogram = models.JSONField(default=list)

    objects = TenantManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "agent", "hour"], name="one_rollup_per_hour")]

    def __str__(self) -> str:
        return f"{self.agent_id}@{self.hour:%Y-%m-%d %H}:00"


class PatternStatus(models.TextChoices):
    OPEN = "open", "Open"
    FIX_APPLIED = "fix_applied", "Fix applied"
    RESOLVED = "resolved", "Resolved"
    REGRESSED = "regressed", "Regressed"


class FailurePattern(models.Model):
    """Runs of one agent that failed the same way (same fingerprint)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="failure_patterns")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="failure_patterns")
    fingerprint = models.CharField(max_length=64)
    category = models.CharField(max_length=40)
    message = models.TextField(blank=True, help_text="The normalised message (ids and numbers removed).")
    step = models.CharField(max_length=512, blank=True)
    framework = models.CharField(max_length=64, blank=True)
    occurrences = models.PositiveIntegerField(default=0)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    example_traces = models.JSONField(default=list, help_text="Ids of up to 10 recent traces.")
    example_inputs = models.JSONField(default=list)
    status = models.CharField(max_length=12, choices=PatternStatus.choices, default=PatternStatus.OPEN)
    fix_applied_at = models.DateTimeField(null=True)
    runs_since_fix = models.PositiveIntegerField(default=0)
    occurrences_since_fix = models.PositiveIntegerField(default=0)
    prior_rate = models.FloatField(default=0, help_text="Share of the agent's runs it hit before the fix.")
    agent_version = models.CharField(max_length=120, blank=True, help_text="The version it was last seen on.")

    objects = TenantManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "agent", "fingerprint"],
                                               name="one_pattern_per_fingerprint")]
        indexes = [models.Index(fields=["organisation", "-last_seen"], name="pattern_org_last_seen")]

    def __str__(self) -> str:
        return f"{self.category} in {self.step or 'run'} ({self.occurrences})"


class Feedback(models.Model):
    """A teammate's (or an API client's) label of one run; the latest one wins."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="feedback")
    trace = models.ForeignKey(Trace, on_delete=models.CASCADE, related_name="feedback")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    source = models.CharField(max_length=10, default="web", choices=[("web", "Web"), ("api", "API")])
    correct = models.BooleanField(null=True)
    score = models.PositiveSmallIntegerField(null=True, validators=[MinValueValidator(1), MaxValueValidator(5)])
    label = models.CharField(max_length=40, blank=True, help_text="A failure category from the taxonomy.")
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        indexes = [models.Index(fields=["organisation", "trace", "-created_at"], name="feedback_org_trace")]

    def __str__(self) -> str:
        return f"feedback on {self.trace_id}: {self.correct}"


class Baseline(models.Model):
    """A named window of an agent's runs to compare later windows against."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="baselines")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="baselines")
    name = models.CharField(max_length=120)
    start = models.DateTimeField()
    end = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "agent", "name"], name="baseline_name")]

    def __str__(self) -> str:
        return self.name


class LabelAssignment(models.Model):
    """A run put in a teammate's labelling queue; one assignee per run (re-assigning replaces it)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="label_assignments")
    trace = models.OneToOneField(Trace, on_delete=models.CASCADE, related_name="label_assignment")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="label_assignments")
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        indexes = [models.Index(fields=["organisation", "assignee", "-created_at"], name="assignment_org_assignee")]

    def __str__(self) -> str:
        return f"{self.trace_id} → {self.assignee_id}"
