from __future__ import annotations

from django.urls import NoReverseMatch, reverse

from .models import Membership


def navigation(request) -> dict:
    """The organisations the user can switch to, and the links of the main navigation."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    context = {
        "my_memberships": Membership.objects.filter(user=request.user)
        .select_related("organisation").order_by("organisation__name"),
    }
    organisation = getattr(request, "organisation", None)
    if organisation is not None:
        try:
            # The reports pages live in their own URL module; the link shows once they exist.
            context["reports_url"] = reverse("report-list", args=[organisation.slug])
        except NoReverseMatch:
            context["reports_url"] = ""
    return context
