"""What the operator commands look up by name: an organisation by slug, a member by e-mail."""

from __future__ import annotations

from django.core.management.base import CommandError

from arcweb.models import Membership, Organisation, Role


def organisation(slug: str) -> Organisation:
    found = Organisation.objects.filter(slug=slug).first()
    if found is None:
        raise CommandError(f"no organisation {slug!r}")
    return found


def member(organisation: Organisation, email: str) -> Membership:
    found = (Membership.objects.for_org(organisation).select_related("user", "organisation")
             .filter(user__email__iexact=email).first())
    if found is None:
        raise CommandError(f"{email} is not a member of {organisation.slug}")
    return found


def first_owner(organisation: Organisation) -> Membership:
    found = (Membership.objects.for_org(organisation).select_related("user", "organisation")
             .filter(role=Role.OWNER).order_by("created_at", "id").first())
    if found is None:
        raise CommandError(f"{organisation.slug} has no owner: name the key's owner with --user")
    return found


ROLES = [role.value for role in Role]
