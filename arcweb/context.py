from __future__ import annotations

from .models import Membership


def navigation(request) -> dict:
    """The organisations the user can switch to, for the header of every page."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    return {
        "my_memberships": Membership.objects.filter(user=request.user)
        .select_related("organisation").order_by("organisation__name"),
    }
