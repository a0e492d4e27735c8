"""The judges API under /api/v1/ (mounted by arcweb/urls.py)."""

from django.urls import path

from . import api

urlpatterns = [
    path("model-connections", api.ConnectionCollectionView.as_view(), name="api-model-connections"),
    path("model-connections/<uuid:connection_id>", api.ConnectionDetailView.as_view(), name="api-model-connection"),
    path("model-connections/<uuid:connection_id>/test", api.ConnectionTestView.as_view(),
         name="api-model-connection-test"),
    path("judges", api.JudgeCollectionView.as_view(), name="api-judges"),
    path("judging-budget", api.JudgingBudgetView.as_view(), name="api-judging-budget"),
    path("judges/<uuid:judge_id>", api.JudgeDetailView.as_view(), name="api-judge"),
    path("judges/<uuid:judge_id>/backfill", api.JudgeBackfillView.as_view(), name="api-judge-backfill"),
    path("traces/<uuid:trace_id>/scores", api.TraceScoresView.as_view(), name="api-trace-scores"),
]
