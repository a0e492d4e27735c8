"""The public faces of a shared report: page, embeddable card, badge and PDF — logged out, no tenant navigation.

The token is the credential. A revoked link answers 410 Gone; an unknown or expired one, or any link of an
organisation that turned public sharing off, answers 404. Every answer carries `X-Robots-Tag: noindex`.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.cache import get_conditional_response
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_safe

from . import services
from .badges import reliability_badge
from .models import Paper, PdfStatus, ShareLink
from .presentation import badge_figures, report_context

# A badge may be kept by a shared cache (GitHub's image proxy, a CDN) but must be revalidated on every view, so a
# revoked link stops at once; an unchanged badge costs a 304 (docs/api.md, "Badges").
BADGE_CACHE_CONTROL = "public, no-cache"
# The embed card may be framed by any site (that is its purpose); everything else keeps the strict policy.
EMBED_CSP = {**settings.SECURE_CSP, "frame-ancestors": ["*"]}


def _noindex(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _gone(request, status: int) -> HttpResponse:
    response = render(request, "reports/public/unavailable.html", {"gone": status == 410}, status=status)
    response["Cache-Control"] = "no-store"
    return _noindex(response)


def _link(token: str) -> tuple[ShareLink | None, int]:
    found = services.lookup_public(token)
    if found.link is None:
        return None, 410 if found.gone else 404
    return found.link, 200


@require_safe
def report_page(request, token: str):
    link, status = _link(token)
    if link is None:
        return _gone(request, status)
    services.record_view(link)
    context = report_context(link.report.snapshot)
    context.update({"report": link.report, "token": token})
    response = render(request, "reports/public/report.html", context)
    # no-store: a revoked link must stop at once, not live on in a shared cache
    response["Cache-Control"] = "no-store"
    return _noindex(response)


@require_safe
@xframe_options_exempt
@csp_override(EMBED_CSP)
def embed_card(request, token: str):
    link, status = _link(token)
    if link is None:
        return _gone(request, status)
    services.record_view(link)
    context = report_context(link.report.snapshot, chart_width=360)
    context.update({"report": link.report, "token": token})
    response = render(request, "reports/public/embed.html", context)
    response["Cache-Control"] = "no-store"
    return _noindex(response)


@require_safe
def badge(request, token: str):
    link, status = _link(token)
    if link is None:
        response = HttpResponse(reliability_badge("unavailable", None), status=status,
                                content_type="image/svg+xml; charset=utf-8")
        response["Cache-Control"] = "no-store"
        return _noindex(response)
    figure, grade = badge_figures(link.report.snapshot)
    svg = reliability_badge(figure, grade)
    etag = '"' + hashlib.sha256(svg.encode()).hexdigest()[:32] + '"'
    response = get_conditional_response(request, etag=etag) or HttpResponse(
        svg, content_type="image/svg+xml; charset=utf-8")
    response["ETag"] = etag
    response["Cache-Control"] = BADGE_CACHE_CONTROL
    return _noindex(response)


@require_safe
def report_pdf(request, token: str):
    link, status = _link(token)
    if link is None:
        return _gone(request, status)
    paper = request.GET.get("paper", Paper.A4)
    if paper not in Paper.values:
        raise Http404("No such paper size")
    pdf = services.request_pdf(report=link.report, paper=paper)
    pdf.refresh_from_db()
    if pdf.status != PdfStatus.DONE:
        response = render(request, "reports/public/pdf_pending.html", {"pdf": pdf, "token": token}, status=202)
        response["Retry-After"] = "2"
        return _noindex(response)
    response = HttpResponse(bytes(pdf.content), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="reliability-report-{paper}.pdf"'
    response["Cache-Control"] = "no-store"
    return _noindex(response)
