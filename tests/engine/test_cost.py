from __future__ import annotations

from decimal import Decimal

from evaluations.engine import to_trace
from evaluations.engine.cost import find_savings, headline, price, resolve_model, trace_cost


def llm(span_id, model="gpt-4o-mini", input_tokens=1000, output_tokens=100, **extra):
    return {"span_id": span_id, "kind": "llm", "name": "chat", "model": model,
            "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens}, **extra}


def test_gpt_4o_mini_million_in_and_out_costs_75_cents():
    assert price("gpt-4o-mini", "openai", 1_000_000, 1_000_000) == Decimal("0.75")


def test_known_prices_for_small_calls():
    # gpt-4o-mini: $0.15 per 1M input, $0.60 per 1M output, cached input at half price
    assert price("gpt-4o-mini", None, 1000, 100) == Decimal("0.00021")
    assert price("gpt-4o-mini", None, 1000, 100, cached_tokens=1000) == Decimal("0.000135")


def test_prefixed_and_dated_names_resolve():
    assert resolve_model("openrouter/openai/gpt-4o-mini", None) is not None
    assert price("gpt-4o-mini-2024-07-18", None, 1_000_000, 1_000_000) == Decimal("0.75")
    assert resolve_model("mystery-model-7b", None) is None


def test_unknown_model_is_unpriced_not_zero():
    cost = trace_cost(to_trace({"agent_id": "a", "spans": [llm("1", model="mystery-model-7b")]}))
    assert cost.total_usd is None
    assert cost.unpriced_models == ["mystery-model-7b"]
    partial = trace_cost(to_trace({"agent_id": "a", "spans": [llm("1"), llm("2", model="mystery-model-7b")]}))
    assert partial.total_usd == Decimal("0.00021") and partial.unpriced


def test_cost_carried_by_the_trace_wins():
    cost = trace_cost(to_trace({"agent_id": "a", "spans": [llm("1", cost_usd="0.5")]}))
    assert cost.total_usd == Decimal("0.5") and cost.spans[0].source == "trace"


def test_duplicate_calls_and_failed_calls_are_savings_with_their_spans():
    prompt = {"messages": [{"role": "user", "content": "hello"}]}
    trace = to_trace({"agent_id": "a", "spans": [
        llm("1", input=prompt, output="hi"), llm("2", input=prompt, output="hi"),
        llm("3", input={"messages": []}, error={"type": "RateLimitError", "message": "429"})]})
    savings = {s.kind: s for s in find_savings(trace, trace_cost(trace))}
    assert savings["duplicate_calls"].span_ids == ["2"]
    assert savings["duplicate_calls"].amount_usd == Decimal("0.000210")
    assert savings["retries"].span_ids == ["3"]


def test_only_truly_identical_calls_are_duplicates():
    prompt = {"messages": [{"role": "user", "content": "hello"}]}
    other_tokens = llm("2", input=prompt, output="hi")
    other_tokens["usage"] = {"input_tokens": 999, "output_tokens": 100}
    other_temperature = {**llm("3", input=prompt, output="hi"), "attributes": {"temperature": 0.9}}
    trace = to_trace({"agent_id": "a", "spans": [llm("1", input=prompt, output="hi"), other_tokens, other_temperature,
                                                 llm("4", input=None, output="hi"), llm("5", input=None, output="hi")]})
    assert "duplicate_calls" not in {s.kind for s in find_savings(trace, trace_cost(trace))}


def test_cheaper_model_prefers_same_provider_and_headline():
    trace = to_trace({"agent_id": "a", "output": "ok", "spans": [llm("1", model="gpt-4o", output="short answer")]})
    cost = trace_cost(trace)
    assert cost.total_usd == Decimal("0.0035")  # $2.50/M in, $10/M out
    savings = find_savings(trace, cost)
    cheaper = next(s for s in savings if s.kind == "cheaper_model")
    assert cheaper.options[0]["provider"] == "openai"
    assert cheaper.span_ids == ["1"]
    summary = headline(cost, savings)
    assert summary["text"].startswith("cost $0.0035/run, ")
    assert summary["reduction_pct"] > 50
    assert summary["recommended_model"]["provider"] == "openai"


def test_prompt_caching_for_repeated_long_prefix():
    system = {"role": "system", "content": "policy " * 1000}
    spans = [llm(str(n), input_tokens=3000, input={"messages": [system, {"role": "user", "content": f"q{n}"}]},
                 output="x") for n in range(3)]
    trace = to_trace({"agent_id": "a", "spans": spans})
    caching = next(s for s in find_savings(trace, trace_cost(trace)) if s.kind == "prompt_caching")
    assert caching.span_ids == ["1", "2"]
    assert caching.amount_usd > 0
