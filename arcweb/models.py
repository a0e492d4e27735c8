"""Organisations, who belongs to them, and the keys their agents send traces with."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from .tenancy import TenantManager, TenantQuerySet


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"


ROLE_RANK = {Role.VIEWER: 0, Role.MEMBER: 1, Role.ADMIN: 2, Role.OWNER: 3}


def role_at_least(role: str, minimum: str) -> bool:
    return ROLE_RANK[Role(role)] >= ROLE_RANK[Role(minimum)]


def lesser_role(a: str, b: str) -> str:
    return a if ROLE_RANK[Role(a)] <= ROLE_RANK[Role(b)] else b


class Organisation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=120)
    created_at = models.DateTimeField(default=timezone.now)
    mask_pii_at_ingestion = models.BooleanField(
        default=False, help_text="Mask PII and secrets in trace content before anything is stored."
    )
    public_sharing_enabled = models.BooleanField(default=True)
    retention_days = models.PositiveIntegerField(default=365)

    def __str__(self) -> str:
        return self.slug


class OrganisationLogo(models.Model):
    """The logo shown on the organisation's shared reports (a PNG made by `branding.normalise_logo`).

    Its own table, so the organisation row that every request loads stays small.
    """

    organisation = models.OneToOneField(Organisation, on_delete=models.CASCADE, primary_key=True,
                                        related_name="logo")
    png = models.BinaryField()
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantManager()

    def __str__(self) -> str:
        return f"logo of {self.organisation_id}"


class Membership(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "user"], name="one_membership_per_org")]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.organisation_id} ({self.role})"

    def can(self, minimum: str) -> bool:
        return role_at_least(self.role, minimum)


def _invitation_token() -> str:
    return secrets.token_urlsafe(32)


def _invitation_expiry():
    return timezone.now() + timedelta(days=14)


class Invitation(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    token = models.CharField(max_length=64, unique=True, default=_invitation_token)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(default=_invitation_expiry)
    accepted_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    def __str__(self) -> str:
        return f"invitation of {self.email} to {self.organisation_id}"

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.expires_at > timezone.now()


class ApiScope(models.TextChoices):
    FULL = "full", "Full access (send and read)"
    INGEST = "ingest", "Ingest only (send traces, read nothing)"


API_KEY_PREFIX = "arc_"


class ApiKeyQuerySet(TenantQuerySet):
    def with_owner_role(self) -> ApiKeyQuerySet:
        """Each key with `owner_role`: the role its owner holds now in the key's organisation (None: no member)."""
        return self.annotate(owner_role=models.Subquery(
            Membership.objects.filter(organisation=models.OuterRef("organisation_id"),
                                      user=models.OuterRef("created_by_id")).values("role")[:1]))


def hash_api_key(secret: str) -> str:
    # The secret carries 256 random bits, so a plain SHA-256 cannot be brute-forced; no salt needed.
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiKey(models.Model):
    """A key acts as its owner (`created_by`): with the lesser of its own role and the owner's current role in
    the organisation (see `arcweb.authentication`), and not at all once they are no longer a member."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=80, default="default")
    prefix = models.CharField(max_length=16, unique=True)
    hashed_secret = models.CharField(max_length=64)
    scope = models.CharField(max_length=10, choices=ApiScope.choices, default=ApiScope.FULL)
    role = models.CharField(
        max_length=10, choices=Role.choices, default=Role.ADMIN,
        help_text="The most the key may do: its owner's role when it was made, at most admin.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        help_text="The key's owner: the member it acts as. A key without one (its owner deleted) works no more.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = models.Manager.from_queryset(ApiKeyQuerySet)()

    class Meta:
        indexes = [models.Index(fields=["organisation", "created_at"])]

    def __str__(self) -> str:
        return self.display

    @classmethod
    def issue(cls, *, organisation: Organisation, created_by, name: str = "default", scope: str = ApiScope.FULL,
              role: str = Role.ADMIN) -> tuple[ApiKey, str]:
        """Create a key; the full key is returned once and never stored."""
        prefix = secrets.token_hex(4)
        secret = secrets.token_urlsafe(32)
        key = cls.objects.create(
            organisation=organisation, name=name, prefix=prefix, hashed_secret=hash_api_key(secret),
            scope=scope, role=role, created_by=created_by,
        )
        return key, f"{API_KEY_PREFIX}{prefix}_{secret}"

    @property
    def display(self) -> str:
        return f"{API_KEY_PREFIX}{self.prefix}_…"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def acting_role(self) -> str | None:
        """What the key may do now: the lesser of its role and its owner's current role; None when its owner is
        no member. Read from a key loaded `with_owner_role()`."""
        return lesser_role(self.role, self.owner_role) if self.owner_role else None


class AuditLog(models.Model):
    """Who did what to an organisation's keys, members and shared reports; visible to owners."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="audit_log")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    actor_label = models.CharField(max_length=200, blank=True, help_text="The user's e-mail or the API key.")
    action = models.CharField(max_length=40)
    target = models.CharField(max_length=200, blank=True)
    details = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        indexes = [models.Index(fields=["organisation", "-created_at"], name="audit_org_created")]

    def __str__(self) -> str:
        return f"{self.action} {self.target}"
