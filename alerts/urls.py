"""The Alerts tab's pages under /o/<org_slug>/ (mounted by arcweb/org_urls.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("alerts/", views.index, name="alerts"),
    path("alerts/<uuid:alert_id>/", views.alert_detail, name="alert-detail"),
    path("alerts/<uuid:alert_id>/snooze/", views.alert_snooze, name="alert-snooze"),
    path("alerts/monitors/new/", views.monitor_create, name="monitor-create"),
    path("alerts/monitors/<uuid:monitor_id>/mute/", views.monitor_mute, name="monitor-mute"),
    path("alerts/monitors/<uuid:monitor_id>/delete/", views.monitor_delete, name="monitor-delete"),
    path("alerts/webhooks/new/", views.webhook_create, name="webhook-create"),
    path("alerts/webhooks/<uuid:webhook_id>/test/", views.webhook_test, name="webhook-test"),
    path("alerts/webhooks/<uuid:webhook_id>/delete/", views.webhook_delete, name="webhook-delete"),
]
