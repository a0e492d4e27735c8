"""The audit log: one function to record a security-relevant change."""

from __future__ import annotations

from typing import Any

from .models import AuditLog, Organisation

ACTIONS = (
    "key.created", "key.revoked", "member.invited", "member.added", "member.joined", "member.role_changed",
    "member.removed",
    "report.shared", "report.revoked", "organisation.settings_changed",
)


def record(*, organisation: Organisation, action: str, target: str = "", actor=None, key=None,
           **details: Any) -> AuditLog:
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    label = getattr(actor, "email", "") if actor is not None else (key.display if key is not None else "system")
    return AuditLog.objects.create(organisation=organisation, actor=actor if getattr(actor, "pk", None) else None,
                                   actor_label=label or "", action=action, target=target[:200], details=details)
