"""Tenants' secrets at rest: sealed with Fernet, readable only with a configured key, rotatable."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from arcweb.encryption import SecretUnreadable, hint, seal, unseal


def test_sealed_value_hides_the_secret_and_opens_again():
    token = seal("sk-live-0123456789abcdef")
    assert "0123456789" not in token
    assert unseal(token) == "sk-live-0123456789abcdef"


def test_rotation_keeps_old_values_readable_until_old_key_removed(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.ARC_ENCRYPTION_KEYS = [old]
    token = seal("secret-value")
    settings.ARC_ENCRYPTION_KEYS = [new, old]
    assert unseal(token) == "secret-value"
    settings.ARC_ENCRYPTION_KEYS = [new]
    with pytest.raises(SecretUnreadable):
        unseal(token)


def test_hint_shows_only_last_four_characters():
    assert hint("sk-live-0123456789abcdef") == "…cdef"
    assert hint("short") == "…"
