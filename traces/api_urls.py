"""The traces API under /api/v1/. Trace ids in paths are Arc Eval's UUIDs (the client's trace_id is a filter)."""

from django.urls import path

from .api import SessionListView, TraceCollectionView, TraceDetailView, UserListView
from .export_api import ExportView

urlpatterns = [
    path("traces", TraceCollectionView.as_view(), name="api-traces"),
    path("traces/<uuid:trace_id>", TraceDetailView.as_view(), name="api-trace-detail"),
    path("sessions", SessionListView.as_view(), name="api-sessions"),
    path("users", UserListView.as_view(), name="api-users"),
    path("export", ExportView.as_view(), name="api-export"),
]
