"""Deeply nested input: whatever the JSON decoder accepts is stored, evaluated and shown, never a 500.

Python's recursion limit is about 1,000 frames; the decoder accepts values nested several thousand levels
deep, and span trees can be chains of up to 10,000 spans.
"""

from __future__ import annotations

import pytest

from evaluations.engine import evaluate, to_trace
from evaluations.engine.compliance import mask_pii
from evaluations.models import Evaluation, EvaluationStatus, FailurePattern
from tests.conftest import sample_trace
from tests.workbench.conftest import logged_in
from traces.models import Trace

DEPTH = 5_000


def nested(leaf, depth: int = DEPTH):
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def innermost(value):
    while isinstance(value, list):
        value = value[0]
    return value


def test_the_engine_walks_a_value_nested_thousands_of_levels_deep():
    trace = to_trace({"trace_id": "deep", "agent_id": "a", "input": nested("mail jane.doe@example.com please")})
    result = evaluate(trace)
    assert result.compliance_findings == 1  # the e-mail address at the bottom was found
    assert "jane.doe@example.com" not in innermost(mask_pii(trace.input))


@pytest.mark.django_db
def test_deep_input_and_a_long_span_chain_are_stored_evaluated_and_shown(acme, acme_api):
    acme.organisation.mask_pii_at_ingestion = True
    acme.organisation.save()
    trace = sample_trace("deep", input=nested("write to jane.doe@example.com \x00"), output=None,
                         error={"type": "TimeoutError", "message": "Tool lookup timed out after 30s"})
    trace["spans"] = [{"span_id": f"s{i}", "parent_id": f"s{i - 1}" if i else None, "kind": "tool",
                       "name": f"step-{i}", "duration_ms": 1} for i in range(3_000)]
    response = acme_api.post("/api/v1/traces", trace)
    assert response.status_code == 202, response.content

    stored = Trace.objects.get(organisation=acme.organisation, trace_id="deep")
    assert "jane.doe@example.com" not in innermost(stored.input) and "\x00" not in innermost(stored.input)
    assert Evaluation.objects.get(trace=stored).status == EvaluationStatus.DONE
    page = logged_in(acme.owner).get(f"/o/acme/traces/{stored.id}/")
    assert page.status_code == 200 and "step-2999" in page.content.decode()
    for path in ("analysis", "scenarios", "improvements"):  # a failed run: scenarios carry its deep input
        assert acme_api.get(f"/api/v1/traces/{stored.id}/{path}").status_code == 200, path
    owner = logged_in(acme.owner)
    pattern = FailurePattern.objects.get(organisation=acme.organisation)
    for page in ("/o/acme/labelling/", f"/o/acme/patterns/{pattern.id}/", f"/o/acme/patterns/{pattern.id}/scenarios.py"):
        assert owner.get(page).status_code == 200, page
