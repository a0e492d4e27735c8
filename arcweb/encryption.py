"""Secrets a tenant gives us (model endpoint keys, webhook signing secrets), encrypted at rest with Fernet.

Keys come from `ARC_ENCRYPTION_KEYS` (comma-separated Fernet keys, newest first); without it one key is
derived from SECRET_KEY. Rotation: put a new key first, keep the old ones after it, run
`manage.py rotate_secrets` (every `SealedTextField` is re-encrypted with the newest key), then drop the
old keys. A sealed value is only ever opened where it is used (an outbound call), never shown again.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.db import models, transaction


class SecretUnreadable(Exception):
    """A stored secret cannot be decrypted with the configured keys (a key was removed too early)."""


class SealedTextField(models.TextField):
    """A column holding a Fernet token; marks it for `rotate_secrets`. The model keeps the token, not the secret."""


def _fernet() -> MultiFernet:
    keys = list(settings.ARC_ENCRYPTION_KEYS) or [
        base64.urlsafe_b64encode(hashlib.sha256(f"arc-eval-secrets:{settings.SECRET_KEY}".encode()).digest())
    ]
    return MultiFernet([Fernet(key) for key in keys])


def seal(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def unseal(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable("the stored secret cannot be decrypted with the configured keys") from exc


def hint(secret: str) -> str:
    """What may be shown of a secret again: its last four characters."""
    return f"…{secret[-4:]}" if len(secret) > 8 else "…"


def sealed_fields() -> list[tuple[type[models.Model], str]]:
    return [(model, field.attname) for model in apps.get_models() for field in model._meta.concrete_fields
            if isinstance(field, SealedTextField)]


def rotate_all() -> int:
    """Re-encrypt every sealed value with the newest key; returns how many were rewritten."""
    fernet = _fernet()
    rewritten = 0
    for model, attname in sealed_fields():
        with transaction.atomic():
            for pk, token in model._default_manager.select_for_update().exclude(**{attname: ""}).values_list(
                    "pk", attname):
                try:
                    rotated = fernet.rotate(token.encode()).decode()
                except InvalidToken as exc:
                    raise SecretUnreadable(f"{model._meta.label} {pk}: not readable with the configured keys") from exc
                model._default_manager.filter(pk=pk).update(**{attname: rotated})
                rewritten += 1
    return rewritten
