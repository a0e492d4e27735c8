"""Who may see and do what on every workbench page: outsiders get 404, viewers read but never write."""

from __future__ import annotations

import pytest
from django.test import Client

from arcweb.models import ApiKey, Invitation, Membership, Role
from evaluations.models import FailurePattern, Feedback

from .conftest import logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def objects(acme, runs, pattern, baseline, agent):
    bad = runs["bad-0"]
    member = Membership.objects.get(organisation=acme.organisation, user=acme.viewer)
    invitation = Invitation.objects.create(organisation=acme.organisation, email="new@acme.test", role=Role.MEMBER)
    return {"trace": bad.id, "agent": agent.id, "pattern": pattern.id, "baseline": baseline.id,
            "key": ApiKey.objects.get(organisation=acme.organisation).id, "member": member.id,
            "invitation": invitation.id}


READ_PAGES = [
    "/o/{org}/", "/o/{org}/?window=24h", "/o/{org}/onboarding/", "/o/{org}/onboarding/status/",
    "/o/{org}/agents/{agent}/", "/o/{org}/traces/", "/o/{org}/traces/?outcome=failure&q=order",
    "/o/{org}/traces/{trace}/", "/o/{org}/labelling/", "/o/{org}/labelling/export.csv",
    "/o/{org}/labelling/export.jsonl", "/o/{org}/patterns/", "/o/{org}/patterns/{pattern}/",
    "/o/{org}/patterns/{pattern}/scenarios.jsonl", "/o/{org}/patterns/{pattern}/scenarios.py",
    "/o/{org}/compare/", "/o/{org}/compare/?baseline={baseline}&current=7d", "/o/{org}/settings/",
]

WRITES = [  # (path, data) — each needs at least member
    ("/o/{org}/traces/{trace}/feedback/", {"correct": "true"}),
    ("/o/{org}/labelling/{trace}/label/", {"correct": "false"}),
    ("/o/{org}/labelling/{trace}/assign/", {"assignee": ""}),
    ("/o/{org}/patterns/{pattern}/fix-applied/", {}),
    ("/o/{org}/compare/baselines/", {"agent": "{agent}", "name": "v2", "window": "7d"}),
    ("/o/{org}/onboarding/key/", {}),
    ("/o/{org}/settings/keys/", {"name": "x", "scope": "full"}),
    ("/o/{org}/settings/keys/{key}/revoke/", {}),
]
ADMIN_WRITES = [
    ("/o/{org}/settings/organisation/", {"name": "Acme 2", "retention_days": "90"}),
    ("/o/{org}/settings/members/{member}/role/", {"role": "member"}),
    ("/o/{org}/settings/members/{member}/remove/", {}),
    ("/o/{org}/settings/invitations/{invitation}/revoke/", {}),
    ("/o/{org}/settings/invitations/", {"email": "x@acme.test", "role": "member"}),
]
OWNER_WRITES = [("/o/{org}/settings/delete/", {"confirm": "acme"})]


def fill(template: str, objects: dict, org: str = "acme") -> str:
    return template.format(org=org, **objects)


def test_member_reads_every_page(acme, objects):
    owner = logged_in(acme.owner)
    for page in READ_PAGES:
        response = owner.get(fill(page, objects))
        assert response.status_code == 200, page


def test_viewer_reads_every_page(acme, objects):
    viewer = logged_in(acme.viewer)
    for page in READ_PAGES:
        assert viewer.get(fill(page, objects)).status_code == 200, page


def test_outsider_gets_404_on_every_page_and_action(acme, globex, objects):
    outsider = logged_in(globex.owner)
    for page in READ_PAGES:
        assert outsider.get(fill(page, objects)).status_code == 404, page
    for path, data in WRITES + ADMIN_WRITES + OWNER_WRITES:
        assert outsider.post(fill(path, objects), {k: fill(v, objects) for k, v in data.items()}).status_code == 404, path


def test_acme_objects_under_the_outsiders_own_org_are_404(acme, globex, objects):
    """The outsider's own slug with acme's ids: the lookup is scoped, so nothing is found."""
    outsider = logged_in(globex.owner)
    for page in READ_PAGES:
        if "{" in page.replace("{org}", ""):
            assert outsider.get(fill(page, objects, org="globex")).status_code == 404, page
    for path, data in WRITES + ADMIN_WRITES:
        if "{" in path.replace("{org}", ""):
            response = outsider.post(fill(path, objects, org="globex"), {k: fill(v, objects) for k, v in data.items()})
            assert response.status_code == 404, path


def test_anonymous_is_sent_to_login(objects):
    for page in READ_PAGES:
        response = Client().get(fill(page, objects))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], page


def test_viewer_cannot_write_anything(acme, objects):
    viewer = logged_in(acme.viewer)
    for path, data in WRITES + ADMIN_WRITES + OWNER_WRITES:
        response = viewer.post(fill(path, objects), {k: fill(v, objects) for k, v in data.items()})
        assert response.status_code == 403, path
    assert not Feedback.objects.filter(organisation=acme.organisation).exists()
    assert FailurePattern.objects.get(pk=objects["pattern"]).status == "open"
    assert ApiKey.objects.filter(organisation=acme.organisation).count() == 1


def test_viewer_sees_no_write_controls(acme, objects):
    viewer = logged_in(acme.viewer)
    labelling = viewer.get("/o/acme/labelling/").content.decode()
    assert 'id="label-form"' not in labelling and "Viewers can read the queue but not label" in labelling
    detail = viewer.get(fill("/o/{org}/traces/{trace}/", objects)).content.decode()
    assert "Save feedback" not in detail
    settings = viewer.get("/o/acme/settings/").content.decode()
    assert "Viewers cannot create keys" in settings and "Danger zone" not in settings


def test_member_cannot_administer(acme, objects):
    Membership.objects.filter(organisation=acme.organisation, user=acme.viewer).update(role=Role.MEMBER)
    member = logged_in(acme.viewer)
    for path, data in ADMIN_WRITES + OWNER_WRITES:
        response = member.post(fill(path, objects), {k: fill(v, objects) for k, v in data.items()})
        assert response.status_code == 403, path
