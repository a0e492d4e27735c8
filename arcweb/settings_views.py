"""Organisation settings: name and policies, members and roles, invitations, API keys, danger zone."""

from __future__ import annotations

import logging

from django import forms
from django.contrib import messages
from django.core.mail import send_mail
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from . import services
from .branding import LOGO_MAX_UPLOAD_BYTES, InvalidLogo, normalise_logo, png_data_uri
from .models import ApiKey, ApiScope, AuditLog, Invitation, Membership, Organisation, OrganisationLogo, Role
from .services import create_api_key, invite, revoke_api_key, update_settings
from .tenancy import get_for_org_or_404, org_view, require_role

log = logging.getLogger(__name__)
AUDIT_SHOWN = 50


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=80, initial="default")
    scope = forms.ChoiceField(choices=ApiScope.choices, initial=ApiScope.FULL)


class InvitationForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=[(r.value, r.label) for r in Role if r != Role.OWNER], initial=Role.MEMBER)


RETENTION_CHOICES = [(30, "30 days"), (90, "90 days"), (180, "180 days"), (365, "1 year"), (730, "2 years")]


class OrganisationForm(forms.ModelForm):
    retention_days = forms.TypedChoiceField(choices=RETENTION_CHOICES, coerce=int, label="Keep traces for")

    class Meta:
        model = Organisation
        fields = ["name", "mask_pii_at_ingestion", "public_sharing_enabled", "retention_days"]
        labels = {"mask_pii_at_ingestion": "Mask PII and secrets at ingestion (before anything is stored)",
                  "public_sharing_enabled": "Allow public report links and badges"}


