"""Operator metrics in Prometheus' text format: the evaluation backlog, for alerting when verdicts fall behind.

Served when ARC_METRICS_TOKEN is set, to requests bearing it (`Authorization: Bearer …`, as Prometheus'
`authorization` scrape setting sends it); in development (DEBUG) also without one.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import Http404, HttpResponse
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest

from .backlog import backlog


@never_cache
def metrics(request):
    token = settings.ARC_METRICS_TOKEN
    if not token and not settings.DEBUG:
        raise Http404("Metrics are off: set ARC_METRICS_TOKEN")
    if token and not hmac.compare_digest(request.headers.get("Authorization", ""), f"Bearer {token}"):
        response = HttpResponse("A bearer token is required.\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = "Bearer"
        return response
    waiting = backlog()
    registry = CollectorRegistry()
    Gauge("arc_evaluations_pending", "Runs waiting for a verdict.", registry=registry).set(waiting.pending)
    Gauge("arc_evaluations_oldest_pending_seconds", "How long the oldest run waiting for a verdict has waited.",
          registry=registry).set(round(waiting.oldest_pending_seconds, 3))
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
