"""Writes of the alerts app: monitors and webhooks, the alerts monitors open and resolve, and what is sent."""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone

from arcweb.encryption import hint, seal
from arcweb.models import Membership, Organisation
from arcweb.outbound import OutboundRefused, check_url
from evaluations.models import Baseline
from traces.models import Agent

from . import conditions, payloads
from .models import Alert, AlertStatus, Channel, Delivery, Monitor, MonitorKind, Webhook, WebhookFormat

log = logging.getLogger(__name__)
SECRET_PREFIX = "arcwh_"  # noqa: S105 - a label before the random part, not a secret


class InvalidInput(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


# -- webhooks ----------------------------------------------------------------------------------------------------
def checked_url(url: str) -> str:
    try:
        return check_url(url, allow_private=settings.ARC_WEBHOOKS_ALLOW_PRIVATE)
    except OutboundRefused as exc:
        raise InvalidInput("url", str(exc)) from None


def create_webhook(*, organisation: Organisation, name: str, url: str, format: str = WebhookFormat.JSON,
                   active: bool = True) -> tuple[Webhook, str]:
    """The webhook and its signing secret, which is returned this once and stored only encrypted."""
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    webhook = Webhook.objects.create(organisation=organisation, name=name, url=checked_url(url), format=format,
                                     active=active, secret=seal(secret), secret_hint=hint(secret))
    return webhook, secret


def update_webhook(webhook: Webhook, **changes: Any) -> Webhook:
    if "url" in changes:
        changes["url"] = checked_url(changes["url"])
    for name, value in changes.items():
        setattr(webhook, name, value)
    webhook.save()
    return webhook


# -- monitors ----------------------------------------------------------------------------------------------------
@dataclass
class MonitorData:
    name: str
    kind: str
    agents: Sequence[str] = ()
    window_minutes: int = 60
    min_runs: int = 20
    baseline: Any = None
    threshold_usd: Any = None
    spike_factor: float = 2.0
    severity: str = "high"
    score_name: str = ""
    webhooks: Sequence[Any] = ()
    email_members: bool = False
    active: bool = True
    muted: bool = False


def _agents(organisation: Organisation, refs: Iterable[str]) -> list[Agent]:
    found = []
    for ref in refs:
        ref = str(ref).strip()
        by = Q(name=ref)
        try:
            by |= Q(id=uuid.UUID(ref))
        except ValueError:
            pass
        agent = Agent.objects.for_org(organisation).filter(by).first()
        if agent is None:
            raise InvalidInput("agents", f"no agent named {ref[:100]!r} has sent runs")
        found.append(agent)
    return found


def _webhooks(organisation: Organisation, ids: Iterable[Any]) -> list[Webhook]:
    ids = list(dict.fromkeys(str(i) for i in ids))
    found = list(Webhook.objects.for_org(organisation).filter(id__in=ids))
    if len(found) != len(ids):
        raise InvalidInput("webhooks", "no such webhook in your organisation")
    return found


def _baseline(organisation: Organisation, baseline_id: Any) -> Baseline | None:
    if not baseline_id:
        return None
    baseline = Baseline.objects.for_org(organisation).filter(id=baseline_id).select_related("agent").first()
    if baseline is None:
        raise InvalidInput("baseline", "no such baseline in your organisation")
    return baseline


def _validated(organisation: Organisation, data: MonitorData) -> tuple[dict[str, Any], list[Agent], list[Webhook]]:
    agents = _agents(organisation, data.agents)
    baseline = _baseline(organisation, data.baseline)
    if baseline is not None:
        if data.kind not in (MonitorKind.RELIABILITY_DROP, MonitorKind.JUDGE_PASS_RATE):
            raise InvalidInput("baseline", "only a reliability drop or a judge's pass rate compares with a baseline")
        if any(a.id != baseline.agent_id for a in agents):
            raise InvalidInput("baseline", f"the baseline is of agent {baseline.agent.name!r}: watch that agent only")
        agents = [baseline.agent]
    if data.kind == MonitorKind.COST_PER_RUN and data.threshold_usd is None:
        raise InvalidInput("threshold_usd", "a cost per run monitor needs a threshold in USD")
    if data.kind == MonitorKind.JUDGE_PASS_RATE and not data.score_name.strip():
        raise InvalidInput("score_name", "a judge's pass rate monitor needs the score's name (the judge's name)")
    fields = {"name": data.name, "kind": data.kind, "window_minutes": data.window_minutes, "min_runs": data.min_runs,
              "baseline": baseline, "threshold_usd": data.threshold_usd, "spike_factor": data.spike_factor,
              "severity": data.severity, "score_name": data.score_name.strip(), "email_members": data.email_members, "active": data.active,
              "muted": data.muted}
    return fields, agents, _webhooks(organisation, data.webhooks)


@transaction.atomic
def create_monitor(*, organisation: Organisation, data: MonitorData) -> Monitor:
    fields, agents, webhooks = _validated(organisation, data)
    monitor = Monitor.objects.create(organisation=organisation, **fields)
    monitor.agents.set(agents)
    monitor.webhooks.set(webhooks)
    transaction.on_commit(lambda: _queue_evaluation({organisation.id}))
    return monitor


@transaction.atomic
def update_monitor(monitor: Monitor, data: MonitorData) -> Monitor:
    fields, agents, webhooks = _validated(monitor.organisation, data)
    for name, value in fields.items():
        setattr(monitor, name, value)
    monitor.save()
    monitor.agents.set(agents)
    monitor.webhooks.set(webhooks)
    return monitor


def _queue_evaluation(organisation_ids: set) -> None:
    from .tasks import queue_evaluation

    queue_evaluation(organisation_ids)


# -- evaluation and the alert lifecycle ------------------------------------------------------------------------------
def watched_agents(monitor: Monitor) -> list[Agent]:
    chosen = list(monitor.agents.all())
    return chosen or list(Agent.objects.for_org(monitor.organisation))


def evaluate_monitors(organisation_ids: Iterable[Any], now: datetime | None = None) -> int:
    """Check every active monitor of these organisations; returns how many alerts opened or resolved."""
    changed = 0
    monitors = Monitor.objects.filter(organisation_id__in=list(organisation_ids), active=True).values_list("pk", flat=True)
    for monitor_id in monitors:
        try:
            changed += evaluate_monitor(monitor_id, now)
        except DatabaseError:  # one monitor's failure must not keep the others from being checked
            log.exception("checking monitor %s failed; the next check tries again", monitor_id)
    return changed


def evaluate_monitor(monitor_id: Any, now: datetime | None = None) -> int:
    """One monitor, locked while it is checked so two workers never open the same alert twice: opens an alert for
    each agent whose condition is newly met, refreshes the evidence of those still met, resolves the others."""
    with transaction.atomic():
        monitor = (Monitor.objects.select_for_update(of=("self",)).select_related("organisation", "baseline")
                   .filter(pk=monitor_id, active=True).first())
        if monitor is None:
            return 0
        found = conditions.check(monitor, watched_agents(monitor), now or timezone.now())
        open_alerts = {a.agent_id: a for a in Alert.objects.for_org(monitor.organisation)
                       .filter(monitor=monitor, status=AlertStatus.FIRING).select_related("agent")}
        changed = 0
        for agent_id, condition in found.items():
            alert = open_alerts.pop(agent_id, None)
            if condition.met and alert is None:
                _open(monitor, agent_id, condition)
                changed += 1
            elif condition.met:
                alert.summary, alert.evidence = condition.summary[:300], condition.evidence
                alert.save(update_fields=["summary", "evidence"])
            elif alert is not None:
                resolve(alert, condition.evidence)
                changed += 1
        for alert in open_alerts.values():  # agents the monitor no longer watches
            resolve(alert)
            changed += 1
        return changed


def _open(monitor: Monitor, agent_id: Any, condition: conditions.Condition) -> Alert:
    alert = Alert.objects.create(organisation=monitor.organisation, monitor=monitor, agent_id=agent_id,
                                 summary=condition.summary[:300], evidence=condition.evidence,
                                 pattern=condition.pattern)
    notify(alert, "firing")
    return alert


def resolve(alert: Alert, evidence: dict[str, Any] | None = None) -> Alert:
    """Resolved, keeping the figures that show the recovery when there are any (the resolved notification's)."""
    alert.status, alert.resolved_at = AlertStatus.RESOLVED, timezone.now()
    alert.evidence = evidence or alert.evidence
    alert.save(update_fields=["status", "resolved_at", "evidence"])
    notify(alert, "resolved")
    return alert


def snooze(alert: Alert, minutes: int) -> Alert:
    """No notification of this alert for `minutes` (0 ends a snooze)."""
    alert.snoozed_until = timezone.now() + timedelta(minutes=minutes) if minutes else None
    alert.save(update_fields=["snoozed_until"])
    return alert


def set_muted(monitor: Monitor, muted: bool) -> Monitor:
    monitor.muted = muted
    monitor.save(update_fields=["muted"])
    return monitor


# -- notifications ---------------------------------------------------------------------------------------------------
def notify(alert: Alert, event: str) -> list[Delivery]:
    """A delivery per channel of the monitor, sent after the transaction commits; none while muted or snoozed."""
    monitor = alert.monitor
    if monitor.muted or alert.snoozed():
        return []
    made = [Delivery(organisation=alert.organisation, alert=alert, webhook=webhook, channel=Channel.WEBHOOK,
                     event=event, body=payloads.webhook_body(alert, event, webhook.format))
            for webhook in monitor.webhooks.filter(active=True)]
    if monitor.email_members:
        made.append(Delivery(organisation=alert.organisation, alert=alert, channel=Channel.EMAIL, event=event,
                             body=payloads.email_text(alert, event)))
    made = Delivery.objects.bulk_create(made)
    _send_after_commit(made)
    return made


def send_test(webhook: Webhook) -> Delivery:
    delivery = Delivery.objects.create(organisation=webhook.organisation, webhook=webhook, channel=Channel.WEBHOOK,
                                       event="test", body=payloads.test_body(webhook))
    _send_after_commit([delivery])
    return delivery


def _send_after_commit(deliveries: list[Delivery]) -> None:
    from .tasks import queue_delivery

    for delivery in deliveries:
        transaction.on_commit(lambda pk=delivery.pk: queue_delivery(pk))


def member_emails(organisation: Organisation) -> list[str]:
    emails = Membership.objects.for_org(organisation).values_list("user__email", flat=True)
    return sorted({e for e in emails if e})
