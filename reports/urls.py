"""Pages of reports under /o/<org_slug>/: the overview (or onboarding), an agent's page and the report pages."""

from django.urls import path

from . import org_views, views

urlpatterns = [
    path("", views.overview, name="overview"),
    path("onboarding/", views.onboarding, name="onboarding"),
    path("onboarding/status/", views.onboarding_status, name="onboarding-status"),
    path("onboarding/key/", views.onboarding_key, name="onboarding-key"),
    path("agents/<uuid:agent_id>/", views.agent_detail, name="agent-detail"),
    path("reports/", org_views.report_list, name="report-list"),
    path("reports/schedules/", org_views.schedule_save, name="report-schedule"),
    path("reports/<uuid:report_id>/", org_views.report_detail, name="report-detail"),
    path("reports/<uuid:report_id>/share/", org_views.report_share, name="report-share"),
    path("reports/<uuid:report_id>/revoke/", org_views.report_revoke, name="report-revoke"),
    path("reports/<uuid:report_id>/delete/", org_views.report_delete, name="report-delete"),
    path("reports/<uuid:report_id>/pdf/<str:paper>/", org_views.report_pdf, name="report-pdf"),
]
