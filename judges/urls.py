"""Pages of judges under /o/<org_slug>/: connections and judges under Settings, a run's scores (htmx)."""

from django.urls import path

from . import views

urlpatterns = [
    path("settings/model-connections/", views.connections, name="model-connections"),
    path("settings/model-connections/new/", views.connection_create, name="model-connection-create"),
    path("settings/model-connections/<uuid:connection_id>/test/", views.connection_test, name="model-connection-test"),
    path("settings/judges/", views.judges, name="judges"),
    path("settings/judges/new/", views.judge_save, name="judge-create"),
    path("settings/judges/budget/", views.budget_save, name="judging-budget"),
    path("settings/judges/<uuid:judge_id>/", views.judge_detail, name="judge-detail"),
    path("settings/judges/<uuid:judge_id>/edit/", views.judge_save, name="judge-edit"),
    path("settings/judges/<uuid:judge_id>/backfill/", views.judge_backfill, name="judge-backfill"),
    path("traces/<uuid:trace_id>/scores/", views.trace_scores, name="trace-scores"),
]
