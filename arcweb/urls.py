"""The root URLconf: each app owns its routes; this only mounts them (by name, so arcweb imports no app)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import views

api_v1 = [
    path("", include("traces.api_urls")),
    path("", include("evaluations.api_urls")),
    path("", include("judges.api_urls")),
    path("", include("reports.api_urls")),
    path("", include("experiments.api_urls")),
    path("", include("alerts.api_urls")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("sdk/<str:filename>", views.sdk_download, name="sdk-download"),
    path("", include("evaluations.ops_urls")),
    path("accounts/", include("allauth.urls")),
    path("invitations/<str:token>/", views.accept_invite, name="accept-invite"),
    path("api/v1/", include(api_v1)),
    path("", include("traces.door_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="arcweb/api_docs.html"),
         name="api-docs"),
    path("o/<slug:org_slug>/", include("arcweb.org_urls")),
    path("r/", include("reports.public_urls")),
]

handler404 = "arcweb.views.not_found"
