"""The Alerts tab: what a member sees and may do, the secret shown once, an alert's evidence, the overview's mark."""

from __future__ import annotations

import pytest
from django.test import Client

from alerts import services
from alerts.models import Alert, Monitor, Webhook
from tests.alerts.conftest import run, send
from tests.html import parse

pytestmark = pytest.mark.django_db


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def firing(acme, acme_api) -> Alert:
    monitor = services.create_monitor(organisation=acme.organisation, data=services.MonitorData(
        name="new failures", kind="new_pattern"))
    send(acme_api, [run("boom", False, error={"type": "ToolError", "message": "<b>card 4111 1111 1111 1111</b>"})])
    services.evaluate_monitor(monitor.pk)
    return Alert.objects.get()


def test_the_tab_shows_open_alerts_monitors_and_webhooks(acme, firing):
    page = browser(acme.viewer).get("/o/acme/alerts/").content.decode()
    assert 'aria-current="page">Alerts</a>' in page
    assert "new failures" in page and f"/o/acme/alerts/{firing.id}/" in page
    assert "New monitor" not in page and "Send test" not in page  # a viewer reads


def test_an_alert_page_shows_its_evidence_with_links_and_masked_escaped_excerpts(acme, firing):
    page = browser(acme.viewer).get(f"/o/acme/alerts/{firing.id}/").content.decode()
    assert f"/o/acme/patterns/{firing.pattern_id}/" in page
    assert f"/o/acme/traces/{firing.evidence['runs'][0]}/" in page
    assert "4111 1111" not in page and "<b>card" not in page


def test_an_admin_makes_a_webhook_sees_its_secret_once_and_sends_a_test(acme, settings):
    settings.ARC_WEBHOOKS_ALLOW_PRIVATE = True
    owner = browser(acme.owner)
    page = owner.post("/o/acme/alerts/webhooks/new/", {"name": "pager", "url": "http://127.0.0.1:9/", "format": "slack"})
    webhook = Webhook.objects.get(name="pager")
    secret = parse(page.content).find("pre", class_="secret").text
    assert secret.startswith("arcwh_") and secret.endswith(webhook.secret_hint[1:])
    assert secret not in owner.get("/o/acme/alerts/").content.decode()
    assert owner.post(f"/o/acme/alerts/webhooks/{webhook.id}/test/").status_code == 302
    assert webhook.deliveries.get().event == "test"


def test_an_admin_makes_and_mutes_a_monitor_a_viewer_may_not(acme, acme_api):
    send(acme_api, [run("ok", True)])
    owner, viewer = browser(acme.owner), browser(acme.viewer)
    form = {"name": "drops", "kind": "reliability_drop", "agents": ["alert-bot"], "window_minutes": 30, "min_runs": 10,
            "spike_factor": 2, "severity": "high"}
    assert viewer.post("/o/acme/alerts/monitors/new/", form).status_code == 403
    assert owner.post("/o/acme/alerts/monitors/new/", form).status_code == 302
    monitor = Monitor.objects.get(name="drops")
    assert [a.name for a in monitor.agents.all()] == ["alert-bot"] and monitor.window_minutes == 30
    owner.post(f"/o/acme/alerts/monitors/{monitor.id}/mute/")
    assert Monitor.objects.get(pk=monitor.pk).muted
    assert "muted" in owner.get("/o/acme/alerts/").content.decode()


def test_a_member_snoozes_an_alert(acme, firing):
    browser(acme.owner).post(f"/o/acme/alerts/{firing.id}/snooze/", {"minutes": "60"})
    assert Alert.objects.get(pk=firing.pk).snoozed()
    assert browser(acme.viewer).post(f"/o/acme/alerts/{firing.id}/snooze/", {"minutes": "0"}).status_code == 403


def agent_cell(client: Client, agent: str):
    table = parse(client.get("/o/acme/").content).find("table", class_="overview")
    return next(row.find("td") for row in table.find_all("tr")[1:] if row.find("td").find("strong").text == agent)


def test_the_overview_marks_agents_with_open_alerts(acme, firing):
    owner = browser(acme.owner)
    mark = agent_cell(owner, "alert-bot").find("a", class_="bad")
    assert mark.text == "alert" and mark.attrs["href"] == "/o/acme/alerts/"
    firing.status = "resolved"
    firing.save()
    assert agent_cell(owner, "alert-bot").find_all("a", class_="bad") == []


def test_another_organisations_member_gets_404(acme, globex, firing):
    outsider = browser(globex.owner)
    for path in (f"/o/acme/alerts/{firing.id}/", f"/o/globex/alerts/{firing.id}/", "/o/acme/alerts/"):
        assert outsider.get(path).status_code == 404, path
    assert outsider.post(f"/o/globex/alerts/monitors/{firing.monitor_id}/mute/").status_code == 404
