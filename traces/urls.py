"""Pages of traces under /o/<org_slug>/ (every view resolves the organisation with arcweb.tenancy.org_view)."""

from django.urls import path

from . import views

urlpatterns = [
    path("traces/", views.trace_list, name="trace-list"),
    path("sessions/", views.run_groups, {"kind": "sessions"}, name="sessions"),
    path("users/", views.run_groups, {"kind": "users"}, name="users"),
]
