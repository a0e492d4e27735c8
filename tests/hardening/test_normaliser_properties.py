"""Property tests: any JSON sent to the ingestion function is either stored or refused with the field
named — never an exception, never a half-stored trace."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from traces.ingest import ingest_traces
from traces.models import Trace

pytestmark = pytest.mark.django_db

scalars = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=True) \
    | st.text(max_size=30)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=20)
span_like = st.fixed_dictionaries({"span_id": json_values}, optional={
    "kind": st.sampled_from(["llm", "tool", "robot"]) | json_values, "parent_id": json_values,
    "duration_ms": json_values, "usage": st.dictionaries(st.sampled_from(["input_tokens", "output_tokens"]),
                                                         json_values), "error": json_values,
    "started_at": st.text(max_size=30) | json_values, "cost_usd": json_values, "model": json_values})
trace_like = st.fixed_dictionaries({"agent_id": st.text(min_size=1, max_size=20) | json_values}, optional={
    "trace_id": json_values, "spans": st.lists(span_like, max_size=3) | json_values, "input": json_values,
    "output": json_values, "error": json_values, "duration_ms": json_values, "started_at": json_values,
    "execution_time": json_values, "tool_calls": json_values, "llm_calls": json_values, "timestamp": json_values,
    "tags": json_values, "metadata": json_values, "success": json_values})


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(payloads=st.lists(trace_like | json_values, min_size=1, max_size=3))
def test_any_json_is_stored_or_refused_with_its_field(acme, payloads):
    before = Trace.objects.count()
    result = ingest_traces(organisation=acme.organisation, payloads=payloads)
    assert len(result.accepted) + len(result.rejected) == len(payloads)
    for rejected in result.rejected:
        assert rejected.field.startswith("$") and rejected.message
    created = sum(a.created for a in result.accepted)
    assert Trace.objects.count() == before + created
