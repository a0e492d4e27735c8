"""With real worker processes: a condition met by new runs reaches the webhook within 60 s of the verdicts that
meet it (the figure in docs/benchmarks.md)."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.db.models import Max

from evaluations.models import Evaluation
from tests.alerts.conftest import ago, make_monitor, make_webhook, run, send
from tests.processes import celery_worker, log_path, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (make test sets it)")]


def test_a_reliability_drop_reaches_the_webhook_within_60_seconds_of_its_verdicts(acme_api, receiver):
    hook = make_webhook(acme_api, receiver.url)
    with celery_worker(ARC_WEBHOOKS_ALLOW_PRIVATE="1"):
        send(acme_api, [run(f"old-{i}", True, at=ago(65 + i)) for i in range(40)])
        assert wait_until(lambda: Evaluation.objects.filter(status="done").count() == 40, timeout=60)
        make_monitor(acme_api, name="bot breaks", kind="reliability_drop", agents=["alert-bot"], window_minutes=60,
                     min_runs=20, webhooks=[hook["id"]])
        uploaded = time.time()
        send(acme_api, [run(f"new-{i}", i % 10 == 0) for i in range(30)])
        fired = wait_until(lambda: receiver.bodies("alert.firing"), timeout=90)
        log = log_path("test-worker").read_text()[-3000:]
    assert fired, log
    arrived = receiver.requests[0]["t"]
    last_verdict = Evaluation.objects.aggregate(t=Max("evaluated_at"))["t"].timestamp()
    after_verdicts, after_upload = arrived - last_verdict, arrived - uploaded
    print(f"alert at the receiver {after_verdicts:.2f} s after the last verdict, {after_upload:.2f} s after upload")
    assert after_verdicts < 60 and after_upload < 60
    assert len(receiver.bodies("alert.firing")) == 1
