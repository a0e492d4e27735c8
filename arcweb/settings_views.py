"""Organisation settings: members, invitations, API keys, PII masking."""

from __future__ import annotations

import logging

from django import forms
from django.contrib import messages
from django.core.mail import send_mail
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from .models import ApiKey, ApiScope, Invitation, Membership, Role
from .services import create_api_key, invite, revoke_api_key
from .tenancy import get_for_org_or_404, org_view, require_role

log = logging.getLogger(__name__)


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=80, initial="default")
    scope = forms.ChoiceField(choices=ApiScope.choices, initial=ApiScope.FULL)


class InvitationForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=[(r.value, r.label) for r in Role if r != Role.OWNER], initial=Role.MEMBER)


@org_view()
def settings_page(request):
    return _render_settings(request)


def _render_settings(request, *, new_key: str | None = None, key_form=None, invitation_form=None):
    organisation = request.organisation
    return render(request, "arcweb/settings.html", {
        "keys": ApiKey.objects.for_org(organisation).order_by("-created_at"),
        "members": Membership.objects.for_org(organisation).select_related("user").order_by("created_at"),
        "invitations": Invitation.objects.for_org(organisation).filter(accepted_at=None).order_by("-created_at"),
        "key_form": key_form or ApiKeyForm(),
        "invitation_form": invitation_form or InvitationForm(),
        "new_key": new_key,
        "can_manage_keys": request.membership.can(Role.MEMBER),
        "can_admin": request.membership.can(Role.ADMIN),
    })


@require_POST
@org_view(Role.MEMBER)
def create_key(request):
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return _render_settings(request, key_form=form)
    _, full = create_api_key(organisation=request.organisation, name=form.cleaned_data["name"],
                             scope=form.cleaned_data["scope"], created_by=request.user,
                             creator_role=request.membership.role)
    # Shown on this response only; never stored and never put in a URL.
    return _render_settings(request, new_key=full)


@require_POST
@org_view(Role.MEMBER)
def revoke_key(request, key_id: str):
    key = get_for_org_or_404(ApiKey, request.organisation, id=key_id)
    if key.created_by_id != request.user.pk:
        require_role(request, Role.ADMIN)
    revoke_api_key(key)
    messages.success(request, f"Key {key.display} revoked.")
    return redirect("org-settings", org_slug=request.organisation.slug)


@require_POST
@org_view(Role.ADMIN)
def create_invitation(request):
    form = InvitationForm(request.POST)
    if not form.is_valid():
        return _render_settings(request, invitation_form=form)
    invitation = invite(organisation=request.organisation, email=form.cleaned_data["email"],
                        role=form.cleaned_data["role"], invited_by=request.user)
    link = request.build_absolute_uri(reverse("accept-invite", args=[invitation.token]))
    try:
        send_mail(
            f"Join {request.organisation.name} on Arc Eval",
            f"{request.user.email} invited you to {request.organisation.name} as {invitation.role}.\n\n"
            f"Accept within 14 days: {link}\n",
            None, [invitation.email],
        )
    except OSError:
        log.warning("could not e-mail the invitation %s", invitation.pk)
    messages.success(request, f"Invitation e-mailed to {invitation.email}. Their link: {link}")
    return redirect("org-settings", org_slug=request.organisation.slug)
