"""Pages under /o/<org_slug>/ (every view resolves the organisation with arcweb.tenancy.org_view)."""

from django.urls import include, path

from reports import views as report_views
from traces import views as trace_views

from . import settings_views

urlpatterns = [
    path("", report_views.overview, name="overview"),
    path("traces/", trace_views.trace_list, name="trace-list"),
    path("traces/<str:trace_id>/", trace_views.trace_detail, name="trace-detail"),
    path("settings/", settings_views.settings_page, name="org-settings"),
    path("settings/keys/", settings_views.create_key, name="key-create"),
    path("settings/keys/<str:key_id>/revoke/", settings_views.revoke_key, name="key-revoke"),
    path("settings/invitations/", settings_views.create_invitation, name="invitation-create"),
    path("reports/", include("reports.org_urls")),
]
