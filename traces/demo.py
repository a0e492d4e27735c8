"""Realistic demo traces: several agents, frameworks, models and the failures real agents have.

Deterministic (a fixed seed and trace ids), so loading them twice stores them once.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

AGENTS: dict[str, dict[str, Any]] = {
    "support-bot": {"framework": "openai", "provider": "openai", "model": "gpt-4o", "domain": "general",
                    "tools": ["lookup_order", "refund_policy", "send_email"],
                    "questions": ["Where is my order {n}?", "Can I return order {n}?", "Cancel order {n} please"]},
    "research-agent": {"framework": "langchain", "provider": "openai", "model": "gpt-4o-mini", "domain": "ml",
                       "tools": ["web_search", "fetch_page", "summarise"],
                       "questions": ["Summarise recent work on {topic}", "Compare {topic} benchmarks"]},
    "finance-analyst": {"framework": "anthropic", "provider": "anthropic", "model": "claude-3-5-haiku-latest",
                        "domain": "finance", "tools": ["get_quote", "account_balance", "calculate"],
                        "questions": ["What is the balance of account {n}?", "Price of {ticker} now?"]},
    "crew-writer": {"framework": "crewai", "provider": "openai", "model": "gpt-4o-mini", "domain": "general",
                    "tools": ["outline", "draft_section", "review"],
                    "questions": ["Write a blog post about {topic}", "Draft release notes for v{n}"]},
}
TOPICS = ["retrieval augmentation", "agent evaluation", "tool calling", "prompt caching", "LLM routing"]
TICKERS = ["AAPL", "MSFT", "NVDA", "ASML", "SAP"]
FAILURES = [
    ("tool", "TimeoutError", "Tool {tool} timed out after 30s"),
    ("llm", "RateLimitError", "Error code: 429 - Rate limit reached for requests"),
    ("tool", "ValidationError", "Invalid arguments for {tool}: field 'date' expected YYYY-MM-DD, got '31/02'"),
    ("llm", "OutputParserException", "Could not parse LLM output: `I think the answer is`"),
    ("llm", "BadRequestError", "This model's maximum context length is 128000 tokens"),
]


def demo_traces(count: int = 320, *, now: datetime | None = None, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    names = list(AGENTS)
    return [_trace(rng, n, names[n % len(names)], now) for n in range(count)]


def _trace(rng: random.Random, n: int, agent: str, now: datetime) -> dict[str, Any]:
    profile = AGENTS[agent]
    started = now - timedelta(minutes=rng.randint(5, 14 * 24 * 60))
    question = rng.choice(profile["questions"]).format(n=rng.randint(1000, 9999), topic=rng.choice(TOPICS),
                                                       ticker=rng.choice(TICKERS))
    failure = FAILURES[rng.randrange(len(FAILURES))] if rng.random() < 0.18 else None
    spans, clock = [], 0.0
    steps = rng.randint(2, 5)
    for step in range(steps):
        llm_ms = rng.uniform(300, 2200)
        spans.append({
            "span_id": f"llm-{step}", "kind": "llm", "name": "chat", "model": profile["model"],
            "provider": profile["provider"], "started_at": (started + timedelta(milliseconds=clock)).isoformat(),
            "duration_ms": round(llm_ms, 1),
            "input": {"messages": [{"role": "user", "content": question}]},
            "output": {"content": f"Calling a tool for step {step + 1}."},
            "usage": {"input_tokens": rng.randint(400, 3500), "output_tokens": rng.randint(30, 400)},
        })
        clock += llm_ms
        tool = profile["tools"][step % len(profile["tools"])]
        tool_ms = rng.uniform(80, 1500)
        span = {"span_id": f"tool-{step}", "parent_id": f"llm-{step}", "kind": "tool", "name": tool,
                "started_at": (started + timedelta(milliseconds=clock)).isoformat(), "duration_ms": round(tool_ms, 1),
                "input": {"query": question[:60]}, "output": {"result": f"{tool} ok", "items": rng.randint(0, 9)}}
        clock += tool_ms
        spans.append(span)
    error = None
    output: Any = {"answer": f"Here is what I found about: {question}"}
    if failure:
        kind, error_type, message = failure
        target = next(s for s in reversed(spans) if s["kind"] == kind)
        message = message.format(tool=target["name"])
        target["error"] = {"type": error_type, "message": message}
        target.pop("output", None)
        error, output = {"type": error_type, "message": message}, None
    elif agent == "finance-analyst" and rng.random() < 0.1:
        spans[-1]["output"] = {"holder": "J. Doe", "ssn": "536-90-4399", "balance": 10422.17}
    return {
        "trace_id": f"demo-{agent}-{n:05d}", "agent_id": agent, "framework": profile["framework"],
        "domain": profile["domain"], "started_at": started.isoformat(), "duration_ms": round(clock + 50, 1),
        "input": {"question": question}, "output": output, "error": error, "spans": spans,
        "session_id": f"session-{rng.randint(1, 40)}", "user_id": f"user-{rng.randint(1, 25)}",
        "tags": ["demo", profile["framework"]],
    }
