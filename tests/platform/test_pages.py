"""Pages under /o/<org>/: who may see what."""

from __future__ import annotations

import pytest
from django.test import Client

from arcweb.models import ApiKey
from tests.conftest import sample_trace

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def trace_id(acme_api):
    return acme_api.post("/api/v1/traces", sample_trace()).json()["traces"][0]["id"]


def org_pages(trace_id: str, key_id: str) -> list[tuple[str, str]]:
    return [("get", "/o/{org}/"), ("get", "/o/{org}/traces/"), ("get", f"/o/{{org}}/traces/{trace_id}/"),
            ("get", "/o/{org}/settings/"), ("post", "/o/{org}/settings/keys/"),
            ("post", f"/o/{{org}}/settings/keys/{key_id}/revoke/"), ("post", "/o/{org}/settings/invitations/")]


def test_outsider_gets_404_on_every_page(acme, globex, trace_id):
    key_id = ApiKey.objects.get(organisation=acme.organisation).id
    outsider = logged_in(globex.owner)
    for method, path in org_pages(trace_id, key_id):
        assert getattr(outsider, method)(path.format(org="acme")).status_code == 404, path
        # and acme's objects under the outsider's own organisation are 404 as well
        if str(trace_id) in path or str(key_id) in path:
            assert getattr(outsider, method)(path.format(org="globex")).status_code == 404, path


def test_anonymous_is_sent_to_login(acme):
    response = Client().get("/o/acme/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_member_sees_the_pages(acme, trace_id):
    owner = logged_in(acme.owner)
    for path in ("/o/acme/", "/o/acme/traces/", f"/o/acme/traces/{trace_id}/", "/o/acme/settings/"):
        assert owner.get(path).status_code == 200, path


def test_viewer_cannot_create_or_revoke_keys(acme):
    viewer = logged_in(acme.viewer)
    assert viewer.post("/o/acme/settings/keys/", {"name": "x", "scope": "full"}).status_code == 403
    key = ApiKey.objects.get(organisation=acme.organisation)
    assert viewer.post(f"/o/acme/settings/keys/{key.id}/revoke/").status_code == 403
    assert ApiKey.objects.get(pk=key.pk).revoked_at is None
    assert "Viewers cannot create keys" in viewer.get("/o/acme/settings/").content.decode()


def test_owner_revokes_a_key(acme):
    key = ApiKey.objects.get(organisation=acme.organisation)
    logged_in(acme.owner).post(f"/o/acme/settings/keys/{key.id}/revoke/")
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None


def test_hostile_trace_content_is_shown_as_text(acme_api, acme):
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    created = acme_api.post("/api/v1/traces", sample_trace("evil", input={"q": evil}, output={"a": evil},
                                                           agent_id=evil)).json()["traces"][0]
    owner = logged_in(acme.owner)
    for path in ("/o/acme/", "/o/acme/traces/", f"/o/acme/traces/{created['id']}/"):
        html = owner.get(path).content.decode()
        assert "<script>alert(" not in html and "<img src=x onerror" not in html, path
        assert "&lt;script&gt;" in html, path
