from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from evaluations import api as ev
from experiments.urls import api_urlpatterns as experiments_api
from traces.api import LegacyTraceView, SessionListView, TraceCollectionView, TraceDetailView, UserListView
from traces.export_api import ExportView
from traces.otlp_api import LangfuseOtlpTracesView, OtlpTracesView

from . import views

api_v1 = [
    path("traces", TraceCollectionView.as_view(), name="api-traces"),
    path("traces/<str:trace_id>", TraceDetailView.as_view(), name="api-trace-detail"),
    path("traces/<str:trace_id>/analysis", ev.TraceAnalysisView.as_view(), name="api-trace-analysis"),
    path("traces/<str:trace_id>/scenarios", ev.TraceScenariosView.as_view(), name="api-trace-scenarios"),
    path("traces/<str:trace_id>/improvements", ev.TraceImprovementsView.as_view(), name="api-trace-improvements"),
    path("traces/<str:trace_id>/feedback", ev.TraceFeedbackView.as_view(), name="api-trace-feedback"),
    path("sessions", SessionListView.as_view(), name="api-sessions"),
    path("users", UserListView.as_view(), name="api-users"),
    path("agents", ev.AgentListView.as_view(), name="api-agents"),
    path("agents/<str:agent_id>/reliability", ev.AgentReliabilityView.as_view(), name="api-agent-reliability"),
    path("agents/<str:agent_id>/plan", ev.AgentPlanView.as_view(), name="api-agent-plan"),
    path("baselines", ev.BaselineView.as_view(), name="api-baselines"),
    path("compare", ev.CompareView.as_view(), name="api-compare"),
    path("patterns", ev.PatternListView.as_view(), name="api-patterns"),
    path("patterns/<str:pattern_id>", ev.PatternDetailView.as_view(), name="api-pattern-detail"),
    path("patterns/<str:pattern_id>/fix-applied", ev.PatternFixAppliedView.as_view(), name="api-pattern-fixed"),
    path("patterns/<str:pattern_id>/scenarios", ev.PatternScenariosView.as_view(), name="api-pattern-scenarios"),
    path("export", ExportView.as_view(), name="api-export"),
    path("", include("reports.api_urls")),
    path("", include(experiments_api)),
]


urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("allauth.urls")),
    path("invitations/<str:token>/", views.accept_invite, name="accept-invite"),
    path("api/v1/", include(api_v1)),
    path("api/trace", LegacyTraceView.as_view(), name="api-trace-legacy"),
    path("v1/traces", OtlpTracesView.as_view(), name="otlp-traces"),
    path("api/public/otel/v1/traces", LangfuseOtlpTracesView.as_view(), name="otlp-traces-langfuse"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("o/<slug:org_slug>/", include("arcweb.org_urls")),
    path("r/", include("reports.public_urls")),
]
