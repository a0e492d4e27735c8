"""Writes of the tenancy core: organisations, memberships, invitations, API keys."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from . import audit
from .models import (
    ApiKey,
    ApiScope,
    Invitation,
    Membership,
    Organisation,
    OrganisationLogo,
    Role,
    lesser_role,
)

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


@transaction.atomic
def create_api_key(*, organisation: Organisation, owner, name: str = "default", scope: str = ApiScope.FULL,
                   by=None) -> tuple[ApiKey, str]:
    """A key of `owner`, who must be a member: it acts as them — with their role, capped at admin (an owner's
    key cannot delete the organisation), and never with more than the role they hold when it is used."""
    membership = Membership.objects.for_org(organisation).filter(user=owner).first()
    if membership is None:
        raise ValueError(f"{owner.email} is not a member of {organisation.slug}: a key acts as a member.")
    key, full = ApiKey.issue(organisation=organisation, created_by=owner, name=name, scope=scope,
                             role=lesser_role(membership.role, Role.ADMIN))
    audit.record(organisation=organisation, action="key.created", target=key.display, actor=by, scope=scope,
                 name=name, owner=owner.email)
    return key, full


@transaction.atomic
def revoke_api_key(key: ApiKey, *, by=None, **why) -> None:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit.record(organisation=key.organisation, action="key.revoked", target=key.display, actor=by, **why)


@transaction.atomic
def invite(*, organisation: Organisation, email: str, role: str, invited_by) -> Invitation:
    invitation = Invitation.objects.create(organisation=organisation, email=email.lower(), role=role,
                                           invited_by=invited_by)
    audit.record(organisation=organisation, action="member.invited", target=invitation.email, actor=invited_by,
                 role=role)
    return invitation


class InvitationClosed(Exception):
    """The invitation is unknown, used, withdrawn or expired."""


class NotTheInvitee(Exception):
    """The user has no verified e-mail address equal to the invited one."""

    def __init__(self, invitation: Invitation, *, unverified: bool):
        super().__init__(invitation.email)
        self.invitation = invitation
        self.unverified = unverified


def open_invitation(token: str, *, lock: bool = False) -> Invitation:
    invitations = Invitation.objects.select_related("organisation").filter(token=token)
    invitation = (invitations.select_for_update(of=("self",)) if lock else invitations).first()
    if invitation is None or not invitation.is_open:
        raise InvitationClosed
    return invitation


def check_invitee(invitation: Invitation, user) -> None:
    """An invitation is for the address it was sent to: the user must own it, verified (any case)."""
    from allauth.account.models import EmailAddress

    addresses = EmailAddress.objects.filter(user=user, email__iexact=invitation.email)
    if not addresses.filter(verified=True).exists():
        raise NotTheInvitee(invitation, unverified=addresses.exists())


@transaction.atomic
def accept_invitation(token: str, user) -> Membership:
    """Join with the invited role. The invitation row is locked, so of any number of concurrent accepts exactly
    one consumes it; the others find it used."""
    invitation = open_invitation(token, lock=True)
    check_invitee(invitation, user)
    membership, _ = Membership.objects.get_or_create(
        organisation=invitation.organisation, user=user, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    audit.record(organisation=invitation.organisation, action="member.joined", target=user.email, actor=user,
                 role=membership.role)
    return membership


@transaction.atomic
def change_role(membership: Membership, role: str, *, by) -> Membership:
    if membership.role == Role.OWNER and role != Role.OWNER and _owners(membership.organisation) == 1:
        raise ValueError("An organisation keeps at least one owner: make someone else owner first.")
    before, membership.role = membership.role, role
    membership.save(update_fields=["role"])
    audit.record(organisation=membership.organisation, action="member.role_changed", target=membership.user.email,
                 actor=by, before=before, after=role)
    return membership


@transaction.atomic
def add_member(*, organisation: Organisation, user, role: str, by=None) -> Membership:
    membership, created = Membership.objects.for_org(organisation).get_or_create(
        organisation=organisation, user=user, defaults={"role": role})
    if not created:
        raise ValueError(f"{user.email} is already a member ({membership.role}): change their role instead.")
    audit.record(organisation=organisation, action="member.added", target=user.email, actor=by, role=role)
    return membership


@transaction.atomic
def remove_member(membership: Membership, *, by) -> int:
    """The member leaves, and every key they own is revoked with them (each revocation in the audit log).
    Returns how many keys were revoked."""
    if membership.role == Role.OWNER and _owners(membership.organisation) == 1:
        raise ValueError("The last owner cannot be removed.")
    organisation, user = membership.organisation, membership.user
    membership.delete()
    audit.record(organisation=organisation, action="member.removed", target=user.email, actor=by)
    keys = list(ApiKey.objects.for_org(organisation).filter(created_by=user, revoked_at=None))
    for key in keys:
        revoke_api_key(key, by=by, reason="its owner was removed", owner=user.email)
    return len(keys)


def _owners(organisation: Organisation) -> int:
    # Locked, so two admins demoting the last two owners at once cannot leave none.
    return len(Membership.objects.for_org(organisation).filter(role=Role.OWNER).select_for_update())


@transaction.atomic
def update_settings(organisation: Organisation, changes: dict, *, by) -> None:
    """Record what an organisation's settings form changed (the form has saved it)."""
    if changes:
        audit.record(organisation=organisation, action="organisation.settings_changed", target=organisation.slug,
                     actor=by, changed={k: str(v) for k, v in changes.items()})


@transaction.atomic
def set_logo(organisation: Organisation, png: bytes, *, by) -> None:
    """Store the logo of the organisation's reports (a PNG from `branding.normalise_logo`)."""
    OrganisationLogo.objects.for_org(organisation).update_or_create(organisation=organisation, defaults={"png": png})
    update_settings(organisation, {"logo": "uploaded"}, by=by)


@transaction.atomic
def remove_logo(organisation: Organisation, *, by) -> bool:
    """Reports made from now on show the monogram again; those already made keep the logo they froze."""
    removed = OrganisationLogo.objects.for_org(organisation).delete()[0] > 0
    if removed:
        update_settings(organisation, {"logo": "removed"}, by=by)
    return removed
