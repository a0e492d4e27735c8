"""The organisation's settings: the organisation, members, keys, deletion."""

from __future__ import annotations

import pytest

from arcweb.models import ApiKey, Membership, Organisation, Role
from tests.conftest import sample_trace
from traces.models import Trace

from .conftest import logged_in

pytestmark = pytest.mark.django_db


def test_admin_updates_the_organisation(acme):
    owner = logged_in(acme.owner)
    owner.post("/o/acme/settings/organisation/", {"name": "Acme Corp", "mask_pii_at_ingestion": "on",
                                                  "retention_days": "90"})
    organisation = Organisation.objects.get(pk=acme.organisation.pk)
    assert (organisation.name, organisation.mask_pii_at_ingestion, organisation.public_sharing_enabled,
            organisation.retention_days) == ("Acme Corp", True, False, 90)
    bad = owner.post("/o/acme/settings/organisation/", {"name": "", "retention_days": "7"})
    assert bad.status_code == 400


def test_roles_change_but_the_last_owner_stays(acme):
    owner = logged_in(acme.owner)
    viewer = Membership.objects.get(organisation=acme.organisation, user=acme.viewer)
    owner.post(f"/o/acme/settings/members/{viewer.id}/role/", {"role": "admin"})
    assert Membership.objects.get(pk=viewer.pk).role == Role.ADMIN
    me = Membership.objects.get(organisation=acme.organisation, user=acme.owner)
    owner.post(f"/o/acme/settings/members/{me.id}/role/", {"role": "member"})
    owner.post(f"/o/acme/settings/members/{me.id}/remove/")
    assert Membership.objects.get(pk=me.pk).role == Role.OWNER


def test_admin_cannot_touch_an_owner_or_make_one(acme):
    Membership.objects.filter(organisation=acme.organisation, user=acme.viewer).update(role=Role.ADMIN)
    admin = logged_in(acme.viewer)
    me = Membership.objects.get(organisation=acme.organisation, user=acme.owner)
    assert admin.post(f"/o/acme/settings/members/{me.id}/remove/").status_code == 403
    own = Membership.objects.get(organisation=acme.organisation, user=acme.viewer)
    assert admin.post(f"/o/acme/settings/members/{own.id}/role/", {"role": "owner"}).status_code == 403


def test_create_key_is_shown_once_with_its_scope(acme):
    owner = logged_in(acme.owner)
    html = owner.post("/o/acme/settings/keys/", {"name": "ingest only", "scope": "ingest"}).content.decode()
    assert 'id="new-key">arc_' in html
    assert ApiKey.objects.get(organisation=acme.organisation, name="ingest only").scope == "ingest"
    assert 'id="new-key"' not in owner.get("/o/acme/settings/").content.decode()


def test_delete_organisation_needs_the_typed_slug(acme, runs):
    owner = logged_in(acme.owner)
    wrong = owner.post("/o/acme/settings/delete/", {"confirm": "acm"})
    assert wrong.status_code == 400 and Organisation.objects.filter(slug="acme").exists()
    done = owner.post("/o/acme/settings/delete/", {"confirm": "acme"})
    assert done.status_code == 302 and not Organisation.objects.filter(slug="acme").exists()
    assert not Trace.objects.filter(trace_id="ok-0").exists()


def test_other_orgs_survive_a_deletion(acme, globex, globex_api):
    globex_api.post("/api/v1/traces", sample_trace("keep"))
    logged_in(acme.owner).post("/o/acme/settings/delete/", {"confirm": "acme"})
    assert Trace.objects.filter(trace_id="keep", organisation=globex.organisation).exists()
