"""Operator routes of evaluations, mounted at the root: /metrics."""

from django.urls import path

from .metrics import metrics

urlpatterns = [
    path("metrics", metrics, name="metrics"),
]
