"""The datasets, experiments and replays API under /api/v1/ (mounted by arcweb/urls.py)."""

from django.urls import path

from . import api

urlpatterns = [
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
