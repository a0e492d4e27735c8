"""Model connections (an organisation's own endpoints), judges that call them on runs, and scores on runs."""

from __future__ import annotations

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from arcweb.encryption import SealedTextField
from arcweb.models import Organisation
from arcweb.tenancy import TenantManager
from evaluations.models import Evaluation
from traces.models import Agent, Trace


class Provider(models.TextChoices):
    OPENAI = "openai", "OpenAI-compatible"
    ANTHROPIC = "anthropic", "Anthropic"


class ModelConnection(models.Model):
    """An organisation's model endpoint; its key is sealed at rest and never shown again (a hint only)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="model_connections")
    name = models.CharField(max_length=120)
    provider = models.CharField(max_length=12, choices=Provider.choices, default=Provider.OPENAI)
    base_url = models.CharField(max_length=500)
    api_key = SealedTextField(blank=True)
    key_hint = models.CharField(max_length=8, blank=True)
    default_model = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantManager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Template(models.TextChoices):
    TASK_COMPLETION = "task_completion", "Task completion"
    TOOL_USE = "tool_use", "Tool use"
    GROUNDEDNESS = "groundedness", "Groundedness"
    FINANCE = "finance", "Finance"
    SECURITY = "security", "Security"
    CUSTOM = "custom", "Custom rubric"


class Mode(models.TextChoices):
    ALL = "all", "Every run"
    UNCERTAIN = "uncertain", "Only runs the rules cannot decide"


class Judge(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="judges")
    name = models.CharField(max_length=120)
    template = models.CharField(max_length=20, choices=Template.choices, default=Template.TASK_COMPLETION)
    rubric = models.TextField(blank=True, help_text="The custom judge's criteria; added to a template's.")
    connection = models.ForeignKey(ModelConnection, on_delete=models.PROTECT, related_name="judges")
    model = models.CharField(max_length=200, blank=True, help_text="Empty: the connection's default model.")
    agents = models.ManyToManyField(Agent, blank=True, related_name="+", help_text="None: every agent.")
    sample_rate = models.FloatField(default=1.0, validators=[MinValueValidator(0), MaxValueValidator(1)])
    only_failed = models.BooleanField(default=False)
    tag = models.CharField(max_length=200, blank=True, help_text="Only runs carrying this tag.")
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.ALL)
    daily_budget_usd = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    decides_success = models.BooleanField(default=False)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantManager()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["organisation", "enabled"], name="judge_org_enabled")]

    def __str__(self) -> str:
        return self.name


class JudgingBudget(models.Model):
    """The organisation's daily ceiling on all its judges together."""

    organisation = models.OneToOneField(Organisation, on_delete=models.CASCADE, related_name="judging_budget")
    daily_budget_usd = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)

    objects = TenantManager()

    def __str__(self) -> str:
        return f"{self.organisation_id}: {self.daily_budget_usd}"


class Source(models.TextChoices):
    JUDGE = "judge", "Judge"
    HUMAN = "human", "Human"
    API = "api", "API"


class ScoreStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Done"
    ERROR = "error", "Error"
    SKIPPED = "skipped", "Skipped"


class Score(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="scores")
    trace = models.ForeignKey(Trace, on_delete=models.CASCADE, related_name="scores")
    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, null=True, blank=True, related_name="scores")
    judge = models.ForeignKey(Judge, on_delete=models.SET_NULL, null=True, blank=True, related_name="scores")
    name = models.CharField(max_length=120)
    source = models.CharField(max_length=6, choices=Source.choices, default=Source.API)
    value = models.FloatField(null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(1)])
    passed = models.BooleanField(null=True, blank=True)
    category = models.CharField(max_length=60, blank=True)
    reasoning = models.TextField(blank=True)
    model = models.CharField(max_length=200, blank=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=14, decimal_places=8, null=True, blank=True)
    unpriced = models.BooleanField(default=False)
    status = models.CharField(max_length=8, choices=ScoreStatus.choices, default=ScoreStatus.DONE)
    status_reason = models.CharField(max_length=300, blank=True)
    judged_spans = models.PositiveIntegerField(null=True, blank=True,
                                               help_text="A judge's score: the run's spans when it was judged (its "
                                                         "late spans arriving since, it is judged again)")
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["judge", "trace"], condition=Q(judge__isnull=False),
                                               name="one_score_per_judge_and_run")]
        indexes = [models.Index(fields=["organisation", "trace"], name="score_org_trace"),
                   models.Index(fields=["organisation", "judge", "-created_at"], name="score_org_judge_created")]

    def __str__(self) -> str:
        return f"{self.name} on {self.trace_id}: {self.value} ({self.status})"
