from django.urls import path

from . import public_views

urlpatterns = [
    path("<str:token>", public_views.report_page, name="report-public"),
    path("<str:token>/embed", public_views.embed_card, name="report-embed"),
    path("<str:token>/badge.svg", public_views.badge, name="report-badge"),
    path("<str:token>/report.pdf", public_views.report_pdf, name="report-public-pdf"),
]
