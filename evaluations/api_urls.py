"""The evaluations API under /api/v1/. Agents are addressed by id or by name (names are the client's text)."""

from django.urls import path

from . import api

urlpatterns = [
    path("traces/<uuid:trace_id>/analysis", api.TraceAnalysisView.as_view(), name="api-trace-analysis"),
    path("traces/<uuid:trace_id>/scenarios", api.TraceScenariosView.as_view(), name="api-trace-scenarios"),
    path("traces/<uuid:trace_id>/improvements", api.TraceImprovementsView.as_view(), name="api-trace-improvements"),
    path("traces/<uuid:trace_id>/feedback", api.TraceFeedbackView.as_view(), name="api-trace-feedback"),
    path("agents", api.AgentListView.as_view(), name="api-agents"),
    path("agents/<str:agent_id>/reliability", api.AgentReliabilityView.as_view(), name="api-agent-reliability"),
    path("agents/<str:agent_id>/plan", api.AgentPlanView.as_view(), name="api-agent-plan"),
    path("baselines", api.BaselineView.as_view(), name="api-baselines"),
    path("compare", api.CompareView.as_view(), name="api-compare"),
    path("patterns", api.PatternListView.as_view(), name="api-patterns"),
    path("patterns/<uuid:pattern_id>", api.PatternDetailView.as_view(), name="api-pattern-detail"),
    path("patterns/<uuid:pattern_id>/fix-applied", api.PatternFixAppliedView.as_view(), name="api-pattern-fixed"),
    path("patterns/<uuid:pattern_id>/scenarios", api.PatternScenariosView.as_view(), name="api-pattern-scenarios"),
]
