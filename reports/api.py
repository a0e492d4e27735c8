"""The reports API: create (and share) a report, list, read, revoke, delete, download its PDF."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from arcweb.authentication import IsAdminKey
from arcweb.errors import error_body
from arcweb.tenancy import get_for_org_or_404
from evaluations.models import Baseline

from . import services
from .models import SECTIONS, Paper, PdfStatus, Report


def share_url(request, token: str) -> str:
    # The host the client reached us on (validated by ALLOWED_HOSTS); SITE_URL serves where there is no request.
    path = reverse("report-public", args=[token])
    return request.build_absolute_uri(path) if request is not None else settings.SITE_URL + path


def report_body(request, report: Report) -> dict:
    link = services.live_link(report)
    return {
        "id": str(report.id), "title": report.title, "agents": report.agent_names, "window": report.window,
        "window_start": report.window_start, "window_end": report.window_end, "sections": report.sections,
        "engine_version": report.engine_version, "source": report.source, "created_at": report.created_at,
        "shared": link is not None,
        "share_url": share_url(request, link.token) if link else None,
        "badge_url": share_url(request, link.token) + "/badge.svg" if link else None,
        "share_expires_at": link.expires_at if link else None,
        "views": sum(lk.view_count for lk in report.links.all()),
        "pdf_url": request.build_absolute_uri(reverse("api-report-pdf", args=[report.id])),
        "page_url": request.build_absolute_uri(reverse("report-detail",
                                                       args=[request.auth.organisation.slug, report.id])),
        "headline": report.snapshot.get("headline", {}),
        "snapshot": report.snapshot,
    }


def reports_of(request):
    return Report.objects.for_org(request.auth.organisation).prefetch_related("links")


def report_of(request, report_id) -> Report:
    return get_for_org_or_404(reports_of(request), request.auth.organisation, id=report_id)


class ReportInput(serializers.Serializer):
    agent = serializers.CharField(required=False, help_text="Agent id or name")
    agents = serializers.ListField(child=serializers.CharField(), required=False, max_length=services.MAX_AGENTS)
    window = serializers.CharField(required=False, default="30d", help_text="24h, 7d, 30d (1h to 400d)")
    share = serializers.BooleanField(required=False, default=False,
                                     help_text="Create a public link (keys of an owner or admin only)")
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    sections = serializers.ListField(child=serializers.ChoiceField(choices=SECTIONS), required=False)
    baseline = serializers.UUIDField(required=False, allow_null=True, default=None)
    title = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


REPORT_EXAMPLE = {
    "id": "5d1f0c8e-6a0b-4c55-9a55-2b1f1d3e4a77", "title": "Reliability of support-bot — last 30d",
    "agents": ["support-bot"], "window": "30d", "shared": True,
    "share_url": "https://arc-eval.example/r/3q2Xk…", "badge_url": "https://arc-eval.example/r/3q2Xk…/badge.svg",
    "views": 0, "pdf_url": "https://arc-eval.example/api/v1/reports/5d1f0c8e-…/pdf",
    "headline": {"runs": 1200, "reliability": 94.2, "wilson_low": 92.7, "wilson_high": 95.4, "grade": "A"},
}


class ReportCollectionView(APIView):
    @extend_schema(operation_id="list_reports", summary="Reports, newest first",
                   responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        found = reports_of(request).order_by("-created_at")[:200]
        results = []
        for report in found:
            body = report_body(request, report)
            body.pop("snapshot")
            results.append(body)
        return Response({"results": results})

    @extend_schema(
        operation_id="create_report", summary="Freeze an agent's figures into a report, optionally shared",
        description="A report is a snapshot: later runs do not change it. With share=true (keys of an owner or "
                    "admin) it gets a public link, share_url; otherwise it stays private. The A4 PDF is queued "
                    "at once.",
        request=ReportInput, responses={201: OpenApiTypes.OBJECT},
        examples=[OpenApiExample("Shared 30-day report", request_only=True,
                                 value={"agent": "support-bot", "window": "30d", "share": True}),
                  OpenApiExample("Created", response_only=True, value=REPORT_EXAMPLE)])
    def post(self, request):
        data = ReportInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        organisation = request.auth.organisation
        if values["share"]:
            if not IsAdminKey().has_permission(request, self):
                raise exceptions.PermissionDenied(IsAdminKey.message)
            if not organisation.public_sharing_enabled:
                raise exceptions.PermissionDenied("Public sharing is turned off for this organisation.")
        idents = list(values.get("agents") or [])
        if values.get("agent") and values["agent"] not in idents:
            idents.insert(0, values["agent"])
        baseline = None
        if values["baseline"]:
            baseline = get_for_org_or_404(Baseline, organisation, id=values["baseline"])
        try:
            agents = services.resolve_agents(organisation, idents)
            report = services.create_report(
                organisation=organisation, agents=agents, window=values["window"], sections=values.get("sections"),
                baseline=baseline, title=values["title"], source="api", share=values["share"],
                expires_at=values["expires_at"])
        except services.ReportError as exc:
            raise exceptions.ValidationError(error_body("invalid", exc.message, field=exc.field)) from None
        return Response(report_body(request, reports_of(request).get(pk=report.pk)), status=status.HTTP_201_CREATED)


class ReportDetailView(APIView):
    @extend_schema(operation_id="get_report", summary="A report with its snapshot",
                   responses={200: OpenApiTypes.OBJECT})
    def get(self, request, report_id):
        return Response(report_body(request, report_of(request, report_id)))

    @extend_schema(operation_id="delete_report", summary="Delete a report (its links stop)", responses={204: None})
    def delete(self, request, report_id):
        report = report_of(request, report_id)
        if services.live_link(report) is not None and not IsAdminKey().has_permission(request, self):
            raise exceptions.PermissionDenied(IsAdminKey.message)
        services.delete_report(report=report)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ReportRevokeView(APIView):
    @extend_schema(operation_id="revoke_report_links", summary="Revoke the report's public links (they answer 410)",
                   request=None, responses={200: OpenApiTypes.OBJECT})
    def post(self, request, report_id):
        report = report_of(request, report_id)
        if not IsAdminKey().has_permission(request, self):
            raise exceptions.PermissionDenied(IsAdminKey.message)
        revoked = services.revoke_links(report=report, key=request.auth)
        return Response({"id": str(report.id), "revoked": revoked})


class ReportPdfView(APIView):
    @extend_schema(
        operation_id="get_report_pdf", summary="The report as PDF",
        description="200 application/pdf when ready; 202 with {status, progress} while it is being rendered "
                    "(the first request queues it). Poll until 200.",
        parameters=[OpenApiParameter("paper", str, enum=["a4", "letter"], description="default a4")],
        responses={200: OpenApiTypes.BINARY, 202: OpenApiTypes.OBJECT})
    def get(self, request, report_id):
        report = report_of(request, report_id)
        paper = request.query_params.get("paper", Paper.A4).lower()
        if paper not in Paper.values:
            raise exceptions.ValidationError(error_body("invalid", "paper is a4 or letter", field="paper"))
        pdf = services.request_pdf(report=report, paper=paper)
        pdf.refresh_from_db()  # without a broker the task has just run in-process
        if pdf.status == PdfStatus.DONE:
            response = HttpResponse(bytes(pdf.content), content_type="application/pdf")
            response["Content-Disposition"] = f'attachment; filename="report-{report.id}-{paper}.pdf"'
            return response
        if pdf.status == PdfStatus.FAILED:
            return Response(error_body("pdf_failed", "Rendering the PDF failed; request it again to retry."),
                            status=status.HTTP_503_SERVICE_UNAVAILABLE,
                            headers={"Retry-After": "5"})
        return Response({"status": pdf.status, "progress": pdf.progress}, status=status.HTTP_202_ACCEPTED,
                        headers={"Retry-After": "1"})
