from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from evaluations.api import TraceAnalysisView
from reports import views as report_views
from traces import views as trace_views
from traces.api import LegacyTraceView, TraceCollectionView, TraceDetailView
from traces.otlp_api import LangfuseOtlpTracesView, OtlpTracesView

from . import settings_views, views

api_v1 = [
    path("traces", TraceCollectionView.as_view(), name="api-traces"),
    path("traces/<str:trace_id>", TraceDetailView.as_view(), name="api-trace-detail"),
    path("traces/<str:trace_id>/analysis", TraceAnalysisView.as_view(), name="api-trace-analysis"),
]

org_pages = [
    path("", report_views.overview, name="overview"),
    path("traces/", trace_views.trace_list, name="trace-list"),
    path("traces/<str:trace_id>/", trace_views.trace_detail, name="trace-detail"),
    path("settings/", settings_views.settings_page, name="org-settings"),
    path("settings/keys/", settings_views.create_key, name="key-create"),
    path("settings/keys/<str:key_id>/revoke/", settings_views.revoke_key, name="key-revoke"),
    path("settings/invitations/", settings_views.create_invitation, name="invitation-create"),
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
    path("o/<slug:org_slug>/", include(org_pages)),
]
