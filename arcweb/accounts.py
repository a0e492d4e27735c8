"""allauth glue: signing up creates the user's first organisation (named on the form), where they are owner;
e-mails name the product, not the host they were sent from."""

from __future__ import annotations

from types import SimpleNamespace

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.signals import user_signed_up
from django import forms
from django.conf import settings
from django.dispatch import receiver
from django.urls import reverse

from .models import Membership, Organisation
from .services import create_organisation

PRODUCT_NAME = "Arc Eval"


class SignupForm(forms.Form):
    """allauth's sign-up form takes this one's fields (ACCOUNT_SIGNUP_FORM_CLASS)."""

    organisation = forms.CharField(
        label="Organisation name", max_length=Organisation._meta.get_field("name").max_length, strip=True,
        help_text="Your team or company, as your colleagues will see it. You can change it later in Settings.",
        widget=forms.TextInput(attrs={"placeholder": "Acme Support", "autocomplete": "organization"}),
    )
    field_order = ["email", "organisation", "password1", "password2"]

    def signup(self, request, user) -> None:
        user.first_organisation_name = self.cleaned_data["organisation"]


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request) -> str:
        next_url = request.POST.get("next") or request.GET.get("next")
        if next_url:
            return super().get_login_redirect_url(request)
        return reverse("home")

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        # Without django.contrib.sites, allauth names the site after the request's host ("127.0.0.1:8000").
        domain = self.request.get_host() if self.request else settings.SITE_URL.split("://", 1)[-1]
        site = SimpleNamespace(name=PRODUCT_NAME, domain=domain)
        super().send_mail(template_prefix, email, {"current_site": site, **context})


@receiver(user_signed_up)
def create_first_organisation(sender, request, user, **kwargs) -> None:
    if Membership.objects.filter(user=user).exists():  # joined through an invitation
        return
    name = getattr(user, "first_organisation_name", "") or (
        f"{(user.email.split('@')[0] if user.email else user.get_username()) or 'my'}'s team")
    create_organisation(name=name, owner=user)
