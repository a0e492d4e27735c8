"""Input and output shapes of the datasets, experiments and replays API."""

from __future__ import annotations

from rest_framework import serializers

from evaluations.engine.checks import CHECK_TYPES

from .models import Dataset, DatasetItem, DatasetVersion, Experiment, ItemSource

MONEY = {"max_digits": 18, "decimal_places": 8, "coerce_to_string": False, "allow_null": True}


# -- datasets --------------------------------------------------------------------------------------------------
class CheckSerializer(serializers.Serializer):
    type = serializers.ChoiceField(CHECK_TYPES, help_text="exact, contains, regex, json_schema or numeric")
    value = serializers.JSONField(required=False, help_text="What to compare with (default: the expected output); "
                                                            "the pattern of a regex, the schema of json_schema")
    path = serializers.CharField(required=False, max_length=300, help_text="Dotted path into the output: answer.total")
    tolerance = serializers.FloatField(required=False, min_value=0, help_text="numeric: the largest difference allowed")


class ItemInput(serializers.Serializer):
    input = serializers.JSONField(help_text="What the agent is called with")
    expected_output = serializers.JSONField(required=False, allow_null=True, default=None)
    expected_behaviour = serializers.CharField(required=False, allow_blank=True, default="", max_length=20_000,
                                               help_text="In words, for judges and reviewers")
    checks = CheckSerializer(many=True, required=False, default=list,
                             help_text="Default with an expected output: one exact check")
    metadata = serializers.DictField(required=False, default=dict)


class ItemEditInput(serializers.Serializer):
    input = serializers.JSONField(required=False)
    expected_output = serializers.JSONField(required=False, allow_null=True)
    expected_behaviour = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    checks = CheckSerializer(many=True, required=False)
    metadata = serializers.DictField(required=False)


class ItemsInput(serializers.Serializer):
    items = ItemInput(many=True, min_length=1, max_length=5000, help_text="Added together as one new version")


class ItemOutput(serializers.ModelSerializer):
    dataset = serializers.UUIDField(source="dataset_id")
    source = serializers.ChoiceField(ItemSource.choices)
    source_trace = serializers.UUIDField(source="source_trace_id", allow_null=True)
    replaces = serializers.UUIDField(source="replaces_id", allow_null=True,
                                     help_text="The item this one is an edit of")

    class Meta:
        model = DatasetItem
        fields = ["id", "dataset", "input", "expected_output", "expected_behaviour", "checks", "metadata", "source",
                  "source_ref", "source_trace", "replaces", "added_in", "removed_in", "created_at"]


class ItemPageSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text="The dataset version these items are of")
    count = serializers.IntegerField()
    next_offset = serializers.IntegerField(allow_null=True)
    results = ItemOutput(many=True)


class ItemsAddedSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text="The new version")
    items = ItemOutput(many=True)


class DatasetInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    items = ItemInput(many=True, required=False, default=list, max_length=5000)


class VersionOutput(serializers.ModelSerializer):
    class Meta:
        model = DatasetVersion
        fields = ["number", "note", "item_count", "created_at"]


class DatasetOutput(serializers.ModelSerializer):
    version = serializers.IntegerField(help_text="The latest version (0: no items yet)")
    item_count = serializers.SerializerMethodField()
    versions = VersionOutput(many=True, read_only=True)

    class Meta:
        model = Dataset
        fields = ["id", "name", "description", "version", "item_count", "versions", "created_at"]

    def get_item_count(self, dataset: Dataset) -> int:
        latest = next(iter(dataset.versions.all()), None)
        return latest.item_count if latest else 0


class DatasetListSerializer(serializers.Serializer):
    results = DatasetOutput(many=True)


# -- experiments ----------------------------------------------------------------------------------------------
class ExperimentInput(serializers.Serializer):
    dataset = serializers.CharField(max_length=200, help_text="The dataset's id or name")
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=200,
                                 help_text="Unique in the organisation (default: the dataset's name and the time)")
    repeats = serializers.IntegerField(required=False, default=1, min_value=1, max_value=20,
                                       help_text="Runs of each item, for pass^k")
    agent = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    metadata = serializers.DictField(required=False, default=dict, help_text="e.g. the commit, the model")


