"""Datasets of test cases, the experiments that run an agent over them, and replays of recorded model calls.

A dataset is versioned without copying: an item row is immutable and lives from the version that added it
(`added_in`) until the version that edited or removed it (`removed_in`, exclusive). The items of version N
are the rows with added_in <= N < removed_in; an experiment records the N it ran, so its items never move.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from arcweb.models import Organisation
from arcweb.tenancy import TenantManager, TenantQuerySet
from judges.models import ModelConnection
from traces.models import Trace


class Dataset(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="datasets")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=0, help_text="The latest version; 0 while it has no items.")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    objects = TenantManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "name"], name="dataset_name_per_org")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DatasetVersion(models.Model):
    """What one change did: 'added 10 items by API', 'edited item …'."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    note = models.CharField(max_length=300)
    item_count = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dataset", "number"], name="one_row_per_dataset_version")]
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"{self.dataset_id} v{self.number}"


class ItemSource(models.TextChoices):
    API = "api", "API"
    UPLOAD = "upload", "Upload"
    SCENARIO = "scenario", "Failure pattern scenario"
    RUN = "run", "Run"
    LABEL = "label", "Labelled run"
    MANUAL = "manual", "Typed in"


class DatasetItemQuerySet(TenantQuerySet):
    def at_version(self, number: int) -> DatasetItemQuerySet:
        return self.filter(Q(removed_in__isnull=True) | Q(removed_in__gt=number), added_in__lte=number)


class DatasetItem(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="items")
    input = models.JSONField(null=True)
    expected_output = models.JSONField(null=True, blank=True)
    expected_behaviour = models.TextField(blank=True, help_text="In words, for judges and reviewers.")
    checks = models.JSONField(default=list, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=10, choices=ItemSource.choices, default=ItemSource.API)
    source_ref = models.CharField(max_length=300, blank=True, help_text="Where it came from: a file line, a scenario.")
    source_trace = models.ForeignKey(Trace, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    replaces = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                 help_text="The row this edit replaced.")
    added_in = models.PositiveIntegerField()
    removed_in = models.PositiveIntegerField(null=True, blank=True)
    position = models.PositiveIntegerField(default=0, help_text="Order of the items, kept across edits.")
    created_at = models.DateTimeField(default=timezone.now)

    objects = models.Manager.from_queryset(DatasetItemQuerySet)()

    class Meta:
        indexes = [models.Index(fields=["organisation", "dataset", "added_in"], name="item_org_dataset_added")]
        ordering = ["position", "created_at"]

    def __str__(self) -> str:
        return f"item {self.id} of {self.dataset_id}"


class ExperimentStatus(models.TextChoices):
    RUNNING = "running", "Running"
    FINISHED = "finished", "Finished"


class Experiment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="experiments")
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="experiments")
    dataset_version = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    agent = models.CharField(max_length=200, blank=True, help_text="The agent the SDK ran, as it named it.")
    repeats = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=10, choices=ExperimentStatus.choices, default=ExperimentStatus.RUNNING)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "name"], name="experiment_name_per_org")]
        indexes = [models.Index(fields=["organisation", "dataset", "-created_at"], name="experiment_org_dataset")]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class ItemRun(models.Model):
    """One run of the agent on one item (one of the experiment's repeats), linked to its trace."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="runs")
    item = models.ForeignKey(DatasetItem, on_delete=models.CASCADE, related_name="runs")
    repeat = models.PositiveSmallIntegerField()
    trace = models.ForeignKey(Trace, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    trace_ref = models.CharField(max_length=512, blank=True, help_text="The client's trace id.")
    output = models.JSONField(null=True)
    error = models.JSONField(null=True, help_text="{type, message} when the agent raised or timed out.")
    duration_ms = models.FloatField(null=True)
    check_results = models.JSONField(default=list)
    checks_passed = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["experiment", "item", "repeat"], name="one_run_per_repeat")]
        indexes = [models.Index(fields=["organisation", "experiment"], name="itemrun_org_experiment")]

    def __str__(self) -> str:
        return f"{self.experiment_id}/{self.item_id}#{self.repeat}"


class ReplayStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    STOPPED = "stopped", "Stopped: the organisation's daily judging budget is reached"
    FAILED = "failed", "Failed"


class Replay(models.Model):
    """Recorded model calls replayed on another model, each answer judged against the recorded one."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="replays")
    name = models.CharField(max_length=200)
    connection = models.ForeignKey(ModelConnection, on_delete=models.PROTECT, related_name="replays",
                                   help_text="The endpoint the calls are replayed on and judged by.")
    model = models.CharField(max_length=200, help_text="The candidate model the calls are replayed on.")
    judge_model = models.CharField(max_length=200, help_text="The model that judges equivalence.")
    budget_usd = models.DecimalField(max_digits=12, decimal_places=4)
    spent_usd = models.DecimalField(max_digits=14, decimal_places=8, default=0)
    status = models.CharField(max_length=10, choices=ReplayStatus.choices, default=ReplayStatus.QUEUED)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        indexes = [models.Index(fields=["organisation", "-created_at"], name="replay_org_created")]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class CallStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Done"
    ERROR = "error", "Error"
    SKIPPED = "skipped", "Skipped (budget)"


class ReplayCall(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    replay = models.ForeignKey(Replay, on_delete=models.CASCADE, related_name="calls")
    trace = models.ForeignKey(Trace, on_delete=models.CASCADE, related_name="+")
    span_id = models.CharField(max_length=512)
    recorded_model = models.CharField(max_length=512, blank=True)
    messages = models.JSONField()
    recorded_answer = models.TextField()
    recorded_cost_usd = models.DecimalField(max_digits=14, decimal_places=8, null=True)
    replayed_answer = models.TextField(blank=True)
    replay_cost_usd = models.DecimalField(max_digits=14, decimal_places=8, null=True)
    judge_cost_usd = models.DecimalField(max_digits=14, decimal_places=8, null=True)
    status = models.CharField(max_length=10, choices=CallStatus.choices, default=CallStatus.PENDING)
    exact = models.BooleanField(null=True, help_text="The same text: no judge was asked.")
    equivalent = models.BooleanField(null=True)
    reasoning = models.TextField(blank=True)
    error = models.TextField(blank=True)
    called_at = models.DateTimeField(null=True, blank=True, help_text="When its spend counted against the "
                                                                      "organisation's daily judging budget.")

    objects = TenantManager()

    class Meta:
        indexes = [models.Index(fields=["organisation", "replay"], name="replaycall_org_replay"),
                   models.Index(fields=["organisation", "called_at"], name="replaycall_org_called")]
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.replay_id}: {self.trace_id}/{self.span_id}"
