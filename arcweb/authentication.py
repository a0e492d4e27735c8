"""API keys for DRF: `Authorization: Bearer arc_<prefix>_<secret>` (or `X-API-Key`), scopes and throttles.

A key acts as its owner: with the lesser of its own role and the role its owner holds now (`acting_role`),
and not at all once its owner is no longer a member of the organisation.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from rest_framework import authentication, exceptions, permissions, throttling

from .models import (
    API_KEY_PREFIX,
    ApiKey,
    ApiScope,
    Membership,
    Organisation,
    Role,
    hash_api_key,
    role_at_least,
)

LAST_USED_RESOLUTION = timedelta(minutes=1)
# A verified key (with its organisation and its owner's role) is reused by this process for at most
# KEY_CACHE_SECONDS, which spares every API request a database query. Revoking or deleting a key, changing an
# organisation or a membership clears this process's cache at once; other processes see the change within
# KEY_CACHE_SECONDS.
KEY_CACHE_SECONDS = 2.0
KEY_CACHE_MAX = 1000
_key_cache: dict[str, tuple[float, ApiKey]] = {}
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ApiClient:
    """Who is calling the API: an organisation's key. Stands in `request.user`."""

    key: ApiKey

    is_authenticated = True
    is_anonymous = False

    @property
    def organisation(self) -> Organisation:
        return self.key.organisation


def parse_api_key(raw: str) -> tuple[str, str] | None:
    if not raw.startswith(API_KEY_PREFIX):
        return None
    prefix, sep, secret = raw[len(API_KEY_PREFIX):].partition("_")
    return (prefix, secret) if sep and prefix and secret else None


def find_active_key(raw: str) -> ApiKey | None:
    parsed = parse_api_key(raw.strip())
    if parsed is None:
        return None
    prefix, secret = parsed
    now = time.monotonic()
    cached = _key_cache.get(prefix)
    if cached is not None and cached[0] > now:
        key = cached[1]
    else:
        key = ApiKey.objects.with_owner_role().select_related("organisation").filter(prefix=prefix).first()
        if key is not None and key.is_active:
            if len(_key_cache) >= KEY_CACHE_MAX:
                _key_cache.clear()
            _key_cache[prefix] = (now + KEY_CACHE_SECONDS, key)
    if key is None or not hmac.compare_digest(key.hashed_secret, hash_api_key(secret)):
        return None
    if not key.is_active or key.acting_role is None:
        return None
    return key


@receiver(post_save, sender=ApiKey)
@receiver(post_delete, sender=ApiKey)
@receiver(post_save, sender=Organisation)
@receiver(post_delete, sender=Organisation)
@receiver(post_save, sender=Membership)
@receiver(post_delete, sender=Membership)
def _forget_cached_keys(**kwargs) -> None:
    _key_cache.clear()


def touch_last_used(key: ApiKey) -> None:
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        raw = self._raw_key(request)
        if raw is None:
            return None
        key = find_active_key(raw)
        if key is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked API key.")
        touch_last_used(key)
        return ApiClient(key), key

    def _raw_key(self, request) -> str | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if header:
            scheme, _, value = header.partition(" ")
            if scheme.lower() == "basic":  # the Langfuse SDK's way: the key is the password
                return _basic_password(value)
            if scheme.lower() != "bearer" or not value.strip():
                raise exceptions.AuthenticationFailed("Use 'Authorization: Bearer <api key>'.")
            return value
        return request.META.get("HTTP_X_API_KEY") or None

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="arc-eval"'


def _basic_password(value: str) -> str:
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise exceptions.AuthenticationFailed("Malformed Basic credentials.") from None
    _, _, password = decoded.partition(":")
    return password


class IsOrganisationMember(permissions.BasePermission):
    """An API key of some organisation; ingest-only keys reach only views marked `ingest_allowed`, and a key
    acting as a viewer only reads."""

    def has_permission(self, request, view) -> bool:
        if not isinstance(request.auth, ApiKey):
            raise exceptions.NotAuthenticated("Send an API key: 'Authorization: Bearer <api key>'.")
        if request.auth.scope == ApiScope.INGEST:
            self.message = "This API key may only send traces."
            allowed = bool(getattr(view, "ingest_allowed", False)) and request.method == "POST"
        else:
            allowed = True
        if allowed and request.method not in permissions.SAFE_METHODS \
                and not role_at_least(request.auth.acting_role, Role.MEMBER):
            self.message = "This key's owner is a viewer now: the key may only read."
            allowed = False
        return allowed


class IsAdminKey(permissions.BasePermission):
    message = "Only keys of an owner or admin (who still is one) may do this."

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, ApiKey) and role_at_least(request.auth.acting_role, Role.ADMIN)


class ApiKeyRateThrottle(throttling.SimpleRateThrottle):
    """A fixed-window counter per key: one atomic increment per request, whatever the rate (DRF's default
    keeps and rewrites every request's timestamp, which grows with the rate)."""

    scope = "api_key"

    def get_cache_key(self, request, view) -> str | None:
        if not isinstance(request.auth, ApiKey):
            return None
        return f"throttle:{self.scope}:{request.auth.prefix}"

    def allow_request(self, request, view) -> bool:
        key = self.get_cache_key(request, view)
        if key is None or self.rate is None:
            return True
        now = time.time()
        window = int(now // self.duration)
        self.retry_in = (window + 1) * self.duration - now
        counter = f"{key}:{window}"
        # The counter lives in Redis: with Redis down, traces are still accepted (fail open), never a 500.
        try:
            self.cache.add(counter, 0, timeout=self.duration + 1)
            return self.cache.incr(counter) <= self.num_requests
        except Exception as exc:
            log.warning("rate limiting skipped, cache unavailable: %s", exc)
            return True

    def wait(self) -> float:
        return self.retry_in
