"""The monitors, alerts and webhooks API under /api/v1/ (mounted by arcweb/urls.py)."""

from django.urls import path

from . import api

urlpatterns = [
    path("monitors", api.MonitorCollectionView.as_view(), name="api-monitors"),
    path("monitors/<uuid:monitor_id>", api.MonitorDetailView.as_view(), name="api-monitor-detail"),
    path("monitors/<uuid:monitor_id>/mute", api.MonitorMuteView.as_view(), name="api-monitor-mute"),
    path("alerts", api.AlertCollectionView.as_view(), name="api-alerts"),
    path("alerts/<uuid:alert_id>", api.AlertDetailView.as_view(), name="api-alert-detail"),
    path("alerts/<uuid:alert_id>/snooze", api.AlertSnoozeView.as_view(), name="api-alert-snooze"),
    path("webhooks", api.WebhookCollectionView.as_view(), name="api-webhooks"),
    path("webhooks/<uuid:webhook_id>", api.WebhookDetailView.as_view(), name="api-webhook-detail"),
    path("webhooks/<uuid:webhook_id>/test", api.WebhookTestView.as_view(), name="api-webhook-test"),
]
