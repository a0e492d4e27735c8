"""allauth glue: signing up creates the user's first organisation, where they are owner."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.signals import user_signed_up
from django.dispatch import receiver
from django.urls import reverse

from .models import Membership
from .services import create_organisation


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request) -> str:
        next_url = request.POST.get("next") or request.GET.get("next")
        if next_url:
            return super().get_login_redirect_url(request)
        return reverse("home")


@receiver(user_signed_up)
def create_first_organisation(sender, request, user, **kwargs) -> None:
    if Membership.objects.filter(user=user).exists():  # joined through an invitation
        return
    name = (user.email.split("@")[0] if user.email else user.get_username()) or "my-team"
    create_organisation(name=f"{name}'s team", owner=user)
