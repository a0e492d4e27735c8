"""The judges API's shapes. The key is write-only: answers carry its hint (last four characters) at most."""

from __future__ import annotations

from rest_framework import serializers

from .models import Mode, Provider, Source, Template

MAX_KEY = 1000


class ConnectionInput(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    provider = serializers.ChoiceField(Provider.choices, default=Provider.OPENAI,
                                       help_text="openai: any OpenAI-compatible endpoint (OpenAI, Azure, vLLM, Ollama, "
                                                 "LiteLLM); anthropic")
    base_url = serializers.CharField(max_length=500, help_text="e.g. https://api.openai.com/v1")
    api_key = serializers.CharField(max_length=MAX_KEY, required=False, allow_blank=True, default="", write_only=True,
                                    help_text="Sealed at rest, never returned or shown again")
    default_model = serializers.CharField(max_length=200, help_text="e.g. gpt-4o-mini")


class ConnectionPatch(ConnectionInput):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, partial=True, **kwargs)


class ConnectionOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    provider = serializers.CharField()
    base_url = serializers.CharField()
    key_hint = serializers.CharField(help_text="The key's last four characters")
    default_model = serializers.CharField()
    created_at = serializers.DateTimeField()


class ConnectionTestOutput(serializers.Serializer):
    ok = serializers.BooleanField()
    error = serializers.CharField()


class JudgeInput(serializers.Serializer):
    name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    template = serializers.ChoiceField(Template.choices, default=Template.TASK_COMPLETION)
    rubric = serializers.CharField(required=False, allow_blank=True, default="", max_length=20_000,
                                   help_text="Required for a custom judge; added to a template's criteria")
    connection = serializers.UUIDField(help_text="A model connection of this organisation")
    model = serializers.CharField(max_length=200, required=False, allow_blank=True, default="",
                                  help_text="Default: the connection's model")
    agents = serializers.ListField(child=serializers.CharField(max_length=200), required=False, default=list,
                                   max_length=500, help_text="Agent names or ids; empty: every agent")
    sample_rate = serializers.FloatField(min_value=0, max_value=1, default=1.0, help_text="Share of runs judged, 0 to 1")
    only_failed = serializers.BooleanField(default=False, help_text="Only runs whose verdict is a failure")
    tag = serializers.CharField(max_length=200, required=False, allow_blank=True, default="",
                                help_text="Only runs carrying this tag")
    mode = serializers.ChoiceField(Mode.choices, default=Mode.ALL,
                                   help_text="uncertain: skip runs the rules already failed (crashes, errors)")
    daily_budget_usd = serializers.DecimalField(max_digits=12, decimal_places=4, min_value=0, required=False,
                                                allow_null=True, default=None,
                                                help_text="No call starts once today's spend (UTC) reaches it")
    decides_success = serializers.BooleanField(default=False,
                                               help_text="The run's verdict follows this judge (a human label wins)")
    enabled = serializers.BooleanField(default=True)


class JudgePatch(JudgeInput):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, partial=True, **kwargs)


class AgreementOutput(serializers.Serializer):
    n = serializers.IntegerField(help_text="Labelled runs the judge scored")
    accuracy = serializers.FloatField(allow_null=True)
    kappa = serializers.FloatField(allow_null=True, help_text="Cohen's kappa")
    kappa_low = serializers.FloatField(allow_null=True, help_text="95% interval")
    kappa_high = serializers.FloatField(allow_null=True)
    both_pass = serializers.IntegerField()
    both_fail = serializers.IntegerField()
    auto_pass_human_fail = serializers.IntegerField(help_text="The judge passed, the label failed")
    auto_fail_human_pass = serializers.IntegerField()
    minimum_labelled = serializers.IntegerField()
    calibrated = serializers.BooleanField()
    disagreeing_trace_ids = serializers.ListField(child=serializers.UUIDField())


class JudgeOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    template = serializers.CharField()
    rubric = serializers.CharField()
    connection = serializers.UUIDField(source="connection_id")
    model = serializers.CharField()
    agents = serializers.ListField(child=serializers.CharField())
    sample_rate = serializers.FloatField()
    only_failed = serializers.BooleanField()
    tag = serializers.CharField()
    mode = serializers.CharField()
    daily_budget_usd = serializers.DecimalField(max_digits=12, decimal_places=4, allow_null=True)
    decides_success = serializers.BooleanField()
    enabled = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class JudgeDetailOutput(JudgeOutput):
    judged = serializers.IntegerField(help_text="Runs it scored (all time)")
    judged_this_month = serializers.IntegerField()
    errors_this_month = serializers.IntegerField()
    skipped_this_month = serializers.IntegerField()
    spend_today_usd = serializers.DecimalField(max_digits=14, decimal_places=8)
    spend_month_usd = serializers.DecimalField(max_digits=14, decimal_places=8)
    cost_per_judged_run_usd = serializers.DecimalField(max_digits=14, decimal_places=8, allow_null=True)
    uncertain_skipped_this_month = serializers.IntegerField(help_text="Certain failures not sent (uncertain mode)")
    uncertain_saved_usd = serializers.DecimalField(max_digits=14, decimal_places=8,
                                                   help_text="Those runs at this month's cost per judged run")
    agreement = AgreementOutput()


class BudgetInput(serializers.Serializer):
    daily_budget_usd = serializers.DecimalField(max_digits=12, decimal_places=4, min_value=0, allow_null=True,
                                                help_text="USD per UTC day over all the organisation's judges; null: "
                                                          "no ceiling")


class BudgetOutput(serializers.Serializer):
    daily_budget_usd = serializers.DecimalField(max_digits=12, decimal_places=4, allow_null=True,
                                                help_text="No judge call starts once today's spend (UTC) reaches it")
    spend_today_usd = serializers.DecimalField(max_digits=14, decimal_places=8,
                                               help_text="All the organisation's judges today (UTC)")


class BackfillInput(serializers.Serializer):
    start = serializers.DateTimeField(required=False, help_text="Default: 24 hours ago")
    end = serializers.DateTimeField(required=False, help_text="Default: now")


class BackfillOutput(serializers.Serializer):
    queued = serializers.IntegerField(help_text="Runs queued for judging")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class ScoreInput(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    value = serializers.FloatField(min_value=0, max_value=1, required=False, allow_null=True, default=None)
    passed = serializers.BooleanField(required=False, allow_null=True, default=None)
    source = serializers.ChoiceField([Source.API, Source.HUMAN], default=Source.API)
    category = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    reasoning = serializers.CharField(max_length=10_000, required=False, allow_blank=True, default="")


class ScoreOutput(serializers.Serializer):
    id = serializers.UUIDField()
    trace = serializers.UUIDField(source="trace_id")
    name = serializers.CharField()
    source = serializers.CharField()
    judge = serializers.UUIDField(source="judge_id", allow_null=True)
    value = serializers.FloatField(allow_null=True)
    passed = serializers.BooleanField(allow_null=True)
    category = serializers.CharField()
    reasoning = serializers.CharField()
    model = serializers.CharField()
    input_tokens = serializers.IntegerField()
    output_tokens = serializers.IntegerField()
    cost_usd = serializers.DecimalField(max_digits=14, decimal_places=8, allow_null=True)
    unpriced = serializers.BooleanField(help_text="The judge model is not known to genai-prices: no cost")
    status = serializers.CharField(help_text="done, error, skipped (with status_reason) or pending")
    status_reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class ConnectionListOutput(serializers.Serializer):
    results = ConnectionOutput(many=True)


class JudgeListOutput(serializers.Serializer):
    results = JudgeOutput(many=True)


class ScoreListOutput(serializers.Serializer):
    results = ScoreOutput(many=True)
