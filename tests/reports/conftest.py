"""Reports fixtures: an agent with known runs (15 of 20 succeed: 75%) and a shared report of it."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from django.test import Client

from arcweb.models import Role
from reports import services
from reports.models import Report
from tests.conftest import key_of_a, sample_trace

AGENT = "support-bot"


def runs(agent: str = AGENT, n: int = 20, fail_every: int = 4, prefix: str = "r") -> list[dict]:
    """n runs of `agent`; every `fail_every`-th one raises (so 20 runs → 15 successes, 75%)."""
    found = []
    for i in range(n):
        fails = i % fail_every == 0
        found.append(sample_trace(f"{prefix}-{i}", agent_id=agent, input={"q": f"question {i % 5}"},
                                  output=None if fails else {"answer": f"ok {i}"},
                                  error={"type": "ValueError", "message": "bad"} if fails else None))
    return found


@pytest.fixture
def seeded(acme, acme_api):
    response = acme_api.post("/api/v1/traces", runs())
    assert response.status_code in (200, 201, 202), response.content
    return acme


@pytest.fixture
def report(seeded, django_capture_on_commit_callbacks) -> Report:
    agents = services.resolve_agents(seeded.organisation, [AGENT])
    with django_capture_on_commit_callbacks(execute=True):  # the queued PDF renders, as after a real commit
        return services.create_report(organisation=seeded.organisation, agents=agents, window="30d",
                                      created_by=seeded.owner, share=True)


@pytest.fixture
def token(report) -> str:
    return report.links.get().token


@pytest.fixture
def anon() -> Client:
    return Client()


@pytest.fixture
def owner_client(acme) -> Client:
    client = Client()
    client.force_login(acme.owner)
    return client


@pytest.fixture
def viewer_client(acme) -> Client:
    client = Client()
    client.force_login(acme.viewer)
    return client


@pytest.fixture
def member_key(acme) -> str:
    return key_of_a(Role.MEMBER, acme, name="member")


def parse_svg(markup: str | bytes) -> ET.Element:
    """Parse SVG we made ourselves (its only untrusted parts are escaped texts — what these tests check)."""
    return ET.fromstring(markup)  # noqa: S314
