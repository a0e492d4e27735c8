"""Datasets over the API: versions on every change, items at a version, clear errors, tenancy."""

from __future__ import annotations

import pytest

from experiments.models import DatasetItem
from tests.experiments.conftest import api_call, make_dataset

pytestmark = pytest.mark.django_db

ITEMS = [{"input": {"q": "capital of France?"}, "expected_output": "Paris"},
         {"input": {"q": "6 x 7"}, "expected_output": 42, "checks": [{"type": "numeric", "tolerance": 0.5}]},
         {"input": "refund order 7", "expected_behaviour": "asks for the receipt", "metadata": {"tier": "gold"}}]


def test_adding_and_editing_make_versions_and_old_versions_keep_their_items(acme_api):
    dataset = make_dataset(acme_api, "capitals", ITEMS)
    assert dataset["version"] == 1
    paris = dataset["items"][0]
    detail = acme_api.get(f"/api/v1/datasets/{dataset['id']}").json()
    assert detail["version"] == 1 and detail["item_count"] == 3 and detail["versions"][0]["note"]

    edited = api_call(acme_api, "patch", f"/api/v1/datasets/{dataset['id']}/items/{paris['id']}",
                      {"expected_output": "Paris, France", "checks": [{"type": "contains", "value": "Paris"}]})
    assert edited.status_code == 200, edited.content
    assert edited.json()["replaces"] == paris["id"] and edited.json()["added_in"] == 2
    removed = api_call(acme_api, "delete", f"/api/v1/datasets/{dataset['id']}/items/{dataset['items'][2]['id']}")
    assert removed.status_code == 204

    def items(version):
        page = acme_api.get(f"/api/v1/datasets/{dataset['id']}/items?version={version}").json()
        return page["version"], {str(i["input"]): i["expected_output"] for i in page["results"]}

    assert items(1) == (1, {"{'q': 'capital of France?'}": "Paris", "{'q': '6 x 7'}": 42, "refund order 7": None})
    assert items(3) == (3, {"{'q': 'capital of France?'}": "Paris, France", "{'q': '6 x 7'}": 42})
    latest = acme_api.get(f"/api/v1/datasets/{dataset['id']}").json()
    assert latest["version"] == 3 and [v["item_count"] for v in latest["versions"]] == [2, 3, 3]
    # the edited row is not edited again: its replacement is
    again = api_call(acme_api, "patch", f"/api/v1/datasets/{dataset['id']}/items/{paris['id']}", {"input": "x"})
    assert again.status_code == 400 and again.json()["error"]["field"] == "item"


def test_items_page_through_a_version(acme_api):
    dataset = make_dataset(acme_api, "many", [{"input": i} for i in range(7)])
    first = acme_api.get(f"/api/v1/datasets/{dataset['id']}/items?limit=5").json()
    second = acme_api.get(f"/api/v1/datasets/{dataset['id']}/items?limit=5&offset=5").json()
    assert [i["input"] for i in first["results"] + second["results"]] == list(range(7))
    assert first["count"] == 7 and first["next_offset"] == 5 and second["next_offset"] is None


@pytest.mark.parametrize("body, field", [
    ({"items": [{"input": 1, "checks": [{"type": "regex", "value": "("}]}]}, "items[0].checks[0].value"),
    ({"items": [{"input": 1, "checks": [{"type": "fuzzy"}]}]}, None),
    ({"items": []}, None),
    ({"items": [{"expected_output": "no input"}]}, None),
])
def test_bad_items_get_a_clear_400_and_no_version(acme_api, body, field):
    dataset = make_dataset(acme_api, "strict", [{"input": "ok"}])
    response = acme_api.post(f"/api/v1/datasets/{dataset['id']}/items", body)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["message"] and (field is None or error["field"] == field)
    assert acme_api.get(f"/api/v1/datasets/{dataset['id']}").json()["version"] == 1


def test_names_are_unique_and_bad_query_values_are_400(acme_api):
    make_dataset(acme_api, "dup", [{"input": 1}])
    again = acme_api.post("/api/v1/datasets", {"name": "dup"})
    assert again.status_code == 400 and again.json()["error"]["field"] == "name"
    dataset = acme_api.get("/api/v1/datasets?name=dup").json()["results"][0]
    assert acme_api.get(f"/api/v1/datasets/{dataset['id']}/items?version=99").status_code == 400
    assert acme_api.get(f"/api/v1/datasets/{dataset['id']}/items?limit=-1").status_code == 400


def test_another_organisation_gets_404_everywhere(acme_api, globex_api):
    dataset = make_dataset(acme_api, "private", [{"input": 1}])
    item = dataset["items"][0]["id"]
    base = f"/api/v1/datasets/{dataset['id']}"
    assert globex_api.get(base).status_code == 404
    assert globex_api.get(f"{base}/items").status_code == 404
    assert globex_api.post(f"{base}/items", {"items": [{"input": 2}]}).status_code == 404
    assert api_call(globex_api, "patch", f"{base}/items/{item}", {"input": 3}).status_code == 404
    assert api_call(globex_api, "delete", f"{base}/items/{item}").status_code == 404
    assert globex_api.get("/api/v1/datasets").json()["results"] == []
    assert DatasetItem.objects.count() == 1


def test_a_viewers_key_reads_but_does_not_change(acme_api, api_for, viewer_key):
    dataset = make_dataset(acme_api, "read-only", [{"input": 1}])
    viewer = api_for(viewer_key)
    assert viewer.get(f"/api/v1/datasets/{dataset['id']}/items").status_code == 200
    assert viewer.post(f"/api/v1/datasets/{dataset['id']}/items", {"items": [{"input": 2}]}).status_code == 403
    assert viewer.post("/api/v1/datasets", {"name": "mine"}).status_code == 403
