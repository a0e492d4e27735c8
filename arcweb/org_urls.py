"""Pages under /o/<org_slug>/ (every view resolves the organisation with arcweb.tenancy.org_view): the
organisation's settings here, and each app's pages from its own urls.py."""

from django.urls import include, path

from . import settings_views

urlpatterns = [
    path("", include("reports.urls")),
    path("", include("traces.urls")),
    path("", include("evaluations.urls")),
    path("settings/", settings_views.settings_page, name="org-settings"),
    path("settings/organisation/", settings_views.update_organisation, name="org-update"),
    path("settings/delete/", settings_views.delete_organisation, name="org-delete"),
    path("settings/logo/", settings_views.upload_logo, name="org-logo"),
    path("settings/logo/remove/", settings_views.remove_logo, name="org-logo-remove"),
    path("settings/keys/", settings_views.create_key, name="key-create"),
    path("settings/keys/<uuid:key_id>/revoke/", settings_views.revoke_key, name="key-revoke"),
    path("settings/members/<int:member_id>/role/", settings_views.change_role, name="member-role"),
    path("settings/members/<int:member_id>/remove/", settings_views.remove_member, name="member-remove"),
    path("settings/invitations/", settings_views.create_invitation, name="invitation-create"),
    path("settings/invitations/<int:invitation_id>/revoke/", settings_views.revoke_invitation,
         name="invitation-revoke"),
    path("", include("judges.urls")),
    path("", include("experiments.urls")),
    path("", include("alerts.urls")),
]
