"""A run's page: waterfall, verdict, findings and the feedback form."""

from __future__ import annotations

import pytest

from evaluations.models import Evaluation
from tests.conftest import sample_trace
from tests.html import parse
from traces.models import Trace

from .conftest import logged_in

pytestmark = pytest.mark.django_db


def test_trace_detail_shows_waterfall_evaluation_and_fixes(acme, runs):
    bad = runs["bad-0"]
    html = logged_in(acme.owner).get(f"/o/acme/traces/{bad.id}/").content.decode()
    assert 'class="bar kind-llm"' in html and 'class="bar kind-tool error"' in html
    assert 'style=' not in html  # the CSP forbids inline styles: bars are SVG attributes
    assert '<span class="indent"></span>' in html  # the tool span is nested under the LLM span
    assert "gpt-4o-mini" in html and "500→40" in html
    assert "Score breakdown" in html and "Tool accuracy" in html and "Fixes" in html
    assert "TimeoutError" in html and "Generated test scenarios" in html


def test_trace_detail_shows_compliance_findings_masked(acme, acme_api):
    acme_api.post("/api/v1/traces", sample_trace("pii", output={"answer": "Your SSN is 123-45-6789, card 4111 1111 1111 1111"}))
    trace = Trace.objects.get(organisation=acme.organisation, trace_id="pii")
    html = logged_in(acme.owner).get(f"/o/acme/traces/{trace.id}/").content.decode()
    findings = parse(html).under("Compliance")
    assert len(findings.find("table").rows()) >= 3  # a header and the two findings
    assert "4111 1111 1111 1111" not in findings.text and "123-45-6789" not in findings.text


def test_feedback_form_labels_the_run(acme, runs):
    bad = runs["bad-0"]
    owner = logged_in(acme.owner)
    response = owner.post(f"/o/acme/traces/{bad.id}/feedback/", {"correct": "true", "score": "4", "label": "",
                                                                   "notes": "fine after all"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "fine after all" in response.content.decode()
    assert Evaluation.objects.get(trace=bad).label_success is True
    empty = owner.post(f"/o/acme/traces/{bad.id}/feedback/", {"correct": "", "score": ""})
    assert empty.status_code == 400 and "give at least one" in empty.content.decode()
