"""Replaying recorded model calls on another model: what the call asked, what it answered, and when two
answers are the same without asking a judge.

Recorded spans come in the shapes clients send: OpenAI chat input ({"messages": [...]}, or the list itself),
a prompt string, Anthropic content blocks; answers as a string, an assistant message, a chat completion or
Anthropic content. Anything else is not replayable and is said so.
"""

from __future__ import annotations

import re
from typing import Any

ROLES = ("system", "user", "assistant", "tool", "developer")
_SPACE = re.compile(r"\s+")


def _text(content: Any) -> str | None:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)]
        return "\n".join(parts) if parts else None
    return None


def messages_of(recorded_input: Any) -> list[dict[str, str]] | None:
    """The chat messages a recorded call sent, as [{role, content}] with text content; None when unknown."""
    value = recorded_input
    if isinstance(value, dict):
        if isinstance(value.get("messages"), list):
            value = value["messages"]
        elif isinstance(value.get("prompt"), str):
            value = value["prompt"]
    if isinstance(value, str):
        return [{"role": "user", "content": value}] if value.strip() else None
    if not isinstance(value, list) or not value:
        return None
    messages = []
    for message in value:
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            return None
        text = _text(message.get("content"))
        if text is None:
            return None
        messages.append({"role": message["role"], "content": text})
    return messages if any(m["role"] == "user" for m in messages) else None


def answer_of(recorded_output: Any) -> str | None:
    """The text a recorded call answered; None when it has none (a tool call only, say)."""
    value = recorded_output
    if isinstance(value, dict) and isinstance(value.get("choices"), list) and value["choices"]:
        first = value["choices"][0]
        value = first.get("message") if isinstance(first, dict) else None
    if isinstance(value, dict):
        value = value.get("content", value.get("text", value.get("output")))
    text = _text(value)
    return text if text and text.strip() else None


def same_answer(recorded: str, replayed: str) -> bool:
    """Exactly the same text but for case and whitespace: no judge needed."""
    return _SPACE.sub(" ", recorded).strip().casefold() == _SPACE.sub(" ", replayed).strip().casefold()
