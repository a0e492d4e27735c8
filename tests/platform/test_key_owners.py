"""API keys follow their owner: a key acts with the lesser of its own role and its owner's current role,
removing a member revokes their keys (audit-logged), the keys page says whose key each is, and operators get
the same through management commands."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from arcweb.models import ApiKey, AuditLog, Membership, Role
from arcweb.services import change_role, create_api_key, get_or_create_user, remove_member
from tests.conftest import sample_trace

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(acme):
    user = get_or_create_user("admin@acme.test")
    Membership.objects.create(organisation=acme.organisation, user=user, role=Role.ADMIN)
    return user


@pytest.fixture
def admin_key(acme, admin) -> str:
    return create_api_key(organisation=acme.organisation, owner=admin, name="admin's")[1]


def membership(acme, user) -> Membership:
    return Membership.objects.get(organisation=acme.organisation, user=user)


def share(client) -> int:
    return client.post("/api/v1/reports", {"agent": "support-bot", "window": "7d", "share": True}).status_code


def test_a_removed_members_key_stops_at_once_and_the_revocation_is_audited(acme, admin, admin_key, api_for):
    client = api_for(admin_key)
    assert client.get("/api/v1/traces").status_code == 200
    assert remove_member(membership(acme, admin), by=acme.owner) == 1
    assert client.get("/api/v1/traces").status_code == 401
    assert client.post("/api/v1/traces", sample_trace()).status_code == 401
    key = ApiKey.objects.get(organisation=acme.organisation, created_by=admin)
    assert key.revoked_at is not None
    entry = AuditLog.objects.for_org(acme.organisation).get(action="key.revoked", target=key.display)
    assert (entry.actor, entry.details) == (acme.owner, {"reason": "its owner was removed", "owner": admin.email})


def test_a_demoted_admins_key_acts_as_a_viewer_and_again_as_admin_once_promoted(acme, admin, admin_key, api_for):
    client = api_for(admin_key)
    client.post("/api/v1/traces", sample_trace())
    assert client.get("/api/v1/export").status_code == 200
    assert share(client) == 201

    change_role(membership(acme, admin), Role.VIEWER, by=acme.owner)
    assert client.get("/api/v1/export").status_code == 403
    assert share(client) == 403
    assert client.post("/api/v1/traces", sample_trace("more")).status_code == 403  # a viewer only reads
    assert "viewer" in client.post("/api/v1/traces", sample_trace("more")).json()["error"]["message"]
    assert client.get("/api/v1/traces").status_code == 200

    change_role(membership(acme, admin), Role.ADMIN, by=acme.owner)
    assert client.get("/api/v1/export").status_code == 200


def test_a_members_key_does_not_grow_when_its_owner_is_promoted(acme, api_for):
    member = get_or_create_user("member@acme.test")
    Membership.objects.create(organisation=acme.organisation, user=member, role=Role.MEMBER)
    _, key = create_api_key(organisation=acme.organisation, owner=member)
    change_role(membership(acme, member), Role.ADMIN, by=acme.owner)
    assert api_for(key).get("/api/v1/export").status_code == 403


def test_a_key_whose_owner_was_deleted_works_no_more(acme, admin, admin_key, api_for):
    get_user_model().objects.filter(pk=admin.pk).delete()
    assert ApiKey.objects.get(organisation=acme.organisation, name="admin's").created_by is None
    assert api_for(admin_key).get("/api/v1/traces").status_code == 401


def test_a_key_acts_only_as_a_member_of_its_own_organisation(acme, globex):
    with pytest.raises(ValueError, match="not a member"):
        create_api_key(organisation=acme.organisation, owner=globex.owner)


def test_the_keys_page_says_whose_key_each_is(acme, admin, admin_key):
    browser = Client()
    browser.force_login(acme.owner)
    html = browser.get("/o/acme/settings/").content.decode()
    prefix = admin_key.split("_")[1]
    row = next(r for r in html.split("<tr>") if f"arc_{prefix}_" in r)
    assert "admin@acme.test" in row and "owner@acme.test" not in row
    owners_row = next(r for r in html.split("<tr>") if f"arc_{acme.key.split('_')[1]}_" in r)
    assert "owner@acme.test" in owners_row and "(you)" in owners_row
    assert "as admin" in row
    change_role(membership(acme, admin), Role.VIEWER, by=acme.owner)
    html = browser.get("/o/acme/settings/").content.decode()
    assert "as viewer (made as admin)" in next(r for r in html.split("<tr>") if f"arc_{prefix}_" in r)


def test_removing_a_member_on_the_settings_page_revokes_their_keys(acme, admin, admin_key, api_for):
    browser = Client()
    browser.force_login(acme.owner)
    response = browser.post(f"/o/acme/settings/members/{membership(acme, admin).id}/remove/", follow=True)
    assert "their 1 API key(s) revoked" in response.content.decode()
    assert api_for(admin_key).get("/api/v1/traces").status_code == 401


# --- operator commands: the same services -------------------------------------------------------------------------

def last_line(capsys) -> str:
    return capsys.readouterr().out.strip().splitlines()[-1]


def test_operator_commands_add_demote_and_remove_a_member_whose_key_follows(acme, api_for, capsys):
    call_command("add_member", "acme", "ops@acme.test", role="admin")
    call_command("create_api_key", "acme", user="OPS@acme.test")
    key = last_line(capsys)
    assert key.startswith("arc_") and api_for(key).get("/api/v1/export").status_code == 200
    stored = ApiKey.objects.get(organisation=acme.organisation, prefix=key.split("_")[1])
    assert (stored.created_by.email, stored.role) == ("ops@acme.test", Role.ADMIN)

    call_command("set_role", "acme", "ops@acme.test", "viewer")
    assert api_for(key).get("/api/v1/export").status_code == 403
    call_command("remove_member", "acme", "ops@acme.test")
    assert "1 of their API keys revoked" in capsys.readouterr().out
    assert api_for(key).get("/api/v1/traces").status_code == 401
    actions = set(AuditLog.objects.for_org(acme.organisation).values_list("action", flat=True))
    assert {"member.added", "key.created", "member.role_changed", "member.removed", "key.revoked"} <= actions


def test_create_api_key_without_a_user_acts_as_the_first_owner(acme, capsys):
    call_command("create_api_key", "acme", scope="ingest")
    out = capsys.readouterr().out
    assert "acting as owner@acme.test (owner, at most admin)" in out
    key = ApiKey.objects.get(organisation=acme.organisation, prefix=out.strip().splitlines()[-1].split("_")[1])
    assert (key.created_by, key.scope) == (acme.owner, "ingest")


@pytest.mark.parametrize("command, why", [
    (("create_api_key", "acme", "--user", "stranger@acme.test"), "is not a member"),
    (("set_role", "acme", "owner@acme.test", "viewer"), "at least one owner"),
    (("remove_member", "acme", "owner@acme.test"), "last owner"),
    (("add_member", "acme", "owner@acme.test", "--role", "viewer"), "already a member"),
    (("add_member", "nowhere", "x@acme.test"), "no organisation"),
])
def test_operator_commands_refuse_with_the_reason(acme, command, why):
    with pytest.raises(CommandError, match=why):
        call_command(*command)
