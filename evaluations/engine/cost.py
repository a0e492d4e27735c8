"""What a run cost, span by span, and what it need not have cost.

Prices come from genai-prices. A span's own `cost_usd` wins. Model names are resolved leniently
(`openrouter/openai/gpt-4o-mini`, `gpt-4o-mini-2024-07-18`); a model that cannot be resolved is reported
as unpriced, never counted as $0. Token convention: `input_tokens` includes `cached_tokens`.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

import msgspec
from genai_prices import Usage as PriceUsage
from genai_prices import calc_price

from .trace import Span, Trace

# Small, cheap models worth suggesting per provider; prices still come from genai-prices.
CHEAPER_MODELS: dict[str, tuple[str, ...]] = {
    "openai": ("gpt-4.1-nano", "gpt-4o-mini", "gpt-4.1-mini"),
    "anthropic": ("claude-3-5-haiku", "claude-3-haiku"),
    "google": ("gemini-2.0-flash-lite", "gemini-2.0-flash"),
    "mistral": ("mistral-small-latest", "ministral-8b-latest"),
}
# A call is a candidate for a cheaper model when it asked for no tool and answered briefly.
SHORT_ANSWER_TOKENS = 300
# Provider prompt caching only applies past a minimum prefix (OpenAI: 1,024 tokens).
MIN_CACHEABLE_TOKENS = 1024
CHARS_PER_TOKEN = 4
# Below this prompt size every listed model is priced at its base tier, so per-token rates are exact.
LINEAR_UP_TO_TOKENS = 100_000
_MICRO = Decimal("0.000001")


@dataclass(frozen=True, slots=True)
class SpanCost:
    span_id: str
    model: str | None
    provider: str | None
    cost_usd: Decimal | None
    source: str  # "trace" | "genai-prices" | "unpriced"

    def as_dict(self) -> dict[str, Any]:
        return {"span_id": self.span_id, "model": self.model, "provider": self.provider,
                "cost_usd": None if self.cost_usd is None else str(self.cost_usd), "source": self.source}


@dataclass(slots=True)
class TraceCost:
    total_usd: Decimal | None
    spans: list[SpanCost]
    unpriced_models: list[str]

    @property
    def unpriced(self) -> bool:
        return bool(self.unpriced_models)


@dataclass(slots=True)
class Saving:
    kind: str  # cheaper_model | prompt_caching | duplicate_calls | retries
    amount_usd: Decimal
    span_ids: list[str]
    detail: str
    options: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "amount_usd": str(self.amount_usd), "span_ids": self.span_ids,
                "detail": self.detail, "options": self.options}


@lru_cache(maxsize=4096)
def resolve_model(model: str, provider: str | None) -> tuple[str, str] | None:
    """(provider id, model ref) genai-prices knows for a model name, trying provider prefixes and dropping them."""
    parts = model.strip().split("/")
    for start in range(len(parts)):
        ref = "/".join(parts[start:])
        hints = [parts[start - 1]] if start else []
        if provider:
            hints.append(provider)
        for hint in [*hints, None]:
            try:
                result = calc_price(PriceUsage(input_tokens=1000, output_tokens=1000), ref, provider_id=hint)
            except LookupError:
                continue
            return result.provider.id, ref
    return None


def price(model: str, provider: str | None, input_tokens: int, output_tokens: int, cached_tokens: int = 0) -> Decimal | None:
    """The USD price of one call, or None when the model is not known to genai-prices."""
    resolved = resolve_model(model, provider)
    if resolved is None:
        return None
    cached_tokens = min(cached_tokens, input_tokens)
    if input_tokens > LINEAR_UP_TO_TOKENS:
        # Long prompts may fall in a higher price tier: ask the library for the exact figure.
        usage = PriceUsage(input_tokens=input_tokens, output_tokens=output_tokens, cache_read_tokens=cached_tokens or None)
        return calc_price(usage, resolved[1], provider_id=resolved[0]).total_price
    per_input, per_output, per_cached = _rates(*resolved)
    return (per_input * (input_tokens - cached_tokens) + per_cached * cached_tokens + per_output * output_tokens) / 1000


@lru_cache(maxsize=4096)
def _rates(provider_id: str, ref: str) -> tuple[Decimal, Decimal, Decimal]:
    """USD per 1,000 input, output and cached-input tokens at the base tier (calc_price is too slow per span)."""
    def at(**tokens: int) -> Decimal:
        return calc_price(PriceUsage(**tokens), ref, provider_id=provider_id).total_price

    per_input = at(input_tokens=1000)
    return per_input, at(output_tokens=1000), at(input_tokens=1000, cache_read_tokens=1000)


def span_cost(span: Span) -> SpanCost:
    if span.cost_usd is not None:
        return SpanCost(span.span_id, span.model, span.provider, span.cost_usd, "trace")
    if span.kind != "llm" or not span.model or span.usage is None:
        return SpanCost(span.span_id, span.model, span.provider, None, "unpriced")
    usage = span.usage
    amount = price(span.model, span.provider, usage.input_tokens, usage.output_tokens, usage.cached_tokens)
    return SpanCost(span.span_id, span.model, span.provider, amount, "unpriced" if amount is None else "genai-prices")


def trace_cost(trace: Trace) -> TraceCost:
    costs = [span_cost(s) for s in trace.spans if s.kind == "llm" or s.cost_usd is not None]
    priced = [c.cost_usd for c in costs if c.cost_usd is not None]
    unpriced = sorted({c.model or "(no model)" for c in costs if c.cost_usd is None})
    return TraceCost(sum(priced, Decimal(0)) if priced else None, costs, unpriced)


def _prompt_key(value: Any) -> bytes:
    return msgspec.json.encode(value, order="sorted") if value is not None else b""


def _prefix(value: Any) -> str:
    """The stable start of a prompt: the system message when there is one, else the first message."""
    messages = value.get("messages") if isinstance(value, dict) else value
    if isinstance(messages, list) and messages:
        return _prompt_key(messages[0]).decode()
    return _prompt_key(value).decode()[:8000]


def find_savings(trace: Trace, cost: TraceCost) -> list[Saving]:
    by_id = {c.span_id: c for c in cost.spans if c.cost_usd is not None}
    llm = [s for s in trace.spans if s.kind == "llm" and s.span_id in by_id]
    savings = [s for s in (_cheaper_model(trace, llm, by_id), _prompt_caching(llm, by_id),
                           _duplicates(llm, by_id), _retries(llm, by_id)) if s is not None and s.amount_usd > 0]
    return savings


def _asked_for_tools(trace: Trace, span: Span) -> bool:
    index = trace.spans.index(span)
    following = trace.spans[index + 1] if index + 1 < len(trace.spans) else None
    if following is not None and following.kind == "tool":
        return True
    output = span.output
    return isinstance(output, dict) and bool(output.get("tool_calls") or output.get("function_call"))


def _cheaper_model(trace: Trace, llm: list[Span], by_id: dict[str, SpanCost]) -> Saving | None:
    per_option: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    span_ids: dict[tuple[str, str], list[str]] = defaultdict(list)
    same_provider: dict[tuple[str, str], bool] = {}
    for span in llm:
        usage = span.usage
        if usage is None or usage.output_tokens > SHORT_ANSWER_TOKENS or _asked_for_tools(trace, span):
            continue
        resolved = resolve_model(span.model or "", span.provider)
        current = by_id[span.span_id].cost_usd or Decimal(0)
        for provider, models in CHEAPER_MODELS.items():
            for model in models:
                if resolved is not None and resolve_model(model, provider) == resolved:
                    continue
                alternative = price(model, provider, usage.input_tokens, usage.output_tokens, usage.cached_tokens)
                if alternative is not None and alternative < current:
                    key = (provider, model)
                    per_option[key] += current - alternative
                    span_ids[key].append(span.span_id)
                    same_provider[key] = resolved is not None and resolved[0] == provider
    if not per_option:
        return None
    # Same provider first (no new contract, same API), then by saving.
    ranked = sorted(per_option, key=lambda k: (not same_provider[k], -per_option[k]))
    best = ranked[0]
    options = [{"provider": p, "model": m, "saving_usd": str(per_option[(p, m)].quantize(_MICRO)),
                "same_provider": "yes" if same_provider[(p, m)] else "no"} for p, m in ranked[:6]]
    return Saving("cheaper_model", per_option[best].quantize(_MICRO), span_ids[best],
                  f"{len(span_ids[best])} short calls without tools could run on {best[1]}", options)


def _prompt_caching(llm: list[Span], by_id: dict[str, SpanCost]) -> Saving | None:
    groups: dict[str, list[Span]] = defaultdict(list)
    for span in llm:
        prefix = _prefix(span.input)
        if len(prefix) >= MIN_CACHEABLE_TOKENS * CHARS_PER_TOKEN and span.usage and not span.usage.cached_tokens:
            groups[hashlib.sha256(prefix.encode()).hexdigest()].append(span)
    amount, ids = Decimal(0), []
    for spans in groups.values():
        prefix_tokens = len(_prefix(spans[0].input)) // CHARS_PER_TOKEN
        for span in spans[1:]:  # the first call writes the cache, the following ones read it
            usage = span.usage
            assert usage is not None
            cached = price(span.model or "", span.provider, usage.input_tokens, usage.output_tokens,
                           min(prefix_tokens, usage.input_tokens))
            current = by_id[span.span_id].cost_usd
            if cached is not None and current is not None and cached < current:
                amount += current - cached
                ids.append(span.span_id)
    if not ids:
        return None
    return Saving("prompt_caching", amount.quantize(_MICRO), ids,
                  f"{len(ids)} calls repeat a prompt prefix of at least {MIN_CACHEABLE_TOKENS} tokens without caching it")


# Request parameters that change a model's answer: calls differing in any of them are not the same call.
REQUEST_PARAMETERS = ("temperature", "top_p", "max_tokens", "max_output_tokens", "seed", "stop", "tools", "tool_choice",
                      "response_format", "reasoning_effort", "frequency_penalty", "presence_penalty", "n")


def request_key(span: Span) -> bytes | None:
    """What makes two model calls the same call: model, messages (the input) and parameters, and the input
    token count when the client reported one. None when the input was not recorded."""
    if span.input is None:
        return None
    parameters = {k: v for k, v in span.attributes.items()
                  if k in REQUEST_PARAMETERS or k.startswith("gen_ai.request.")}
    tokens = span.usage.input_tokens if span.usage is not None else None
    return msgspec.json.encode([span.model or "", span.provider or "", span.input, parameters, tokens], order="sorted")


def _duplicates(llm: list[Span], by_id: dict[str, SpanCost]) -> Saving | None:
    seen: set[bytes] = set()
    amount, ids = Decimal(0), []
    for span in llm:
        key = request_key(span)
        if key is None:
            continue
        if key in seen:
            amount += by_id[span.span_id].cost_usd or Decimal(0)
            ids.append(span.span_id)
        seen.add(key)
    if not ids:
        return None
    return Saving("duplicate_calls", amount.quantize(_MICRO), ids,
                  f"{len(ids)} model calls repeat an earlier call exactly (model, messages and parameters); "
                  "cache the answer")


def _retries(llm: list[Span], by_id: dict[str, SpanCost]) -> Saving | None:
    failed = [s for s in llm if s.error is not None]
    if not failed:
        return None
    amount = sum((by_id[s.span_id].cost_usd or Decimal(0) for s in failed), Decimal(0))
    return Saving("retries", amount.quantize(_MICRO), [s.span_id for s in failed],
                  f"{len(failed)} model calls failed and were paid for; fix the cause or back off before retrying")


def headline(cost: TraceCost, savings: list[Saving]) -> dict[str, Any]:
    """'cost $X/run, Y% reduction possible' with the model recommendation behind it.

    A span counted by several savings counts once, with its largest saving (cheaper model and caching
    of the same call do not add up).
    """
    total = cost.total_usd
    if total is None or total <= 0:
        return {"cost_per_run_usd": None if total is None else str(total), "reduction_pct": 0.0,
                "text": "cost unknown (no priced model call)" if total is None else "cost $0/run",
                "recommended_model": None}
    per_span: dict[str, Decimal] = defaultdict(Decimal)
    for saving in savings:
        share = saving.amount_usd / len(saving.span_ids)
        for span_id in saving.span_ids:
            per_span[span_id] = max(per_span[span_id], share)
    reduction = min(sum(per_span.values(), Decimal(0)), total)
    pct = float((reduction / total * 100).quantize(Decimal("0.1"), ROUND_HALF_UP))
    recommended = next((s.options[0] for s in savings if s.kind == "cheaper_model"), None)
    text = f"cost ${total.quantize(_MICRO).normalize():f}/run, {pct:g}% reduction possible"
    return {"cost_per_run_usd": str(total), "reduction_pct": pct, "text": text, "recommended_model": recommended}
