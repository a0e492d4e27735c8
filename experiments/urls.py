"""The app's URLs: `api_urlpatterns` under /api/v1/, `page_urlpatterns` under /o/<org_slug>/."""

from django.urls import path

from . import api, views

api_urlpatterns = [
    path("datasets", api.DatasetCollectionView.as_view(), name="api-datasets"),
    path("datasets/<uuid:dataset_id>", api.DatasetDetailView.as_view(), name="api-dataset-detail"),
    path("datasets/<uuid:dataset_id>/items", api.DatasetItemsView.as_view(), name="api-dataset-items"),
    path("datasets/<uuid:dataset_id>/items/<uuid:item_id>", api.DatasetItemDetailView.as_view(),
         name="api-dataset-item"),
    path("experiments", api.ExperimentCollectionView.as_view(), name="api-experiments"),
    path("experiments/compare", api.ExperimentCompareView.as_view(), name="api-experiments-compare"),
    path("experiments/<uuid:experiment_id>", api.ExperimentDetailView.as_view(), name="api-experiment-detail"),
    path("experiments/<uuid:experiment_id>/items", api.ExperimentItemsView.as_view(), name="api-experiment-items"),
    path("experiments/<uuid:experiment_id>/runs", api.ExperimentRunsView.as_view(), name="api-experiment-runs"),
    path("experiments/<uuid:experiment_id>/finish", api.ExperimentFinishView.as_view(),
         name="api-experiment-finish"),
    path("replays", api.ReplayCollectionView.as_view(), name="api-replays"),
    path("replays/<uuid:replay_id>", api.ReplayDetailView.as_view(), name="api-replay-detail"),
]

page_urlpatterns = [
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
