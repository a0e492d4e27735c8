"""The one way to scope a query or a view to an organisation.

Every tenant-owned model uses `TenantManager`, whose `for_org(org)` is the only door to its rows;
`get_for_org_or_404` answers 404 for a foreign object exactly as for a missing one, so nothing leaks
existence. Views under /o/<slug>/ take the organisation from `org_view`, which resolves the slug
through the user's own memberships (a stranger's slug is a 404 too).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpRequest

if TYPE_CHECKING:
    from .models import Membership, Organisation


class TenantQuerySet(models.QuerySet):
    def for_org(self, organisation: Organisation) -> TenantQuerySet:
        return self.filter(organisation=organisation)


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    pass


def get_for_org_or_404(queryset_or_model: Any, organisation: Organisation, **lookup: Any) -> Any:
    """The object of `organisation` matching `lookup`, else 404 — also for malformed ids."""
    queryset = (
        queryset_or_model._default_manager.all()
        if isinstance(queryset_or_model, type) else queryset_or_model
    )
    try:
        return queryset.filter(organisation=organisation).get(**lookup)
    except (queryset.model.DoesNotExist, ValidationError, ValueError, TypeError) as exc:
        raise Http404("Not found") from exc


class OrgRequest(HttpRequest):
    organisation: Organisation
    membership: Membership


def membership_for(user: Any, slug: str) -> Membership | None:
    from .models import Membership

    if not user.is_authenticated:
        return None
    return (
        Membership.objects.select_related("organisation")
        .filter(user=user, organisation__slug=slug)
        .first()
    )


def require_role(request: OrgRequest, minimum_role: str) -> None:
    if not request.membership.can(minimum_role):
        raise PermissionDenied("Your role does not allow this.")


def org_view(minimum_role: str = "viewer") -> Callable:
    """Resolve /o/<org_slug>/ to the user's membership, attach it to the request, enforce a role.

    A stranger, or anyone for an organisation that does not exist, gets 404; a member whose role is
    too low gets 403 (they can see the organisation, so nothing is leaked by saying no).
    """

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, org_slug: str, *args: Any, **kwargs: Any):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = membership_for(request.user, org_slug)
            if membership is None:
                raise Http404("Not found")
            request.organisation = membership.organisation
            request.membership = membership
            require_role(request, minimum_role)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
