"""Project-level pages: home (to the user's organisation), health, invitations."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views import defaults
from django.views.decorators.cache import never_cache

from .errors import error_body
from .models import Membership
from .services import InvitationClosed, NotTheInvitee, accept_invitation, check_invitee, open_invitation


@login_required
def home(request):
    membership = Membership.objects.filter(user=request.user).select_related("organisation") \
        .order_by("created_at").first()
    if membership is None:
        return render(request, "arcweb/no_organisation.html")
    return redirect("overview", org_slug=membership.organisation.slug)


API_PREFIXES = ("/api/", "/v1/")


def not_found(request, exception=None):
    """404 for a path no route matches (a malformed id included): JSON in the API's error shape for API
    clients, the usual page for people."""
    if request.path.startswith(API_PREFIXES):
        return JsonResponse(error_body("not_found", "Not found."), status=404)
    return defaults.page_not_found(request, exception)


@never_cache
def healthz(request):
    """200 when the database answers (503 when not); the broker's state is reported, not required."""
    database = _database_ok()
    broker = _broker_state()
    return JsonResponse({"database": "ok" if database else "down", "broker": broker},
                        status=200 if database else 503)


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        return False


def _broker_state() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "in-process"
    from .celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=1)
        return "ok"
    except Exception:
        return "down"


@login_required
def accept_invite(request, token: str):
    """An invitation is accepted by the user who owns the invited address (verified); anyone else holding the
    link gets a page that says so, and no membership."""
    try:
        invitation = open_invitation(token)
        check_invitee(invitation, request.user)
        if request.method == "POST":
            accept_invitation(token, request.user)
            messages.success(request, f"You joined {invitation.organisation.name}.")
            return redirect("overview", org_slug=invitation.organisation.slug)
    except InvitationClosed:
        raise Http404("This invitation is unknown, used or expired.") from None
    except NotTheInvitee as exc:
        local, _, domain = exc.invitation.email.partition("@")
        return render(request, "arcweb/accept_invite.html", {
            "invitation": exc.invitation, "not_yours": True, "unverified": exc.unverified,
            "invited_address": f"{local[:1]}…@{domain}"}, status=403)
    return render(request, "arcweb/accept_invite.html", {"invitation": invitation})
