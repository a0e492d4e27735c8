"""Pages under /o/<org_slug>/ (every view resolves the organisation with arcweb.tenancy.org_view)."""

from django.urls import include, path

from evaluations import views as evaluation_views
from experiments.urls import page_urlpatterns as experiment_pages
from reports import views as report_views
from traces import views as trace_views

from . import settings_views

urlpatterns = [
    path("", report_views.overview, name="overview"),
    path("onboarding/", report_views.onboarding, name="onboarding"),
    path("onboarding/status/", report_views.onboarding_status, name="onboarding-status"),
    path("onboarding/key/", report_views.onboarding_key, name="onboarding-key"),
    path("agents/<str:agent_id>/", report_views.agent_detail, name="agent-detail"),
    path("traces/", trace_views.trace_list, name="trace-list"),
    path("traces/<str:trace_id>/", trace_views.trace_detail, name="trace-detail"),
    path("sessions/", trace_views.run_groups, {"kind": "sessions"}, name="sessions"),
    path("users/", trace_views.run_groups, {"kind": "users"}, name="users"),
    path("traces/<str:trace_id>/feedback/", trace_views.trace_feedback, name="trace-feedback"),
    path("labelling/", evaluation_views.labelling, name="labelling"),
    path("labelling/export.csv", evaluation_views.export_labels, {"fmt": "csv"}, name="labels-csv"),
    path("labelling/export.jsonl", evaluation_views.export_labels, {"fmt": "jsonl"}, name="labels-jsonl"),
    path("labelling/<str:trace_id>/label/", evaluation_views.label_run, name="label-run"),
    path("labelling/<str:trace_id>/assign/", evaluation_views.assign_run, name="assign-run"),
    path("patterns/", evaluation_views.pattern_list, name="pattern-list"),
    path("patterns/<str:pattern_id>/", evaluation_views.pattern_detail, name="pattern-detail"),
    path("patterns/<str:pattern_id>/fix-applied/", evaluation_views.pattern_fix_applied, name="pattern-fix-applied"),
    path("patterns/<str:pattern_id>/scenarios.jsonl", evaluation_views.pattern_scenarios, {"fmt": "jsonl"},
         name="pattern-scenarios-jsonl"),
    path("patterns/<str:pattern_id>/scenarios.py", evaluation_views.pattern_scenarios, {"fmt": "pytest"},
         name="pattern-scenarios-pytest"),
    path("compare/", evaluation_views.compare, name="compare"),
    path("compare/baselines/", evaluation_views.baseline_create, name="baseline-create"),
    path("settings/", settings_views.settings_page, name="org-settings"),
    path("settings/organisation/", settings_views.update_organisation, name="org-update"),
    path("settings/delete/", settings_views.delete_organisation, name="org-delete"),
    path("settings/logo/", settings_views.upload_logo, name="org-logo"),
    path("settings/logo/remove/", settings_views.remove_logo, name="org-logo-remove"),
    path("settings/keys/", settings_views.create_key, name="key-create"),
    path("settings/keys/<str:key_id>/revoke/", settings_views.revoke_key, name="key-revoke"),
    path("settings/members/<str:member_id>/role/", settings_views.change_role, name="member-role"),
    path("settings/members/<str:member_id>/remove/", settings_views.remove_member, name="member-remove"),
    path("settings/invitations/", settings_views.create_invitation, name="invitation-create"),
    path("settings/invitations/<str:invitation_id>/revoke/", settings_views.revoke_invitation,
         name="invitation-revoke"),
    path("reports/", include("reports.org_urls")),
    path("", include(experiment_pages)),
]
