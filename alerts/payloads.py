"""What an alert sends: a generic JSON body, a Slack-compatible one (`text` and blocks), an e-mail's text.

Every body carries the organisation's own alert only: its monitor, agent, figures, window and links. Text that
came from runs (pattern messages, where a finding was) is already a short, masked, escaped excerpt in the
evidence (alerts/excerpts.py); nothing else of a run is put in.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .excerpts import excerpt
from .models import Alert, Webhook, WebhookFormat

EVENT_TITLES = {"firing": "Alert firing", "resolved": "Alert resolved", "test": "Test notification"}


def _url(name: str, *args: Any) -> str:
    return settings.SITE_URL + reverse(name, args=args)


def alert_document(alert: Alert, event: str) -> dict[str, Any]:
    slug = alert.organisation.slug
    evidence = alert.evidence or {}
    return {
        "event": f"alert.{event}",
        "status": alert.status,
        "alert": {
            "id": str(alert.id), "url": _url("alert-detail", slug, alert.id), "summary": excerpt(alert.summary, 300),
            "opened_at": alert.opened_at.isoformat(),
            "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
            "monitor": {"id": str(alert.monitor_id), "name": excerpt(alert.monitor.name, 120),
                        "kind": alert.monitor.kind},
            "agent": {"id": str(alert.agent_id), "name": excerpt(alert.agent.name, 120)},
            "evidence": evidence,
            "runs": [_url("trace-detail", slug, trace_id) for trace_id in evidence.get("runs", [])],
            "pattern": _url("pattern-detail", slug, alert.pattern_id) if alert.pattern_id else None,
        },
        "sent_at": timezone.now().isoformat(),
    }


def _slack(document: dict[str, Any], title: str) -> dict[str, Any]:
    alert = document["alert"]
    lines = [f"*{title}: {alert['monitor']['name']}*", alert["summary"]]
    figures = alert["evidence"].get("figures") or {}
    facts = " · ".join(f"{name.replace('_', ' ')}: {value}" for name, value in figures.items())
    links = [f"<{alert['url']}|Open the alert>"] + [f"<{url}|run {i + 1}>" for i, url in enumerate(alert["runs"][:3])]
    if alert["pattern"]:
        links.append(f"<{alert['pattern']}|the pattern>")
    return {
        "text": f"{title}: {alert['summary']}",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}},
            *([{"type": "context", "elements": [{"type": "mrkdwn", "text": facts[:2000]}]}] if facts else []),
            {"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(links)}]},
        ],
        "event": document["event"], "status": document["status"], "alert_id": alert["id"],
    }


def webhook_body(alert: Alert, event: str, format: str) -> str:
    document = alert_document(alert, event)
    if format == WebhookFormat.SLACK:
        document = _slack(document, EVENT_TITLES[event])
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def test_body(webhook: Webhook) -> str:
    text = f"Test notification from Arc Eval to webhook {excerpt(webhook.name, 120)}"
    document: dict[str, Any] = {"event": "test", "status": "test", "webhook": {"id": str(webhook.id)},
                                "text": text, "sent_at": timezone.now().isoformat()}
    if webhook.format == WebhookFormat.SLACK:
        document["blocks"] = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def email_subject(alert: Alert, event: str) -> str:
    return " ".join(f"[Arc Eval] {EVENT_TITLES[event]}: {alert.monitor.name} on {alert.agent.name}".split())[:200]


def email_text(alert: Alert, event: str) -> str:
    return render_to_string("alerts/email.txt", {"title": EVENT_TITLES[event],
                                                 "document": alert_document(alert, event)})