class JudgeFiguresSerializer(serializers.Serializer):
    judge = serializers.UUIDField()
    name = serializers.CharField()
    judged = serializers.IntegerField(help_text="Runs the judge scored pass or fail")
    passed = serializers.IntegerField()
    pass_rate = serializers.FloatField(allow_null=True, help_text="Passed / judged")
    wilson_low = serializers.FloatField(allow_null=True, help_text="95% Wilson interval of the pass rate")
    wilson_high = serializers.FloatField(allow_null=True)
    mean_value = serializers.FloatField(allow_null=True, help_text="Mean score (0-1) of the judged runs")
    waiting = serializers.IntegerField(help_text="Runs still waiting for this judge")
    errors = serializers.IntegerField()
    skipped = serializers.IntegerField(help_text="Certain failures not sent, or budget reached")


class SummarySerializer(serializers.Serializer):
    items = serializers.IntegerField()
    items_run = serializers.IntegerField()
    runs = serializers.IntegerField()
    runs_expected = serializers.IntegerField()
    passed = serializers.IntegerField()
    success_rate = serializers.FloatField(allow_null=True, help_text="Passed runs / runs")
    wilson_low = serializers.FloatField(allow_null=True, help_text="95% Wilson interval of the success rate")
    wilson_high = serializers.FloatField(allow_null=True)
    items_passed_every_time = serializers.IntegerField()
    pass_k = serializers.FloatField(allow_null=True, help_text="pass^k with k = repeats, averaged over items")
    k = serializers.IntegerField()
    errors = serializers.IntegerField(help_text="Runs where the agent raised or timed out")
    cost_per_run_usd = serializers.DecimalField(**MONEY)
    cost_usd = serializers.DecimalField(**MONEY)
    latency_mean_ms = serializers.FloatField(allow_null=True)
    latency_p50_ms = serializers.FloatField(allow_null=True)
    latency_p95_ms = serializers.FloatField(allow_null=True)
    mean_score = serializers.FloatField(allow_null=True, help_text="The engine's quality score, 0-100")
    tool_success = serializers.FloatField(allow_null=True)
    items_compliant = serializers.IntegerField()
    items_compliance_known = serializers.IntegerField()
    pending_evaluations = serializers.IntegerField()
    judges = JudgeFiguresSerializer(many=True, help_text="Per judge of the organisation that scored a run")


class ExperimentOutput(serializers.ModelSerializer):
    dataset = serializers.UUIDField(source="dataset_id")
    dataset_name = serializers.CharField(source="dataset.name")
    summary = SummarySerializer(required=False, help_text="Only on GET /api/v1/experiments/{id}")
    url = serializers.CharField(help_text="The experiment's page")

    class Meta:
        model = Experiment
        fields = ["id", "name", "dataset", "dataset_name", "dataset_version", "agent", "repeats", "status", "metadata",
                  "created_at", "finished_at", "url", "summary"]


class ExperimentListSerializer(serializers.Serializer):
    results = ExperimentOutput(many=True)


class RunInput(serializers.Serializer):
    item = serializers.UUIDField()
    repeat = serializers.IntegerField(min_value=0, max_value=19)
    output = serializers.JSONField(required=False, allow_null=True, default=None)
    error = serializers.DictField(child=serializers.CharField(allow_blank=True, max_length=20_000), required=False,
                                  allow_null=True, default=None, help_text="{type, message}: the agent raised or "
                                                                           "timed out")
    duration_ms = serializers.FloatField(required=False, allow_null=True, default=None, min_value=0)
    trace_id = serializers.CharField(required=False, allow_blank=True, default="", max_length=512,
                                     help_text="The client's id of the run's trace")


class RunsInput(serializers.Serializer):
    runs = RunInput(many=True, min_length=1, max_length=1000)


class JudgeScoreSerializer(serializers.Serializer):
    judge = serializers.UUIDField(source="judge_id")
    name = serializers.CharField()
    passed = serializers.BooleanField(allow_null=True)
    value = serializers.FloatField(allow_null=True)
    status = serializers.CharField(help_text="done, error, skipped or pending")


