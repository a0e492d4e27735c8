"""Sending one delivery: a signed POST to a webhook, or an e-mail to the organisation's members.

Signature: `X-Arc-Signature: v1=<hex HMAC-SHA256 of "<X-Arc-Timestamp>.<body>" with the webhook's secret>`; the
receiver recomputes it over the raw body and refuses timestamps older than a few minutes (replays).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time

import httpx2
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from arcweb.encryption import SecretUnreadable, unseal
from arcweb.outbound import OutboundRefused, http_client

from . import payloads
from .models import Channel, Delivery, DeliveryStatus
from .services import member_emails

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BACKOFF_SECONDS = (5, 20, 80, 320)  # before the 2nd, 3rd, 4th and 5th attempt
TIMEOUT_SECONDS = 10
SIGNATURE_HEADER, TIMESTAMP_HEADER = "X-Arc-Signature", "X-Arc-Timestamp"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    return "v1=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class Retry(Exception):
    """This attempt failed in a way worth trying again."""


def _post(delivery: Delivery) -> int:
    webhook = delivery.webhook
    body = delivery.body.encode()
    timestamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", "User-Agent": "ArcEval-Webhooks/1",
               "X-Arc-Event": delivery.event, "X-Arc-Delivery-Id": str(delivery.id), TIMESTAMP_HEADER: timestamp,
               SIGNATURE_HEADER: signature(unseal(webhook.secret), timestamp, body)}
    with http_client(allow_private=settings.ARC_WEBHOOKS_ALLOW_PRIVATE, timeout=TIMEOUT_SECONDS) as client:
        try:
            response = client.post(webhook.url, content=body, headers=headers)
        except httpx2.HTTPError as exc:
            raise Retry(f"{type(exc).__name__}: {exc}"[:300]) from None
    if response.status_code >= 500 or response.status_code == 429:
        delivery.status_code = response.status_code
        raise Retry(f"HTTP {response.status_code}")
    if response.status_code >= 300:
        delivery.status_code = response.status_code
        raise ValueError(f"HTTP {response.status_code}")
    return response.status_code


def _email(delivery: Delivery) -> int:
    alert = delivery.alert
    subject = payloads.email_subject(alert, delivery.event)
    try:
        # one message per member: members need not see each other's addresses
        return sum(EmailMessage(subject, delivery.body, None, [email]).send()
                   for email in member_emails(delivery.organisation))
    except OSError as exc:
        raise Retry(f"{type(exc).__name__}: {exc}"[:300]) from None


def attempt(delivery_id) -> float | None:
    """Make the next attempt of a pending delivery and log it; returns the seconds to wait before another attempt,
    or None when it is done (delivered, or failed for good). Idempotent: a delivered delivery is not sent again."""
    with transaction.atomic():
        delivery = (Delivery.objects.select_for_update(of=("self",))
                    .select_related("webhook", "alert__monitor", "alert__agent", "organisation")
                    .filter(pk=delivery_id, status=DeliveryStatus.PENDING).first())
        if delivery is None:
            return None
        delivery.attempts += 1
        try:
            if delivery.channel == Channel.EMAIL:
                _email(delivery)
            elif delivery.webhook is None:
                raise ValueError("the webhook was deleted")
            else:
                delivery.status_code = _post(delivery)
            delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, timezone.now()
        except Retry as exc:
            delivery.last_error = str(exc)[:300]
            if delivery.attempts >= MAX_ATTEMPTS:
                delivery.status = DeliveryStatus.FAILED
        except (OutboundRefused, SecretUnreadable, ValueError) as exc:
            delivery.last_error, delivery.status = str(exc)[:300], DeliveryStatus.FAILED
        delivery.save(update_fields=["attempts", "status", "status_code", "last_error", "delivered_at"])
    if delivery.status == DeliveryStatus.PENDING:
        log.info("delivery %s attempt %s failed (%s); trying again", delivery.pk, delivery.attempts,
                 delivery.last_error)
        return BACKOFF_SECONDS[min(delivery.attempts, len(BACKOFF_SECONDS)) - 1]
    return None
