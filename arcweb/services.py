"""Writes of the tenancy core: organisations, memberships, invitations, API keys."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from .models import ApiKey, ApiScope, Invitation, Membership, Organisation, Role, role_at_least

User = get_user_model()


def unique_slug(name: str) -> str:
    base = slugify(name)[:40] or "org"
    slug, n = base, 1
    while Organisation.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def create_organisation(*, name: str, owner, slug: str | None = None) -> Organisation:
    organisation = Organisation.objects.create(slug=slug or unique_slug(name), name=name)
    Membership.objects.create(organisation=organisation, user=owner, role=Role.OWNER)
    return organisation


def get_or_create_user(email: str):
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(username=email[:150], email=email)
    return user


def create_api_key(*, organisation: Organisation, name: str = "default", scope: str = ApiScope.FULL,
                   created_by=None, creator_role: str = Role.ADMIN) -> tuple[ApiKey, str]:
    """A key acts with its creator's role, capped at admin (an owner's key cannot delete the org)."""
    role = Role.ADMIN if role_at_least(creator_role, Role.ADMIN) else creator_role
    return ApiKey.issue(organisation=organisation, name=name, scope=scope, role=role, created_by=created_by)


def revoke_api_key(key: ApiKey) -> None:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])


def invite(*, organisation: Organisation, email: str, role: str, invited_by) -> Invitation:
    return Invitation.objects.create(organisation=organisation, email=email.lower(), role=role,
                                     invited_by=invited_by)


@transaction.atomic
def accept_invitation(invitation: Invitation, user) -> Membership:
    membership, _ = Membership.objects.get_or_create(
        organisation=invitation.organisation, user=user, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    return membership
