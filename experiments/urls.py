"""The Experiments tab's pages under /o/<org_slug>/ (mounted by arcweb/org_urls.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("experiments/", views.index, name="experiments"),
    path("experiments/compare/", views.compare, name="experiment-compare"),
    path("experiments/datasets/new/", views.dataset_create, name="dataset-create"),
    path("experiments/datasets/from-pattern/<uuid:pattern_id>/", views.dataset_from_pattern,
         name="dataset-from-pattern"),
    path("experiments/datasets/add-run/<uuid:trace_id>/", views.add_run, name="dataset-add-run"),
    path("experiments/datasets/<uuid:dataset_id>/", views.dataset_detail, name="dataset-detail"),
    path("experiments/datasets/<uuid:dataset_id>/items/", views.item_add, name="dataset-item-add"),
    path("experiments/datasets/<uuid:dataset_id>/upload/", views.dataset_upload, name="dataset-upload"),
    path("experiments/datasets/<uuid:dataset_id>/items/<uuid:item_id>/", views.item_edit, name="dataset-item-edit"),
    path("experiments/datasets/<uuid:dataset_id>/items/<uuid:item_id>/remove/", views.item_remove,
         name="dataset-item-remove"),
    path("experiments/<uuid:experiment_id>/", views.experiment_detail, name="experiment-detail"),
    path("experiments/replays/new/", views.replay_create, name="replay-create"),
    path("experiments/replays/<uuid:replay_id>/", views.replay_detail, name="replay-detail"),
]
