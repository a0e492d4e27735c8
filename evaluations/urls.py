"""Pages of what we concluded, under /o/<org_slug>/: a run with its verdict, labelling, patterns, compare."""

from django.urls import path

from . import views

urlpatterns = [
    path("traces/<uuid:trace_id>/", views.trace_detail, name="trace-detail"),
    path("traces/<uuid:trace_id>/feedback/", views.trace_feedback, name="trace-feedback"),
    path("labelling/", views.labelling, name="labelling"),
    path("labelling/export.csv", views.export_labels, {"fmt": "csv"}, name="labels-csv"),
    path("labelling/export.jsonl", views.export_labels, {"fmt": "jsonl"}, name="labels-jsonl"),
    path("labelling/<uuid:trace_id>/label/", views.label_run, name="label-run"),
    path("labelling/<uuid:trace_id>/assign/", views.assign_run, name="assign-run"),
    path("patterns/", views.pattern_list, name="pattern-list"),
    path("patterns/<uuid:pattern_id>/", views.pattern_detail, name="pattern-detail"),
    path("patterns/<uuid:pattern_id>/fix-applied/", views.pattern_fix_applied, name="pattern-fix-applied"),
    path("patterns/<uuid:pattern_id>/scenarios.jsonl", views.pattern_scenarios, {"fmt": "jsonl"},
         name="pattern-scenarios-jsonl"),
    path("patterns/<uuid:pattern_id>/scenarios.py", views.pattern_scenarios, {"fmt": "pytest"},
         name="pattern-scenarios-pytest"),
    path("compare/", views.compare, name="compare"),
    path("compare/baselines/", views.baseline_create, name="baseline-create"),
]
