"""The one module that talks to a model endpoint (judges, connection tests, experiments' replays).

Through the providers' official clients (`openai` for any OpenAI-compatible server, `anthropic`), over
arcweb.outbound's guarded HTTP client: a private, loopback or link-local address is refused at connect
time unless the operator allows it. The clients retry 429 and 5xx answers with exponential backoff
(honouring Retry-After); every failure comes back as the Reply's error with the key blanked out, never a
raise. Structured answers are asked for as a JSON schema (OpenAI) or a forced tool (Anthropic), and the
reply is validated against that schema: a malformed reply is an error, never an answer.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anthropic
import jsonschema
import openai
from django.conf import settings

from arcweb.outbound import OutboundRefused, http_client

TIMEOUT_S = 60.0
RETRIES = 3
PROVIDERS = ("openai", "anthropic")


@dataclass(frozen=True, slots=True)
class Endpoint:
    provider: str  # "openai" (any OpenAI-compatible server) or "anthropic"
    base_url: str
    api_key: str
    timeout_s: float = TIMEOUT_S


@dataclass(frozen=True, slots=True)
class Reply:
    text: str | None
    error: str
    input_tokens: int = 0
    output_tokens: int = 0
    latency_ms: float = 0.0
    data: dict[str, Any] | None = None  # the validated object of a structured call


Client = openai.OpenAI | anthropic.Anthropic


def client_for(endpoint: Endpoint) -> Client:
    """A client to share between calls (threads too); close it when done (`with client_for(...) as c`)."""
    transport = http_client(allow_private=settings.ARC_MODEL_ENDPOINTS_ALLOW_PRIVATE, timeout=endpoint.timeout_s)
    kind = anthropic.Anthropic if endpoint.provider == "anthropic" else openai.OpenAI
    return kind(api_key=endpoint.api_key or "no-key", base_url=endpoint.base_url, timeout=endpoint.timeout_s,
                max_retries=RETRIES, http_client=transport)


def complete(endpoint: Endpoint, model: str, messages: list[dict[str, str]], *, max_tokens: int,
             client: Client | None = None) -> Reply:
    """The model's text answer to chat messages."""
    def call(c: Client) -> tuple[str | None, int, int]:
        if endpoint.provider == "anthropic":
            system = "\n".join(m["content"] for m in messages if m["role"] in ("system", "developer"))
            chat = [m for m in messages if m["role"] in ("user", "assistant")]
            response = c.messages.create(model=model, max_tokens=max_tokens, messages=chat,
                                         **({"system": system} if system else {}))
            text = "".join(b.text for b in response.content if b.type == "text")
            return text, response.usage.input_tokens, response.usage.output_tokens
        response = c.chat.completions.create(model=model, messages=messages, max_tokens=max_tokens)
        return _chat_text(response), *_chat_usage(response)

    return _guarded(endpoint, call, client)


def structured(endpoint: Endpoint, model: str, *, system: str, user: str, name: str, schema: dict[str, Any],
               max_tokens: int, client: Client | None = None) -> Reply:
    """An answer conforming to `schema` (Reply.data), or a Reply whose error says why there is none."""
    def call(c: Client) -> tuple[str | None, int, int]:
        if endpoint.provider == "anthropic":
            response = c.messages.create(
                model=model, max_tokens=max_tokens, system=system, messages=[{"role": "user", "content": user}],
                tools=[{"name": name, "description": "Record the answer.", "input_schema": schema}],
                tool_choice={"type": "tool", "name": name})
            block = next((b for b in response.content if b.type == "tool_use"), None)
            return (json.dumps(block.input) if block else None), response.usage.input_tokens, \
                response.usage.output_tokens
        response = c.chat.completions.create(
            model=model, max_tokens=max_tokens,
            messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
            response_format={"type": "json_schema", "json_schema": {"name": name, "strict": True, "schema": schema}})
        return _chat_text(response), *_chat_usage(response)

    reply = _guarded(endpoint, call, client)
    if reply.text is None:
        return reply
    try:
        data = json.loads(reply.text)
        jsonschema.validate(data, schema)
    except (ValueError, jsonschema.ValidationError) as exc:
        reason = exc.message if isinstance(exc, jsonschema.ValidationError) else "not JSON"
        return Reply(None, f"malformed reply: {reason}"[:300], reply.input_tokens, reply.output_tokens,
                     reply.latency_ms)
    return Reply(reply.text, "", reply.input_tokens, reply.output_tokens, reply.latency_ms, data)


def test_connection(endpoint: Endpoint) -> str:
    """'' when the endpoint answers its model list with this key, else what went wrong."""
    def call(c: Client) -> tuple[str | None, int, int]:
        page = c.models.list()
        return ", ".join(m.id for m in list(page.data)[:5]) or "no models listed", 0, 0

    return _guarded(endpoint, call, None).error


def _chat_text(response: Any) -> str | None:
    return response.choices[0].message.content if response.choices else None


def _chat_usage(response: Any) -> tuple[int, int]:
    usage = response.usage
    return (usage.prompt_tokens, usage.completion_tokens) if usage else (0, 0)


def _guarded(endpoint: Endpoint, call: Callable[[Client], tuple[str | None, int, int]],
             client: Client | None) -> Reply:
    """Run one call; an endpoint's failure becomes the Reply's error, never a raise."""
    started = time.perf_counter()
    try:
        if client is not None:
            text, input_tokens, output_tokens = call(client)
        else:
            with client_for(endpoint) as own:
                text, input_tokens, output_tokens = call(own)
    except OutboundRefused as exc:
        return Reply(None, f"refused: {exc}")
    except (openai.APITimeoutError, anthropic.APITimeoutError):
        return Reply(None, f"the endpoint did not answer within {endpoint.timeout_s:g} s")
    except (openai.APIConnectionError, anthropic.APIConnectionError) as exc:
        return Reply(None, _blank(f"could not reach the endpoint: {exc.__cause__ or exc}", endpoint.api_key))
    except (openai.APIStatusError, anthropic.APIStatusError) as exc:
        return Reply(None, f"the endpoint answered HTTP {exc.status_code}")
    latency = (time.perf_counter() - started) * 1000
    if text is None:
        return Reply(None, "the endpoint's reply had no text", input_tokens, output_tokens, latency)
    return Reply(text, "", input_tokens, output_tokens, latency)


def _blank(text: str, secret: str) -> str:
    return text.replace(secret, "[key]") if secret and len(secret) >= 8 else text
