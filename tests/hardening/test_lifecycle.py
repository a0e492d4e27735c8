"""Retention, export and deletion: an organisation's data leaves when it should, and all of it."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.apps import apps
from django.test import Client
from django.utils import timezone

from arcweb.models import Organisation
from arcweb.services import create_api_key, set_logo
from evaluations.models import Evaluation
from tests.conftest import key_of_a, sample_trace
from traces.lifecycle import purge_expired
from traces.models import Trace

pytestmark = pytest.mark.django_db


def received_days_ago(days: int, **lookup) -> None:
    Trace.objects.filter(**lookup).update(received_at=timezone.now() - timedelta(days=days))


def test_retention_deletes_only_traces_older_than_the_period(acme_api, acme):
    acme_api.post("/api/v1/traces", [sample_trace(f"old{i}") for i in range(7)] + [sample_trace("new")])
    received_days_ago(40, trace_id__startswith="old")
    acme.organisation.retention_days = 30
    acme.organisation.save()
    assert purge_expired(acme.organisation, batch=3) == 7
    assert list(Trace.objects.values_list("trace_id", flat=True)) == ["new"]
    assert Evaluation.objects.count() == 1


def test_retention_leaves_other_organisations_alone(acme_api, globex_api, acme):
    acme_api.post("/api/v1/traces", sample_trace("a"))
    globex_api.post("/api/v1/traces", sample_trace("g"))
    received_days_ago(40)
    acme.organisation.retention_days = 30
    purge_expired(acme.organisation)
    assert list(Trace.objects.values_list("trace_id", flat=True)) == ["g"]


def test_export_streams_every_trace_of_the_org_only(acme_api, globex_api):
    acme_api.post("/api/v1/traces", [sample_trace(f"t{i}") for i in range(3)])
    globex_api.post("/api/v1/traces", sample_trace("theirs"))
    response = acme_api.get("/api/v1/export")
    assert response.status_code == 200 and response.streaming
    lines = [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]
    assert sorted(line["trace_id"] for line in lines) == ["t0", "t1", "t2"]
    assert lines[0]["spans"] and lines[0]["evaluation"]["status"] == "done"


def test_export_needs_an_admin_key(api_for, acme):
    member_key = key_of_a("member", acme)
    assert api_for(member_key).get("/api/v1/export").status_code == 403


def tenant_models():
    return [m for m in apps.get_models() if any(f.name == "organisation" for f in m._meta.fields)]


def test_deleting_an_organisation_removes_every_row_it_owned(acme_api, globex_api, acme):
    acme_api.post("/api/v1/traces", [sample_trace(f"t{i}") for i in range(3)])
    acme_api.post(f"/api/v1/traces/{Trace.objects.first().id}/feedback", {"correct": False})
    globex_api.post("/api/v1/traces", sample_trace("keep"))
    set_logo(acme.organisation, b"\x89PNG stored as given", by=acme.owner)
    owned = {m.__name__: m.objects.filter(organisation=acme.organisation).count() for m in tenant_models()}
    assert owned["Trace"] == 3 and owned["Evaluation"] == 3 and owned["Feedback"] == 1 and owned["AgentHour"] >= 1
    assert owned["OrganisationLogo"] == 1
    others_before = {m.__name__: m.objects.exclude(organisation=acme.organisation).count() for m in tenant_models()}

    Organisation.objects.get(pk=acme.organisation.pk).delete()

    left = {name: count for name, count in
            ((m.__name__, m.objects.filter(organisation_id=acme.organisation.pk).count()) for m in tenant_models())
            if count}
    assert left == {}
    assert {m.__name__: m.objects.count() for m in tenant_models()} == others_before


def test_owner_sees_the_audit_log_of_keys(acme):
    from arcweb.models import AuditLog
    from arcweb.services import revoke_api_key

    key, _ = create_api_key(organisation=acme.organisation, owner=acme.owner, name="ci", by=acme.owner)
    revoke_api_key(key, by=acme.owner)
    actions = list(AuditLog.objects.for_org(acme.organisation).order_by("created_at").values_list("action", "actor"))
    assert ("key.created", acme.owner.pk) in actions and ("key.revoked", acme.owner.pk) in actions


def test_only_owners_see_the_audit_log_in_settings(acme):
    from arcweb.models import ApiKey
    from arcweb.services import revoke_api_key

    revoke_api_key(ApiKey.objects.get(organisation=acme.organisation), by=acme.owner)
    owner, viewer = Client(), Client()
    owner.force_login(acme.owner)
    viewer.force_login(acme.viewer)
    page = owner.get("/o/acme/settings/").content.decode()
    assert "Audit log" in page and "key.revoked" in page and "owner@acme.test" in page
    assert "Audit log" not in viewer.get("/o/acme/settings/").content.decode()
