"""Each kind of monitor, checked directly on stored runs: when it opens an alert, what evidence it keeps, when it
resolves; mute, snooze and e-mail; what the API refuses."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from alerts import delivery as sending
from alerts import services
from alerts.models import Alert, Channel, Delivery, Monitor, Webhook
from arcweb.encryption import sealed_fields
from arcweb.models import Role
from arcweb.windows import Window
from evaluations.figures import agent_figures, window_counts
from evaluations.models import Baseline, FailurePattern
from evaluations.patterns import mark_fix_applied
from tests.alerts.conftest import ago, api_call, make_monitor, run, send
from tests.conftest import key_of_a
from traces.models import Agent

pytestmark = pytest.mark.django_db


def monitor_of(api, **fields) -> Monitor:
    return Monitor.objects.get(pk=make_monitor(api, **fields)["id"])


def check(monitor: Monitor) -> list[Alert]:
    services.evaluate_monitor(monitor.pk)
    return list(Alert.objects.filter(monitor=monitor).order_by("opened_at"))


def priced(trace_id: str, cost: float, **extra) -> dict:
    trace = run(trace_id, True, agent="pricey-bot", **extra)
    trace["spans"].append({"span_id": "m1", "kind": "llm", "name": "chat", "model": "gpt-4o-mini", "duration_ms": 300,
                           "cost_usd": cost})
    return trace


def test_cost_per_run_above_the_threshold_fires_and_names_the_figure(acme_api):
    monitor = monitor_of(acme_api, kind="cost_per_run", threshold_usd="0.10", min_runs=3)
    send(acme_api, [priced(f"c{i}", 0.25) for i in range(3)])
    [alert] = check(monitor)
    assert alert.status == "firing" and alert.evidence["figures"]["cost_per_run_usd"] == "0.250000"
    assert "above $0.100000" in alert.summary


def test_a_cost_spike_is_measured_against_the_agents_own_week(acme_api):
    monitor = monitor_of(acme_api, kind="cost_spike", min_runs=3, spike_factor=3)
    send(acme_api, [priced(f"usual{i}", 0.01, at=ago(60 * 48 + i)) for i in range(5)])
    send(acme_api, [priced(f"now{i}", 0.02) for i in range(3)])
    assert check(monitor) == []  # twice the usual: below the factor of 3
    send(acme_api, [priced(f"spike{i}", 0.10) for i in range(3)])
    [alert] = check(monitor)
    assert alert.evidence["figures"]["usual_cost_per_run_usd"] == "0.010000"
    assert alert.evidence["figures"]["factor"] == 6.0


def test_silence_fires_for_an_agent_that_usually_sends_and_resolves_when_it_sends_again(acme_api):
    send(acme_api, [run(f"busy{i}", True, at=ago(120 + i)) for i in range(30)])
    monitor = monitor_of(acme_api, kind="silence", window_minutes=60, min_runs=20)
    quiet = monitor_of(acme_api, name="rarely", kind="silence", window_minutes=60, min_runs=50)
    [alert] = check(monitor)
    assert alert.summary.startswith("alert-bot: no runs for 60 minutes")
    assert check(quiet) == []  # it sends too little for silence to mean anything
    send(acme_api, [run("back", True)])
    [alert] = check(monitor)
    assert alert.status == "resolved"


def test_a_pattern_that_fails_again_after_its_fix_fires_as_regressed(acme_api):
    monitor = monitor_of(acme_api, kind="regressed_pattern")
    send(acme_api, [run("first", False)])
    assert check(monitor) == []
    mark_fix_applied(FailurePattern.objects.get())
    send(acme_api, [run("again", False)])
    [alert] = check(monitor)
    assert alert.pattern == FailurePattern.objects.get() and alert.evidence["patterns"][0]["status"] == "regressed"


def test_a_reliability_drop_against_a_named_baseline(acme, acme_api):
    send(acme_api, [run(f"good{i}", True, at=ago(60 * 30 + i)) for i in range(30)])
    agent = Agent.objects.get(name="alert-bot")
    baseline = Baseline.objects.create(organisation=acme.organisation, agent=agent, name="release 1.4",
                                       start=timezone.now() - timedelta(days=2), end=timezone.now() - timedelta(days=1))
    monitor = monitor_of(acme_api, kind="reliability_drop", baseline=str(baseline.id), min_runs=20,
                         window_minutes=120)
    send(acme_api, [run(f"bad{i}", i % 4 == 0) for i in range(24)])
    [alert] = check(monitor)
    assert alert.evidence["compared_with"]["baseline"] == "release 1.4"
    assert alert.evidence["figures"]["previous_runs"] == 30 and alert.evidence["figures"]["reliability"] == 25.0


def test_too_few_runs_never_fire_however_bad(acme_api):
    monitor = monitor_of(acme_api, kind="reliability_drop", min_runs=20)
    send(acme_api, [run(f"old{i}", True, at=ago(70 + i)) for i in range(40)])
    send(acme_api, [run(f"new{i}", False) for i in range(10)])
    assert check(monitor) == []


def test_a_muted_monitor_opens_alerts_but_sends_nothing_and_a_snoozed_alert_stays_quiet(acme, acme_api):
    hook = Webhook.objects.create(organisation=acme.organisation, name="h", url="https://example.com/h", secret="x")
    monitor = monitor_of(acme_api, kind="new_pattern", webhooks=[str(hook.id)])
    assert api_call(acme_api, "post", f"/api/v1/monitors/{monitor.id}/mute", {"muted": True}).status_code == 200
    send(acme_api, [run("boom", False)])
    [alert] = check(monitor)
    assert alert.deliveries.count() == 0
    services.set_muted(monitor, False)
    response = api_call(acme_api, "post", f"/api/v1/alerts/{alert.id}/snooze", {"minutes": 60})
    assert response.status_code == 200 and response.json()["snoozed_until"]
    FailurePattern.objects.all().delete()
    [alert] = check(monitor)
    assert alert.status == "resolved" and alert.deliveries.count() == 0


def test_the_email_channel_mails_every_member_the_alert_without_raw_values(acme, acme_api):
    monitor = monitor_of(acme_api, kind="pii_finding", severity="medium", email_members=True)
    send(acme_api, [run("leak", True, output={"answer": "card 4111 1111 1111 1111 on file"})])
    [alert] = check(monitor)
    [email] = Delivery.objects.filter(alert=alert, channel=Channel.EMAIL)
    assert sending.attempt(email.pk) is None
    assert sorted(m.to[0] for m in mail.outbox) == ["owner@acme.test", "viewer@acme.test"]
    message = mail.outbox[0]
    assert message.subject == "[Arc Eval] Alert firing: watch on alert-bot"
    assert "4111 1111" not in message.body and "1 run with medium or worse findings (payment_card)" in message.body
    assert f"/o/acme/alerts/{alert.id}/" in message.body
    assert Delivery.objects.get(pk=email.pk).status == "delivered"


def test_only_admins_change_monitors_and_webhooks_members_snooze_viewers_read(acme, acme_api, api_for):
    member, viewer = api_for(key_of_a(Role.MEMBER, acme)), api_for(key_of_a(Role.VIEWER, acme))
    body = {"name": "m", "kind": "new_pattern"}
    assert member.post("/api/v1/monitors", body).status_code == 403
    assert member.post("/api/v1/webhooks", {"name": "w", "url": "https://example.com"}).status_code == 403
    assert viewer.get("/api/v1/monitors").status_code == 200
    monitor = monitor_of(acme_api, kind="new_pattern")
    send(acme_api, [run("boom", False)])
    [alert] = check(monitor)
    assert api_call(member, "post", f"/api/v1/alerts/{alert.id}/snooze", {"minutes": 5}).status_code == 200
    assert api_call(viewer, "post", f"/api/v1/alerts/{alert.id}/snooze", {"minutes": 5}).status_code == 403


@pytest.mark.parametrize("body, field", [
    ({"name": "x", "kind": "rainfall"}, "kind"),
    ({"name": "x", "kind": "new_pattern", "agents": ["nobody-bot"]}, "agents"),
    ({"name": "x", "kind": "cost_per_run"}, "threshold_usd"),
    ({"name": "x", "kind": "new_pattern", "window_minutes": 0}, "window_minutes"),
    ({"name": "x", "kind": "new_pattern", "webhooks": ["not-a-uuid"]}, "webhooks"),
    ({"name": "x", "kind": "new_pattern", "baseline": "7d1b2c3d-0000-4000-8000-000000000000"}, "baseline"),
])
def test_bad_monitors_are_refused_naming_the_field(acme_api, body, field):
    response = acme_api.post("/api/v1/monitors", body)
    assert response.status_code == 400
    assert field in response.content.decode()


def test_the_webhook_secret_is_sealed_shown_once_and_rotated_with_the_others(acme_api, settings):
    settings.ARC_WEBHOOKS_ALLOW_PRIVATE = True
    created = acme_api.post("/api/v1/webhooks", {"name": "w", "url": "http://127.0.0.1:9/hook"}).json()
    stored = Webhook.objects.get(pk=created["id"])
    assert created["secret"] not in stored.secret and created["secret"].endswith(stored.secret_hint[1:])
    assert created["secret"] not in acme_api.get(f"/api/v1/webhooks/{created['id']}").content.decode()
    assert created["secret"] not in acme_api.get("/api/v1/webhooks").content.decode()
    assert (Webhook, "secret") in sealed_fields()


def test_window_counts_agree_with_the_dashboards_figures_over_whole_hours(acme, acme_api):
    send(acme_api, [run(f"r{i}", i % 3 != 0, at=ago(90 + i)) for i in range(30)] + [run("now", True)])
    agent = Agent.objects.get(name="alert-bot")
    now = timezone.now()
    window = Window(now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=3), now)
    [figures] = agent_figures(acme.organisation, [agent], window)
    counts = window_counts(acme.organisation, [agent.id], window)[agent.id]
    assert (counts.runs, counts.successes) == (figures.runs, figures.successes) == (31, 21)


def score_runs(tenant, api, prefix: str, passed: list[bool], at=None) -> None:
    from judges.models import Score
    from traces.models import Trace

    send(api, [run(f"{prefix}{i}", True, at=at) for i in range(len(passed))])
    traces = Trace.objects.for_org(tenant.organisation).filter(trace_id__startswith=prefix).order_by("trace_id")
    Score.objects.bulk_create(Score(organisation=tenant.organisation, trace=trace, name="helpfulness", value=float(ok),
                                    passed=ok) for trace, ok in zip(traces, passed, strict=True))


def test_a_judge_scores_pass_rate_drop_fires_by_the_trend_test(acme, acme_api):
    monitor = monitor_of(acme_api, kind="judge_pass_rate", score_name="helpfulness", min_runs=20, window_minutes=60)
    score_runs(acme, acme_api, "then", [True] * 28 + [False] * 2, at=ago(90))
    score_runs(acme, acme_api, "now", [True] * 24 + [False] * 6)
    assert check(monitor) == []  # 80% against 93%: not significant on 30 runs
    score_runs(acme, acme_api, "worse", [False] * 20)
    [alert] = check(monitor)
    assert alert.evidence["figures"]["pass_rate"] == 48.0 and alert.evidence["figures"]["previous_pass_rate"] == 93.33
    assert alert.summary.startswith("alert-bot: helpfulness passes 48.0% against 93.33% in the previous window")


def test_a_judge_pass_rate_monitor_needs_the_scores_name(acme_api):
    response = acme_api.post("/api/v1/monitors", {"name": "x", "kind": "judge_pass_rate"})
    assert response.status_code == 400 and response.json()["error"]["field"] == "score_name"


def test_a_monitor_changes_only_the_fields_given(acme_api):
    monitor = make_monitor(acme_api, kind="reliability_drop", min_runs=30)
    changed = api_call(acme_api, "patch", f"/api/v1/monitors/{monitor['id']}", {"window_minutes": 15})
    assert changed.status_code == 200
    assert (changed.json()["window_minutes"], changed.json()["min_runs"], changed.json()["kind"]) == \
        (15, 30, "reliability_drop")
    assert api_call(acme_api, "patch", f"/api/v1/monitors/{monitor['id']}", {"kind": "x"}).status_code == 400
    assert acme_api.delete(f"/api/v1/monitors/{monitor['id']}").status_code == 204
    assert acme_api.get(f"/api/v1/monitors/{monitor['id']}").status_code == 404


def test_alerts_are_listed_by_status_and_monitor(acme_api):
    monitor = monitor_of(acme_api, kind="new_pattern")
    send(acme_api, [run("boom", False)])
    [alert] = check(monitor)
    assert [a["id"] for a in acme_api.get("/api/v1/alerts?status=firing").json()["results"]] == [str(alert.id)]
    assert acme_api.get("/api/v1/alerts?status=resolved").json()["results"] == []
    assert acme_api.get(f"/api/v1/alerts?monitor={monitor.id}").json()["results"][0]["monitor_name"] == "watch"
    assert acme_api.get("/api/v1/alerts?monitor=nonsense").json()["results"] == []
    assert acme_api.get("/api/v1/alerts?status=burning").status_code == 400


def test_beats_safety_net_checks_every_organisations_monitors(acme_api):
    from alerts.tasks import evaluate_all_monitors

    send(acme_api, [run(f"busy{i}", True, at=ago(120 + i)) for i in range(30)])
    monitor = monitor_of(acme_api, kind="silence", min_runs=20)
    assert evaluate_all_monitors() == 1
    assert Alert.objects.get(monitor=monitor).status == "firing"
