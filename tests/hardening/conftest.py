"""Objects of one organisation, one of each kind a route can name by id, for the walkers over every route."""

from __future__ import annotations

import pytest

from arcweb.models import ApiKey, Membership
from arcweb.services import invite
from evaluations.models import Baseline, FailurePattern
from tests.conftest import sample_trace
from tests.evaluations.test_engine_api import failing


@pytest.fixture
def acme_objects(acme, acme_api):
    created = acme_api.post("/api/v1/traces", [failing("f1"), sample_trace("ok")]).json()["traces"]
    pattern = FailurePattern.objects.get(organisation=acme.organisation)
    agent = pattern.agent
    baseline = Baseline.objects.create(organisation=acme.organisation, agent=agent, name="b",
                                       start=pattern.first_seen, end=pattern.last_seen)
    invitation = invite(organisation=acme.organisation, email="new@acme.test", role="member", invited_by=acme.owner)
    objects = {
        "trace_id": created[0]["id"], "key_id": ApiKey.objects.filter(organisation=acme.organisation).first().id,
        "pattern_id": pattern.id, "agent_id": agent.id, "baseline_id": baseline.id,
        "member_id": Membership.objects.get(organisation=acme.organisation, user=acme.viewer).id,
        "invitation_id": invitation.id,
    }
    objects.update(extra_objects(acme))
    return objects


def extra_objects(tenant) -> dict:
    """Objects of the apps that add routes with ids of their own."""
    from reports.services import create_report
    from traces.models import Agent

    report = create_report(organisation=tenant.organisation, agents=list(Agent.objects.for_org(tenant.organisation)),
                           window="7d")
    from tests.alerts.conftest import alert_objects
    from tests.experiments.conftest import experiment_objects

    return {"report_id": report.id, "paper": "a4", **experiment_objects(tenant), **alert_objects(tenant)}
