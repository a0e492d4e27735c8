"""Helpers of the experiments tests: a dataset by API, runs reported as the SDK reports them."""

from __future__ import annotations

import json

import pytest

from arcweb.services import create_api_key


def api_call(api, method: str, path: str, body=None):
    return getattr(api.client, method)(path, data=json.dumps(body), content_type="application/json",
                                       **api._headers({}))


def make_dataset(api, name: str, items: list[dict]) -> dict:
    created = api.post("/api/v1/datasets", {"name": name})
    assert created.status_code == 201, created.content
    dataset = created.json()
    added = api.post(f"/api/v1/datasets/{dataset['id']}/items", {"items": items})
    assert added.status_code == 201, added.content
    return {**dataset, "version": added.json()["version"], "items": added.json()["items"]}


def start(api, dataset: dict, name: str, repeats: int = 1) -> dict:
    response = api.post("/api/v1/experiments", {"dataset": dataset["id"], "name": name, "repeats": repeats})
    assert response.status_code == 201, response.content
    return response.json()


def report(api, experiment: dict, runs: list[dict]) -> dict:
    response = api.post(f"/api/v1/experiments/{experiment['id']}/runs", {"runs": runs})
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def viewer_key(acme) -> str:
    return create_api_key(organisation=acme.organisation, owner=acme.viewer, name="viewer key")[1]


def experiment_objects(tenant) -> dict:
    """A dataset, an item and an experiment of `tenant`, for the walkers over every route."""
    from experiments import services
    from experiments.models import Replay

    dataset = services.create_dataset(organisation=tenant.organisation, name="walked",
                                      items=[services.ItemData(input={"q": 1}, expected_output="a")])
    experiment = services.create_experiment(organisation=tenant.organisation, dataset=dataset, name="walked-run")
    item = dataset.items.get()
    services.record_runs(experiment=experiment, runs=[services.RunReport(str(item.id), 0, output="a")])
    from tests.judges.conftest import judge_objects

    judged = judge_objects(tenant)
    replay = Replay.objects.create(organisation=tenant.organisation, name="walked-replay", model="gpt-4o-mini",
                                   connection_id=judged["connection_id"], judge_model="gpt-4o-mini", budget_usd=1)
    return {"dataset_id": dataset.id, "item_id": item.id, "experiment_id": experiment.id, "replay_id": replay.id,
            **judged}
