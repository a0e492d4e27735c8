"""Monitors fire on real runs and notify a real local receiver: signed, once, resolved, masked, retried."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from alerts.models import Alert, Delivery
from tests.alerts.conftest import ago, api_call, make_monitor, make_webhook, run, send
from tests.alerts.receiver import Receiver
from tests.processes import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

SSN, CARD = "123-45-6789", "4111 1111 1111 1111"


def signed_by(secret: str, request: dict) -> bool:
    timestamp, given = request["headers"]["x-arc-timestamp"], request["headers"]["x-arc-signature"]
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + request["body"], hashlib.sha256).hexdigest()
    return hmac.compare_digest(given, f"v1={expected}")


def reliability_monitor(api, webhook_id: str) -> dict:
    return make_monitor(api, name="bot breaks", kind="reliability_drop", agents=["alert-bot"], window_minutes=60,
                        min_runs=20, webhooks=[webhook_id])


def test_reliability_drop_fires_one_signed_alert_and_a_resolved_one_on_recovery(acme_api, receiver):
    hook = make_webhook(acme_api, receiver.url)
    send(acme_api, [run(f"old-{i}", True, at=ago(65 + i)) for i in range(40)])  # the previous hour: all fine
    monitor = reliability_monitor(acme_api, hook["id"])
    send(acme_api, [run(f"new-{i}", i % 10 == 0) for i in range(30)])  # now: 3 of 30 succeed

    assert wait_until(lambda: receiver.bodies("alert.firing"), timeout=30)
    first = receiver.requests[0]
    assert signed_by(hook["secret"], first)
    body = receiver.bodies("alert.firing")[0]
    assert body["alert"]["monitor"]["id"] == monitor["id"] and body["alert"]["agent"]["name"] == "alert-bot"
    assert body["alert"]["evidence"]["figures"]["reliability"] == 10.0
    assert body["alert"]["evidence"]["figures"]["previous_reliability"] == 100.0
    assert len(body["alert"]["runs"]) == 10 and "/traces/" in body["alert"]["runs"][0]

    send(acme_api, [run(f"worse-{i}", False) for i in range(10)])  # still failing: the same alert, no new one
    assert not wait_until(lambda: len(receiver.bodies("alert.firing")) > 1, timeout=5)
    assert Alert.objects.filter(monitor_id=monitor["id"]).count() == 1

    send(acme_api, [run(f"fine-{i}", True) for i in range(400)])  # recovered: no longer significantly lower
    assert wait_until(lambda: receiver.bodies("alert.resolved"), timeout=30)
    resolved = receiver.bodies("alert.resolved")[0]
    assert resolved["status"] == "resolved" and resolved["alert"]["id"] == body["alert"]["id"]
    assert all(signed_by(hook["secret"], r) for r in receiver.requests)
    assert len(receiver.bodies("alert.firing")) == 1


def test_a_new_failure_pattern_fires_with_a_link_to_the_pattern(acme_api, receiver):
    hook = make_webhook(acme_api, receiver.url, format="slack")
    make_monitor(acme_api, name="new failures", kind="new_pattern", webhooks=[hook["id"]])
    send(acme_api, [run("boom-1", False, agent="checkout-bot")])
    assert wait_until(lambda: receiver.requests, timeout=30)
    body = receiver.bodies()[0]
    assert body["text"].startswith("Alert firing: checkout-bot: new failure pattern")
    assert body["blocks"][0]["type"] == "section"
    assert "/patterns/" in body["blocks"][-1]["elements"][0]["text"]
    alert = Alert.objects.get()
    assert alert.pattern is not None and alert.evidence["runs"]


def test_a_pii_finding_fires_with_the_values_masked(acme_api, receiver):
    hook = make_webhook(acme_api, receiver.url)
    make_monitor(acme_api, name="leaks", kind="pii_finding", severity="high", webhooks=[hook["id"]])
    leak = run("leak-1", True, agent="crm-bot")
    leak["spans"][0]["output"] = {"name": "Jane Roe", "ssn": SSN, "card": CARD, "note": "<script>x</script>"}
    send(acme_api, [leak])
    assert wait_until(lambda: receiver.requests, timeout=30)
    raw = receiver.requests[0]["body"]
    assert SSN.encode() not in raw and b"4111111111111111" not in raw and CARD.encode() not in raw
    findings = receiver.bodies()[0]["alert"]["evidence"]["findings"]
    assert {f["rule"] for f in findings} == {"us_ssn", "payment_card"}
    assert {f["masked"] for f in findings} == {"[us_ssn]***", "[payment_card]***1111"}


def test_a_500_is_retried_and_the_delivery_log_shows_both_attempts(acme_api, settings):
    settings.ARC_WEBHOOKS_ALLOW_PRIVATE = True
    flaky = Receiver(answers=[500])
    try:
        hook = make_webhook(acme_api, flaky.url)
        make_monitor(acme_api, name="leaks", kind="pii_finding", webhooks=[hook["id"]])
        send(acme_api, [run("leak-2", True, agent="crm-bot", output={"answer": f"your ssn is {SSN}"})])
        assert wait_until(lambda: [r for r in flaky.requests if r["answered"] == 200], timeout=30)
    finally:
        flaky.close()
    assert [r["answered"] for r in flaky.requests] == [500, 200]
    assert flaky.requests[0]["body"] == flaky.requests[1]["body"]  # the same notification, signed again
    alert = acme_api.get("/api/v1/alerts").json()["results"][0]
    delivery = acme_api.get(f"/api/v1/alerts/{alert['id']}").json()["deliveries"][0]
    assert wait_until(lambda: Delivery.objects.get(pk=delivery["id"]).status == "delivered", timeout=5)
    logged = acme_api.get(f"/api/v1/alerts/{alert['id']}").json()["deliveries"][0]
    assert (logged["attempts"], logged["status_code"], logged["last_error"]) == (2, 200, "HTTP 500")


def test_private_targets_are_refused_without_the_setting(acme_api, settings):
    settings.ARC_WEBHOOKS_ALLOW_PRIVATE = False
    for url in ("http://127.0.0.1:9/hook", "http://10.0.0.8/hook", "http://169.254.169.254/latest", "http://[::1]/"):
        response = acme_api.post("/api/v1/webhooks", {"name": "inside", "url": url})
        assert response.status_code == 400, url
        assert response.json()["error"]["field"] == "url"
    assert acme_api.post("/api/v1/webhooks", {"name": "x", "url": "ftp://example.com/"}).status_code == 400


def test_the_test_button_sends_a_signed_test_notification(acme_api, receiver):
    hook = make_webhook(acme_api, receiver.url)
    response = acme_api.post(f"/api/v1/webhooks/{hook['id']}/test")
    assert response.status_code == 202
    assert wait_until(lambda: receiver.requests, timeout=10)
    assert receiver.bodies()[0]["event"] == "test" and signed_by(hook["secret"], receiver.requests[0])
    assert wait_until(lambda: acme_api.get(f"/api/v1/webhooks/{hook['id']}").json()["recent_deliveries"][0]
                      ["status"] == "delivered", timeout=5)


def test_another_organisation_gets_404_and_never_receives_our_alerts(acme_api, globex_api, receiver):
    ours = make_webhook(acme_api, receiver.url)
    theirs_receiver = Receiver()
    try:
        theirs = make_webhook(globex_api, theirs_receiver.url)
        make_monitor(globex_api, name="their leaks", kind="pii_finding", webhooks=[theirs["id"]])
        monitor = make_monitor(acme_api, name="our leaks", kind="pii_finding", webhooks=[ours["id"]])
        send(acme_api, [run("leak-3", True, agent="crm-bot", output={"answer": f"ssn {SSN}"})])
        assert wait_until(lambda: receiver.requests, timeout=30)
        assert not wait_until(lambda: theirs_receiver.requests, timeout=3)
    finally:
        theirs_receiver.close()
    alert = acme_api.get("/api/v1/alerts").json()["results"][0]
    for path in (f"/api/v1/monitors/{monitor['id']}", f"/api/v1/alerts/{alert['id']}",
                 f"/api/v1/webhooks/{ours['id']}"):
        assert globex_api.get(path).status_code == 404, path
    assert globex_api.delete(f"/api/v1/webhooks/{ours['id']}").status_code == 404
    assert globex_api.post(f"/api/v1/webhooks/{ours['id']}/test").status_code == 404
    assert api_call(globex_api, "patch", f"/api/v1/monitors/{monitor['id']}", {"muted": True}).status_code == 404
    taken = globex_api.post("/api/v1/monitors", {"name": "x", "kind": "pii_finding", "webhooks": [ours["id"]]})
    assert taken.status_code == 400 and taken.json()["error"]["field"] == "webhooks"
    assert globex_api.get("/api/v1/alerts").json()["results"] == []
