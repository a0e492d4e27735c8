"""Report pages under /o/<org_slug>/reports/ (every view resolves the organisation with org_view)."""

from django.urls import path

from . import org_views

urlpatterns = [
    path("", org_views.report_list, name="report-list"),
    path("schedules/", org_views.schedule_save, name="report-schedule"),
    path("<str:report_id>/", org_views.report_detail, name="report-detail"),
    path("<str:report_id>/share/", org_views.report_share, name="report-share"),
    path("<str:report_id>/revoke/", org_views.report_revoke, name="report-revoke"),
    path("<str:report_id>/delete/", org_views.report_delete, name="report-delete"),
    path("<str:report_id>/pdf/<str:paper>/", org_views.report_pdf, name="report-pdf"),
]