class RunOutput(serializers.Serializer):
    item = serializers.UUIDField(required=False, help_text="Only in /runs")
    repeat = serializers.IntegerField()
    passed = serializers.BooleanField()
    checks_passed = serializers.BooleanField()
    checks = serializers.ListField(child=serializers.DictField())
    verdict = serializers.BooleanField(allow_null=True, help_text="The run's verdict (label, else deciding judge, else engine); null "
                                                                  "until evaluated")
    error = serializers.DictField(allow_null=True)
    trace = serializers.UUIDField(allow_null=True, help_text="The run's trace: /api/v1/traces/{trace}")
    duration_ms = serializers.FloatField(allow_null=True)
    cost_usd = serializers.DecimalField(**MONEY)
    score = serializers.FloatField(allow_null=True)
    judge_scores = JudgeScoreSerializer(many=True, help_text="The organisation's judges on the run's trace")


class RunsRecordedSerializer(serializers.Serializer):
    recorded = serializers.IntegerField()
    linked_to_traces = serializers.IntegerField()


class RunListSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next_offset = serializers.IntegerField(allow_null=True)
    results = RunOutput(many=True)


class ItemBriefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    input = serializers.JSONField()
    expected_output = serializers.JSONField(allow_null=True)
    expected_behaviour = serializers.CharField()


class ItemResultSerializer(serializers.Serializer):
    item = ItemBriefSerializer()
    runs_count = serializers.IntegerField()
    passes = serializers.IntegerField()
    pass_rate = serializers.FloatField(allow_null=True)
    pass_k = serializers.FloatField(allow_null=True, help_text="pass^k of this item, k = the experiment's repeats")
    passed_every_time = serializers.BooleanField(allow_null=True)
    cost_usd = serializers.DecimalField(**MONEY)
    duration_ms = serializers.FloatField(allow_null=True)
    score = serializers.FloatField(allow_null=True)
    runs = RunOutput(many=True)


class ItemResultPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next_offset = serializers.IntegerField(allow_null=True)
    results = ItemResultSerializer(many=True)


class McNemarSerializer(serializers.Serializer):
    fixed = serializers.IntegerField(help_text="b: failed in a, passes in b")
    broke = serializers.IntegerField(help_text="c: passed in a, fails in b")
    discordant = serializers.IntegerField()
    p_value = serializers.FloatField(help_text="Exact (binomial), two-sided")
    chi_square = serializers.FloatField(help_text="(|b - c| - 1)^2 / (b + c)")
    p_value_chi_square = serializers.FloatField()


class IntervalSerializer(serializers.Serializer):
    pairs = serializers.IntegerField()
    before = serializers.FloatField()
    after = serializers.FloatField()
    delta = serializers.FloatField()
    low = serializers.FloatField(help_text="95% paired bootstrap interval of the mean difference")
    high = serializers.FloatField()
    significant = serializers.BooleanField()


class SideSerializer(serializers.Serializer):
    passes = serializers.IntegerField()
    runs = serializers.IntegerField()
    traces = serializers.ListField(child=serializers.UUIDField(allow_null=True))


class PairSerializer(serializers.Serializer):
    item = ItemBriefSerializer()
    a = SideSerializer()
    b = SideSerializer()


class ProgressRowSerializer(serializers.Serializer):
    metric = serializers.CharField()
    before = serializers.FloatField(allow_null=True)
    after = serializers.FloatField(allow_null=True)
    delta = serializers.FloatField(allow_null=True)
    p_value = serializers.FloatField(allow_null=True)
    test = serializers.CharField()
    significant = serializers.BooleanField()
    better = serializers.BooleanField(allow_null=True)
    text = serializers.CharField(help_text="Reliability 73% → 89% (+16pp, significant)")


class JudgeDifferenceSerializer(serializers.Serializer):
    judge = serializers.UUIDField()
    name = serializers.CharField()
    items = serializers.IntegerField(help_text="Paired items the judge scored in both experiments")
    pass_rate_before = serializers.FloatField(allow_null=True, help_text="The judge's pass rate in a on those items")
    pass_rate_after = serializers.FloatField(allow_null=True)
    delta = serializers.FloatField(allow_null=True)
    mcnemar = McNemarSerializer(help_text="On each item passing the judge (every judged run passed)")
    significant = serializers.BooleanField()
    text = serializers.CharField(help_text="Judge correctness 50% → 100% (+50pp, 2 fixed, 0 broke, p = 0.5000)")


class ExperimentBriefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    dataset_version = serializers.IntegerField()
    summary = SummarySerializer()


class ComparisonSerializer(serializers.Serializer):
    a = ExperimentBriefSerializer()
    b = ExperimentBriefSerializer()
    dataset = serializers.UUIDField()
    items_compared = serializers.IntegerField(help_text="Items both experiments ran, unchanged between their versions")
    only_in_a = serializers.IntegerField()
    only_in_b = serializers.IntegerField()
    alpha = serializers.FloatField()
    mcnemar = McNemarSerializer()
    regressed = serializers.BooleanField(help_text="b is significantly less reliable than a: fail a CI gate")
    improved = serializers.BooleanField()
    fixed = PairSerializer(many=True)
    broke = PairSerializer(many=True)
    still_failing = PairSerializer(many=True)
    still_passing = serializers.IntegerField()
    intervals = serializers.DictField(child=IntervalSerializer(allow_null=True))
    progress = ProgressRowSerializer(many=True)
    judges = JudgeDifferenceSerializer(many=True, help_text="Per judge that scored both experiments")
    url = serializers.CharField()


# -- replays ----------------------------------------------------------------------------------------------------
class SpanRefSerializer(serializers.Serializer):
    trace = serializers.UUIDField(help_text="The trace's id")
    span_id = serializers.CharField(max_length=512, help_text="The LLM span's span_id in that trace")


class ReplayInput(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    connection = serializers.UUIDField(help_text="A model connection (POST /api/v1/model-connections)")
    model = serializers.CharField(max_length=200, required=False, allow_blank=True, default="",
                                  help_text="The cheaper model to replay the calls on (default: the connection's)")
    judge_model = serializers.CharField(required=False, allow_blank=True, default="", max_length=200,
                                        help_text="The model that judges equivalence (default: model)")
    budget_usd = serializers.DecimalField(max_digits=12, decimal_places=4, min_value=0, max_value=10_000, default=5,
                                          help_text="No call is made past it (replays and judge calls)")
    spans = SpanRefSerializer(many=True, min_length=1, max_length=500)


class ReplayCallSerializer(serializers.Serializer):
    trace = serializers.UUIDField(source="trace_id")
    span_id = serializers.CharField()
    recorded_model = serializers.CharField()
    request = serializers.CharField(help_text="The last user message of the call")
    recorded_answer = serializers.CharField()
    replayed_answer = serializers.CharField()
    status = serializers.CharField()
    equivalent = serializers.BooleanField(allow_null=True)
    reasoning = serializers.CharField()
    error = serializers.CharField()


class ReplayResultsSerializer(serializers.Serializer):
    calls = serializers.IntegerField()
    judged = serializers.IntegerField()
    equivalent = serializers.IntegerField()
    exact_matches = serializers.IntegerField(help_text="Identical answers: no judge asked")
    equivalent_share = serializers.FloatField(allow_null=True)
    wilson_low = serializers.FloatField(allow_null=True, help_text="95% Wilson interval of the share")
    wilson_high = serializers.FloatField(allow_null=True)
    errors = serializers.IntegerField()
    skipped_for_budget = serializers.IntegerField()
    pending = serializers.IntegerField()
    recorded_cost_per_call_usd = serializers.DecimalField(**MONEY)
    replay_cost_per_call_usd = serializers.DecimalField(**MONEY)
    savings_per_1000_calls_usd = serializers.DecimalField(**MONEY)


class ReplayOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    status = serializers.CharField(help_text="queued, running, done, stopped (the organisation's daily judging "
                                             "budget was reached; see error) or failed")
    connection = serializers.UUIDField(source="connection_id")
    connection_name = serializers.CharField()
    model = serializers.CharField()
    judge_model = serializers.CharField()
    budget_usd = serializers.DecimalField(**MONEY)
    spent_usd = serializers.DecimalField(**MONEY)
    error = serializers.CharField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    results = ReplayResultsSerializer()
    differing = ReplayCallSerializer(many=True, help_text="The calls whose replayed answer is not equivalent")
    url = serializers.CharField()


class ReplayListSerializer(serializers.Serializer):
    results = ReplayOutput(many=True)