class LogoForm(forms.Form):
    logo = forms.FileField(label="Logo for shared reports",
                           widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg,image/webp,image/gif"}))


class DeleteForm(forms.Form):
    confirm = forms.CharField(max_length=60)


@org_view()
def settings_page(request):
    return _render_settings(request)


def _render_settings(request, *, new_key: str | None = None, key_form=None, invitation_form=None, org_form=None,
                     logo_error: str = "", delete_error: str = "", status: int = 200):
    organisation = request.organisation
    if org_form is None:
        org_form = OrganisationForm(instance=organisation, auto_id="org_%s")
        if organisation.retention_days not in dict(RETENTION_CHOICES):
            org_form.fields["retention_days"].choices = [
                *RETENTION_CHOICES, (organisation.retention_days, f"{organisation.retention_days} days")]
    return render(request, "arcweb/settings.html", {
        "nav": "settings", "org_form": org_form, "delete_error": delete_error, "logo_error": logo_error,
        "logo_form": LogoForm(auto_id="logo_%s"), "logo_src": _logo_src(organisation),
        "roles": [(r.value, r.label) for r in Role],
        "is_owner": request.membership.role == Role.OWNER,
        "keys": ApiKey.objects.for_org(organisation).with_owner_role().select_related("created_by")
        .order_by("-created_at"),
        "members": Membership.objects.for_org(organisation).select_related("user").order_by("created_at"),
        "invitations": Invitation.objects.for_org(organisation).filter(accepted_at=None).order_by("-created_at"),
        "key_form": key_form or ApiKeyForm(),
        "invitation_form": invitation_form or InvitationForm(),
        "new_key": new_key,
        "can_manage_keys": request.membership.can(Role.MEMBER),
        "can_admin": request.membership.can(Role.ADMIN),
        "audit_log": AuditLog.objects.for_org(organisation).order_by("-created_at")[:AUDIT_SHOWN]
        if request.membership.role == Role.OWNER else None,
    }, status=status)


def _logo_src(organisation: Organisation) -> str | None:
    png = OrganisationLogo.objects.for_org(organisation).values_list("png", flat=True).first()
    return png_data_uri(bytes(png)) if png else None


@require_POST
@org_view(Role.MEMBER)
def create_key(request):
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return _render_settings(request, key_form=form, status=400)
    _, full = create_api_key(organisation=request.organisation, owner=request.user, name=form.cleaned_data["name"],
                             scope=form.cleaned_data["scope"], by=request.user)
    # Shown on this response only; never stored and never put in a URL.
    return _render_settings(request, new_key=full)


@require_POST
@org_view(Role.MEMBER)
def revoke_key(request, key_id: str):
    key = get_for_org_or_404(ApiKey, request.organisation, id=key_id)
    if key.created_by_id != request.user.pk:
        require_role(request, Role.ADMIN)
    revoke_api_key(key, by=request.user)
    messages.success(request, f"Key {key.display} revoked.")
    return redirect("org-settings", org_slug=request.organisation.slug)


@require_POST
@org_view(Role.ADMIN)
def create_invitation(request):
    form = InvitationForm(request.POST)
    if not form.is_valid():
        return _render_settings(request, invitation_form=form, status=400)
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


@require_POST
@org_view(Role.ADMIN)
def update_organisation(request):
    form = OrganisationForm(request.POST, instance=request.organisation, auto_id="org_%s")
    if not form.is_valid():
        return _render_settings(request, org_form=form, status=400)
    form.save()
    update_settings(request.organisation, {name: form.cleaned_data[name] for name in form.changed_data},
                    by=request.user)
    messages.success(request, "Organisation settings saved.")
    return redirect("org-settings", org_slug=request.organisation.slug)


@require_POST
@org_view(Role.ADMIN)
def upload_logo(request):
    form = LogoForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_settings(request, logo_error="Choose an image to upload.", status=400)
    try:
        png = normalise_logo(form.cleaned_data["logo"].read(LOGO_MAX_UPLOAD_BYTES + 1))
    except InvalidLogo as exc:
        return _render_settings(request, logo_error=str(exc), status=400)
    services.set_logo(request.organisation, png, by=request.user)
    messages.success(request, "Logo saved: reports made from now on show it.")
    return redirect("org-settings", org_slug=request.organisation.slug)


@require_POST
@org_view(Role.ADMIN)
def remove_logo(request):
    if services.remove_logo(request.organisation, by=request.user):
        messages.success(request, "Logo removed: reports made from now on show the monogram.")
    return redirect("org-settings", org_slug=request.organisation.slug)


def _member_for_change(request, member_id: str) -> Membership:
    """The membership to change: admins may change members and viewers; only owners may touch owners."""
    membership = get_for_org_or_404(Membership.objects.select_related("user"), request.organisation, id=member_id)
    if membership.role == Role.OWNER:
        require_role(request, Role.OWNER)
    return membership


@require_POST
@org_view(Role.ADMIN)
def change_role(request, member_id: str):
    role = request.POST.get("role", "")
    with transaction.atomic():
        membership = _member_for_change(request, member_id)
        if role not in Role.values:
            messages.error(request, "Unknown role.")
            return redirect("org-settings", org_slug=request.organisation.slug)
        if role == Role.OWNER:
            require_role(request, Role.OWNER)
        try:
            services.change_role(membership, role, by=request.user)
        except ValueError as exc:
            messages.error(request, str(exc))
            return redirect("org-settings", org_slug=request.organisation.slug)
    messages.success(request, f"{membership.user.email} is now {membership.get_role_display().lower()}.")
    return redirect("org-settings", org_slug=request.organisation.slug)


@require_POST
@org_view(Role.ADMIN)
def remove_member(request, member_id: str):
    with transaction.atomic():
        membership = _member_for_change(request, member_id)
        email, user_id = membership.user.email, membership.user_id
        try:
            revoked = services.remove_member(membership, by=request.user)
        except ValueError as exc:
            messages.error(request, str(exc))
            return redirect("org-settings", org_slug=request.organisation.slug)
    messages.success(request, f"{email} was removed" + (f"; their {revoked} API key(s) revoked." if revoked else "."))
    if user_id == request.user.pk:
        return redirect("home")
    return redirect("org-settings", org_slug=request.organisation.slug)


@require_POST
@org_view(Role.ADMIN)
def revoke_invitation(request, invitation_id: str):
    invitation = get_for_org_or_404(Invitation, request.organisation, id=invitation_id)
    email = invitation.email
    invitation.delete()
    messages.success(request, f"Invitation of {email} withdrawn.")
    return redirect("org-settings", org_slug=request.organisation.slug)


@require_POST
@org_view(Role.OWNER)
def delete_organisation(request):
    """Deletes the organisation and everything in it, once its slug is typed to confirm."""
    organisation = request.organisation
    form = DeleteForm(request.POST)
    if not form.is_valid() or form.cleaned_data["confirm"].strip() != organisation.slug:
        return _render_settings(request, delete_error=f"Type {organisation.slug} to confirm.", status=400)
    name = organisation.name
    if not Organisation.objects.filter(pk=organisation.pk).delete()[0]:
        raise Http404("Not found")
    log.info("organisation %s deleted by user %s", organisation.pk, request.user.pk)
    messages.success(request, f"{name} and all its data were deleted.")
    return redirect("home")
