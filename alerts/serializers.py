"""Input and output shapes of the monitors, alerts and webhooks API."""

from __future__ import annotations

from rest_framework import serializers

from .models import Alert, Delivery, Monitor, MonitorKind, Severity, Webhook, WebhookFormat

LONGEST_WINDOW_MINUTES = 60 * 24 * 90


class WebhookInput(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    url = serializers.CharField(max_length=2000, help_text="http(s) address the alerts are POSTed to; private, "
                                                           "loopback and link-local addresses are refused")
    format = serializers.ChoiceField(WebhookFormat.choices, default=WebhookFormat.JSON,
                                     help_text="json: the generic body; slack: `text` and blocks")
    active = serializers.BooleanField(default=True)


class WebhookChange(WebhookInput):
    name = serializers.CharField(max_length=120, required=False)
    url = serializers.CharField(max_length=2000, required=False)
    format = serializers.ChoiceField(WebhookFormat.choices, required=False)
    active = serializers.BooleanField(required=False)


class DeliveryOutput(serializers.ModelSerializer):
    webhook = serializers.UUIDField(source="webhook_id", allow_null=True)
    alert = serializers.UUIDField(source="alert_id", allow_null=True)

    class Meta:
        model = Delivery
        fields = ["id", "alert", "webhook", "channel", "event", "status", "status_code", "attempts", "last_error",
                  "created_at", "delivered_at"]


class WebhookOutput(serializers.ModelSerializer):
    secret_hint = serializers.CharField(help_text="The secret's last characters; the secret is shown only once")

    class Meta:
        model = Webhook
        fields = ["id", "name", "url", "format", "active", "secret_hint", "created_at"]


class WebhookCreated(WebhookOutput):
    secret = serializers.CharField(help_text="The signing secret, shown this once: verify X-Arc-Signature with it")

    class Meta(WebhookOutput.Meta):
        fields = [*WebhookOutput.Meta.fields, "secret"]


class WebhookDetail(WebhookOutput):
    recent_deliveries = DeliveryOutput(many=True)

    class Meta(WebhookOutput.Meta):
        fields = [*WebhookOutput.Meta.fields, "recent_deliveries"]


class MonitorInput(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    kind = serializers.ChoiceField(MonitorKind.choices, help_text="What it watches")
    agents = serializers.ListField(child=serializers.CharField(max_length=200), default=list, max_length=500,
                                   help_text="Agent names (or ids) it watches; empty: every agent")
    window_minutes = serializers.IntegerField(
        default=60, min_value=1, max_value=LONGEST_WINDOW_MINUTES,
        help_text="The rolling window in minutes, ending now (runs counted by when they started); a reliability "
                  "drop compares it with the window of equal length just before it. For silence: the quiet minutes")
    min_runs = serializers.IntegerField(default=20, min_value=1, help_text="Fewest runs in each window compared "
                                                                          "(silence: sent in the day before)")
    baseline = serializers.UUIDField(required=False, allow_null=True, default=None,
                                     help_text="reliability_drop, judge_pass_rate: compare with this named "
                                               "baseline instead")
    threshold_usd = serializers.DecimalField(max_digits=14, decimal_places=8, min_value=0, required=False,
                                             allow_null=True, default=None, coerce_to_string=False,
                                             help_text="cost_per_run: fire above this cost per run")
    spike_factor = serializers.FloatField(default=2.0, min_value=1.01,
                                          help_text="cost_spike: fire at this multiple of the usual cost per run")
    severity = serializers.ChoiceField(Severity.choices, default=Severity.HIGH,
                                       help_text="pii_finding: the mildest finding severity that fires")
    score_name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="",
                                       help_text="judge_pass_rate: the score watched (a judge's name)")
    webhooks = serializers.ListField(child=serializers.UUIDField(), default=list, max_length=20,
                                     help_text="Ids of the webhooks notified")
    email_members = serializers.BooleanField(default=False, help_text="Also e-mail every member")
    active = serializers.BooleanField(default=True)
    muted = serializers.BooleanField(default=False, help_text="Alerts open and resolve, nothing is sent")


class MonitorOutput(serializers.ModelSerializer):
    agents = serializers.SerializerMethodField()
    webhooks = serializers.SerializerMethodField()
    baseline = serializers.UUIDField(source="baseline_id", allow_null=True)
    threshold_usd = serializers.DecimalField(max_digits=14, decimal_places=8, coerce_to_string=False,
                                             allow_null=True)

    class Meta:
        model = Monitor
        fields = ["id", "name", "kind", "agents", "window_minutes", "min_runs", "baseline", "threshold_usd",
                  "spike_factor", "severity", "score_name", "webhooks", "email_members", "active", "muted", "created_at"]

    def get_agents(self, monitor: Monitor) -> list[str]:
        return [a.name for a in monitor.agents.all()]

    def get_webhooks(self, monitor: Monitor) -> list[str]:
        return [str(w.id) for w in monitor.webhooks.all()]


class AlertOutput(serializers.ModelSerializer):
    monitor = serializers.UUIDField(source="monitor_id")
    monitor_name = serializers.CharField(source="monitor.name")
    kind = serializers.CharField(source="monitor.kind")
    agent = serializers.CharField(source="agent.name")
    pattern = serializers.UUIDField(source="pattern_id", allow_null=True)
    deliveries = DeliveryOutput(many=True)

    class Meta:
        model = Alert
        fields = ["id", "monitor", "monitor_name", "kind", "agent", "status", "summary", "evidence", "pattern",
                  "opened_at", "resolved_at", "snoozed_until", "deliveries"]


class SnoozeInput(serializers.Serializer):
    minutes = serializers.IntegerField(min_value=0, max_value=LONGEST_WINDOW_MINUTES,
                                       help_text="No notification of this alert for this long; 0 ends a snooze")


class MutedInput(serializers.Serializer):
    muted = serializers.BooleanField()
