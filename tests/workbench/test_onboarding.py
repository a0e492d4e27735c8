"""The onboarding page of an organisation with no runs yet."""

from __future__ import annotations

import pytest

from arcweb.models import ApiKey
from tests.conftest import sample_trace
from tests.html import parse

from .conftest import logged_in

pytestmark = pytest.mark.django_db


def test_empty_org_sees_onboarding_with_its_endpoint(acme):
    html = logged_in(acme.owner).get("/o/acme/").content.decode()
    assert "Send your first trace" in html
    assert "http://testserver/api/v1/traces" in html and "http://testserver/v1/traces" in html
    assert "@trace_agent" in html and 'hx-trigger="every 3s"' in html


def test_onboarding_creates_a_key_shown_once(acme):
    owner = logged_in(acme.owner)
    html = owner.post("/o/acme/onboarding/key/", HTTP_HX_REQUEST="true").content.decode()
    key = parse(html).find(id="new-key").text
    assert key.startswith("arc_") and f"Bearer {key}" in html
    assert ApiKey.objects.filter(organisation=acme.organisation).count() == 2
    assert key not in owner.get("/o/acme/onboarding/").content.decode()


def test_onboarding_notices_the_first_trace(acme, acme_api):
    owner = logged_in(acme.owner)
    assert "Listening" in owner.get("/o/acme/onboarding/status/").content.decode()
    acme_api.post("/api/v1/traces", sample_trace("first"))
    html = owner.get("/o/acme/onboarding/status/").content.decode()
    assert "Your first trace arrived" in html and "hx-trigger" not in html
