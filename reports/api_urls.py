from django.urls import path

from . import api

urlpatterns = [
    path("reports", api.ReportCollectionView.as_view(), name="api-reports"),
    path("reports/<uuid:report_id>", api.ReportDetailView.as_view(), name="api-report-detail"),
    path("reports/<uuid:report_id>/revoke", api.ReportRevokeView.as_view(), name="api-report-revoke"),
    path("reports/<uuid:report_id>/pdf", api.ReportPdfView.as_view(), name="api-report-pdf"),
]
