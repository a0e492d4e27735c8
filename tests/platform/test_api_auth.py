"""API keys: how a client authenticates, and what a missing, unknown or revoked key gets."""

from __future__ import annotations

import pytest

from arcweb.models import ApiKey, ApiScope
from arcweb.services import create_api_key, revoke_api_key
from tests.conftest import key_of_a, sample_trace
from tests.routes import api_lists

pytestmark = pytest.mark.django_db


def test_no_key_is_401_with_www_authenticate(api_for, acme):
    response = api_for(None).post("/api/v1/traces", sample_trace())
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize("key", ["arc_bogus_" + "x" * 40, "not-even-a-key", "arc_", "arc_abcd_"])
def test_unknown_key_is_401(api_for, acme, key):
    response = api_for(key).get("/api/v1/traces")
    assert response.status_code == 401
    assert "WWW-Authenticate" in response


def test_right_prefix_wrong_secret_is_401(api_for, acme):
    prefix = acme.key.split("_")[1]
    response = api_for(f"arc_{prefix}_{'A' * 43}").get("/api/v1/traces")
    assert response.status_code == 401


def test_revoked_key_is_401(api_for, acme):
    key, full = create_api_key(organisation=acme.organisation, owner=acme.owner, name="temp")
    assert api_for(full).get("/api/v1/traces").status_code == 200
    revoke_api_key(key)
    assert api_for(full).get("/api/v1/traces").status_code == 401


def test_x_api_key_header_works(api_for, acme):
    client = api_for(None)
    assert client.get("/api/v1/traces", HTTP_X_API_KEY=acme.key).status_code == 200


def test_key_is_stored_as_prefix_and_hash_only(acme):
    key, full = create_api_key(organisation=acme.organisation, owner=acme.owner)
    assert full.startswith("arc_") and len(full.split("_", 2)[2]) >= 43  # 32 random bytes, base64
    stored = ApiKey.objects.get(pk=key.pk)
    assert full.split("_", 2)[2] not in (stored.hashed_secret, stored.prefix)
    assert stored.prefix in full


def test_last_used_is_recorded(api_for, acme):
    key = ApiKey.objects.get(organisation=acme.organisation, name="test")
    assert key.last_used_at is None
    api_for(acme.key).get("/api/v1/traces")
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_ingest_only_key_sends_but_reads_nothing(api_for, acme):
    _, full = create_api_key(organisation=acme.organisation, owner=acme.owner, scope=ApiScope.INGEST)
    client = api_for(full)
    created = client.post("/api/v1/traces", sample_trace())
    assert created.status_code == 202
    assert client.get("/api/v1/traces").status_code == 403
    assert client.get(created.json()["traces"][0]["url"]).status_code == 403
    lists = api_lists()
    assert "/api/v1/sessions" in lists and "/api/v1/agents" in lists
    for route in lists:  # every list and summary, so a new one cannot forget the scope
        assert client.get(route).status_code in (403, 405), route


def test_member_key_cannot_delete_but_admin_key_can(api_for, acme):
    created = api_for(acme.key).post("/api/v1/traces", sample_trace()).json()["traces"][0]
    member_key = key_of_a("member", acme)
    assert api_for(member_key).delete(created["url"]).status_code == 403
    assert api_for(acme.key).delete(created["url"]).status_code == 204
    assert api_for(acme.key).get(created["url"]).status_code == 404
