"""Helpers of the alerts tests: a receiver, a webhook and monitors made through the API, runs at given times."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.alerts.receiver import Receiver


@pytest.fixture
def receiver(settings):
    settings.ARC_WEBHOOKS_ALLOW_PRIVATE = True
    server = Receiver()
    yield server
    server.close()


def api_call(api, method: str, path: str, body=None):
    return getattr(api.client, method)(path, data=json.dumps(body), content_type="application/json",
                                       **api._headers({}))


def make_webhook(api, url: str, **extra) -> dict:
    response = api.post("/api/v1/webhooks", {"name": "ops", "url": url, **extra})
    assert response.status_code == 201, response.content
    return response.json()


def make_monitor(api, **fields) -> dict:
    response = api.post("/api/v1/monitors", {"name": fields.pop("name", "watch"), **fields})
    assert response.status_code == 201, response.content
    return response.json()


def run(trace_id: str, ok: bool, agent: str = "alert-bot", at: datetime | None = None, **extra) -> dict:
    trace = {"trace_id": trace_id, "agent_id": agent, "input": {"question": f"order {trace_id}"}, "duration_ms": 800,
             "success": ok, "output": {"answer": "It shipped today."} if ok else None,
             "spans": [{"span_id": "s1", "kind": "tool", "name": "order_status", "duration_ms": 200,
                        "input": {"order": 1}, "output": {"status": "shipped"} if ok else None,
                        "error": None if ok else {"type": "ToolError", "message": "inventory service returned no data"}}],
             "error": None if ok else {"type": "ToolError", "message": "inventory service returned no data"}}
    if at is not None:
        trace["started_at"] = at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    trace.update(extra)
    return trace


def ago(minutes: float) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)


def send(api, traces: list[dict]) -> None:
    for i in range(0, len(traces), 500):
        response = api.post("/api/v1/traces", traces[i:i + 500])
        assert response.status_code == 202, response.content[:300]


def alert_objects(tenant) -> dict:
    """A webhook, a monitor and an alert of `tenant`, for the walkers over every route."""
    from alerts.models import Alert, Monitor, Webhook
    from traces.models import Agent

    organisation = tenant.organisation
    webhook = Webhook.objects.create(organisation=organisation, name="walked", url="https://example.com/h", secret="x")
    monitor = Monitor.objects.create(organisation=organisation, name="walked", kind="new_pattern")
    agent = Agent.objects.for_org(organisation).first() or Agent.objects.create(organisation=organisation, name="w")
    alert = Alert.objects.create(organisation=organisation, monitor=monitor, agent=agent, summary="walked")
    return {"webhook_id": webhook.id, "monitor_id": monitor.id, "alert_id": alert.id}
