"""Values a client may send that the database would refuse: each is refused with its field named (a 4xx,
never a 5xx), and the valid traces beside it are kept."""

from __future__ import annotations

import msgspec
import pytest
from django.db import DataError, connection

from arcweb.errors import api_exception_handler
from evaluations.engine.trace import ErrorInfo
from evaluations.engine.trace import Trace as CanonicalTrace
from evaluations.models import Evaluation
from tests.conftest import sample_trace
from traces.models import Agent, Trace

pytestmark = pytest.mark.django_db

# Canonical fields stored in a column of their own: (the field's type in the canonical trace, the column).
COLUMNS = {
    "agent_id": [(Agent, "name")],
    "trace_id": [(Trace, "trace_id")],
    "domain": [(Trace, "domain")],
    "framework": [(Trace, "framework"), (Evaluation, "framework")],
    "session_id": [(Trace, "session_id")],
    "user_id": [(Trace, "user_id")],
}


def max_length(struct: type, name: str) -> int:
    field = next(f for f in msgspec.inspect.type_info(struct).fields if f.name == name)
    kinds = field.type.types if isinstance(field.type, msgspec.inspect.UnionType) else (field.type,)
    return next(k for k in kinds if isinstance(k, msgspec.inspect.StrType)).max_length


@pytest.mark.parametrize("name", sorted(COLUMNS))
def test_every_length_limit_of_the_canonical_trace_is_its_column(name):
    for model, column in COLUMNS[name]:
        assert model._meta.get_field(column).max_length == max_length(CanonicalTrace, name), (name, model, column)


def test_the_error_type_limit_is_its_column():
    assert Evaluation._meta.get_field("error_type").max_length == max_length(ErrorInfo, "type")


@pytest.mark.parametrize("field, value", [
    ("framework", "f" * 65), ("domain", "d" * 33), ("agent_id", "a" * 201), ("trace_id", "t" * 513),
    ("session_id", "s" * 513), ("user_id", "u" * 513),
])
def test_a_value_longer_than_its_column_is_refused_and_the_valid_trace_beside_it_kept(acme_api, field, value):
    bad = {**sample_trace("bad"), field: value}
    response = acme_api.post("/api/v1/traces", [sample_trace("good"), bad])
    assert response.status_code == 202, response.content[:300]
    body = response.json()
    assert [t["trace_id"] for t in body["traces"]] == ["good"]
    assert [(e["index"], e["field"]) for e in body["errors"]] == [(1, f"$.{field}")]
    assert list(Trace.objects.values_list("trace_id", flat=True)) == ["good"]
    alone = acme_api.post("/api/v1/traces", bad)
    assert alone.status_code == 400 and alone.json()["error"]["errors"][0]["field"] == f"$.{field}"


def test_the_longest_value_each_column_holds_is_stored(acme_api):
    longest = {name: name[0] * max_length(CanonicalTrace, name) for name in COLUMNS}
    response = acme_api.post("/api/v1/traces", {**sample_trace(), **longest})
    assert response.status_code == 202, response.content[:300]
    trace = Trace.objects.get()
    assert (trace.agent.name, trace.trace_id, trace.domain, trace.framework, trace.session_id, trace.user_id) \
        == tuple(longest[n] for n in ("agent_id", "trace_id", "domain", "framework", "session_id", "user_id"))
    assert Evaluation.objects.get().status == "done"


@pytest.mark.parametrize("cost", ["NaN", "Infinity", "-Infinity", 1e30, "1e30", -0.01, 1000.01])
def test_a_cost_no_run_can_have_is_refused_naming_cost_usd(acme_api, cost):
    bad = sample_trace("bad")
    bad["spans"][0]["cost_usd"] = cost
    response = acme_api.post("/api/v1/traces", [sample_trace("good"), bad])
    assert response.status_code == 202
    [error] = response.json()["errors"]
    assert error["index"] == 1 and error["field"] == "$.spans[0]" and error["message"].startswith("cost_usd ")
    alone = acme_api.post("/api/v1/traces", bad)
    assert alone.status_code == 400 and "cost_usd" in alone.content.decode()
    assert list(Trace.objects.values_list("trace_id", flat=True)) == ["good"]


def test_costs_a_run_can_have_are_stored_and_evaluated(acme_api):
    trace = sample_trace("dear")
    trace["spans"][0]["cost_usd"] = "1000"
    trace["spans"][1]["cost_usd"] = 0.000001
    assert acme_api.post("/api/v1/traces", trace).status_code == 202
    evaluation = Evaluation.objects.get()
    assert evaluation.status == "done" and str(evaluation.cost_usd) == "1000.00000100"


def test_the_spans_of_one_run_cannot_cost_more_than_its_column_holds(acme_api):
    spans = [{"span_id": f"s{i}", "kind": "llm", "cost_usd": 1000} for i in range(1000)]
    response = acme_api.post("/api/v1/traces", sample_trace("sum", spans=spans))
    assert response.status_code == 400
    assert response.json()["error"]["errors"][0]["field"] == "$"
    assert "cost_usd add up to 1000000" in response.json()["error"]["errors"][0]["message"]


def test_a_value_the_database_refuses_is_a_400_not_a_503():
    """The last line of defence: a DataError is the request's fault, so the client must not retry it."""
    with pytest.raises(DataError) as refused, connection.cursor() as cursor:
        cursor.execute("SELECT %s::integer", ["not a number"])
    response = api_exception_handler(refused.value, {})
    assert response.status_code == 400 and response.data["error"]["code"] == "invalid"
    assert "Retry-After" not in response
