"""The real OpenAI, Anthropic and LangChain libraries, talking HTTP to a local fake model server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import _fake_llm
import pytest

import arc_eval

openai = pytest.importorskip("openai")
anthropic = pytest.importorskip("anthropic")

TOOLS_OPENAI = [{"type": "function", "function": {"name": "search", "description": "search the docs",
                                                   "parameters": {"type": "object", "properties": {
                                                       "query": {"type": "string"}}}}}]
TOOLS_ANTHROPIC = [{"name": "search", "description": "search the docs",
                    "input_schema": {"type": "object", "properties": {"query": {"type": "string"}}}}]
MESSAGES = [{"role": "user", "content": "What is the refund policy?"}]


@pytest.fixture(scope="module")
def llm() -> Iterator[str]:
    server, url = _fake_llm.start()
    yield url
    server.shutdown()


@pytest.fixture(autouse=True)
def instrumented() -> Iterator[None]:
    assert arc_eval.instrument(openai=True, anthropic=True) == {"openai": True, "anthropic": True}
    yield
    arc_eval.uninstrument()


def llm_spans(tracer: Any, arc: Any) -> list[dict[str, Any]]:
    assert tracer.flush(5)
    [trace] = arc.received
    return [s for s in trace["spans"] if s["kind"] == "llm"]


def check_usage(span: dict[str, Any]) -> None:
    assert span["usage"] == {"input_tokens": 42, "output_tokens": 7,
                             "cached_tokens": span["usage"]["cached_tokens"]}


def test_openai_chat_sync_with_tool_call_and_stream(llm, tracer, arc):
    client = openai.OpenAI(base_url=llm + "/v1", api_key="fake", max_retries=0)

    @tracer.trace_agent
    def agent() -> str:
        first = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, tools=TOOLS_OPENAI)
        assert first.choices[0].message.tool_calls[0].function.name == "search"
        stream = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True,
                                                stream_options={"include_usage": True})
        return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)

    assert agent() == "Refunds are possible within 30 days."
    first, streamed = llm_spans(tracer, arc)
    assert first["model"] == "gpt-4o-mini" and first["provider"] == "openai"
    check_usage(first)
    assert first["usage"]["cached_tokens"] == 5
    assert first["output"]["tool_calls"][0]["name"] == "search"
    assert first["attributes"]["tools"] == ["search"]
    assert first["input"]["messages"] == MESSAGES
    check_usage(streamed)
    assert streamed["output"]["content"] == "Refunds are possible within 30 days."


def test_openai_async_stream_with_tool_call(llm, tracer, arc):
    client = openai.AsyncOpenAI(base_url=llm + "/v1", api_key="fake", max_retries=0)

    @tracer.trace_agent
    async def agent() -> int:
        plain = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        stream = await client.chat.completions.create(model="gpt-4o", messages=MESSAGES, tools=TOOLS_OPENAI,
                                                      stream=True, stream_options={"include_usage": True})
        chunks = [c async for c in stream]
        return len(chunks) + len(plain.choices)

    assert asyncio.run(agent()) > 3
    plain, streamed = llm_spans(tracer, arc)
    check_usage(plain)
    assert streamed["output"]["tool_calls"] == [{"id": "call_1", "name": "search",
                                                 "arguments": '{"query": "refund policy"}'}]
    check_usage(streamed)


def test_openai_responses_api(llm, tracer, arc):
    client = openai.OpenAI(base_url=llm + "/v1", api_key="fake", max_retries=0)

    @tracer.trace_agent
    def agent() -> str:
        client.responses.create(model="gpt-4.1", input="refund?", tools=[
            {"type": "function", "name": "search", "parameters": {"type": "object", "properties": {}}}])
        with client.responses.create(model="gpt-4.1", input="refund?", stream=True) as stream:
            for _ in stream:
                pass
        return "done"

    agent()
    called, streamed = llm_spans(tracer, arc)
    assert called["output"]["tool_calls"][0]["name"] == "search"
    check_usage(called)
    assert streamed["output"]["content"] == "Refunds are possible within 30 days."
    check_usage(streamed)


def test_anthropic_sync_tool_use_stream_and_helper(llm, tracer, arc):
    client = anthropic.Anthropic(base_url=llm, api_key="fake", max_retries=0)

    @tracer.trace_agent
    def agent() -> str:
        message = client.messages.create(model="claude-test-large", max_tokens=100, messages=MESSAGES,
                                         tools=TOOLS_ANTHROPIC)
        assert message.content[0].type == "tool_use"
        events = list(client.messages.create(model="claude-test-large", max_tokens=100, messages=MESSAGES,
                                             tools=TOOLS_ANTHROPIC, stream=True))
        assert events[-1].type == "message_stop"
        with client.messages.stream(model="claude-test-large", max_tokens=100, messages=MESSAGES) as stream:
            return "".join(stream.text_stream)

    assert agent() == "Refunds are possible within 30 days."
    created, streamed, helper = llm_spans(tracer, arc)
    for span in (created, streamed, helper):
        assert span["provider"] == "anthropic" and span["model"] == "claude-test-large"
        check_usage(span)
    assert created["output"]["tool_calls"][0] == {"id": "toolu_1", "name": "search",
                                                  "arguments": {"query": "refund policy"}}
    assert streamed["output"]["tool_calls"][0]["arguments"] == {"query": "refund policy"}
    assert helper["output"]["content"] == "Refunds are possible within 30 days."


def test_anthropic_async_stream(llm, tracer, arc):
    client = anthropic.AsyncAnthropic(base_url=llm, api_key="fake", max_retries=0)

    @tracer.trace_agent
    async def agent() -> str:
        stream = await client.messages.create(model="claude-test-small", max_tokens=50, messages=MESSAGES,
                                              stream=True)
        text = [e.delta.text async for e in stream if e.type == "content_block_delta"]
        async with client.messages.stream(model="claude-test-small", max_tokens=50, messages=MESSAGES) as s:
            await s.get_final_message()
        return "".join(text)

    assert asyncio.run(agent()) == "Refunds are possible within 30 days."
    streamed, helper = llm_spans(tracer, arc)
    check_usage(streamed)
    check_usage(helper)
    assert streamed["output"]["content"] == "Refunds are possible within 30 days."


def test_llm_error_is_recorded_and_reraised(tracer, arc, dead_url):
    client = openai.OpenAI(base_url=dead_url + "/v1", api_key="fake", max_retries=0)

    @tracer.trace_agent
    def agent() -> None:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    with pytest.raises(openai.APIConnectionError):
        agent()
    [span] = llm_spans(tracer, arc)
    assert span["error"]["type"] == "APIConnectionError"


def test_outside_a_run_clients_behave_as_before(llm, tracer, arc):
    client = openai.OpenAI(base_url=llm + "/v1", api_key="fake", max_retries=0)
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert reply.usage.prompt_tokens == 42
    assert tracer.flush(2) and arc.received == []


def test_tool_calls_the_model_asked_for_become_tool_spans(llm, tracer, arc):
    client = openai.OpenAI(base_url=llm + "/v1", api_key="fake", max_retries=0)
    messages = [*MESSAGES]

    @arc_eval.tool
    def search(query: str) -> str:
        return f"policy for {query}: 30 days"

    @tracer.trace_agent
    def agent() -> str:
        first = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=TOOLS_OPENAI)
        call = first.choices[0].message.tool_calls[0]
        messages.append(first.choices[0].message.model_dump(exclude_none=True))
        messages.append({"role": "tool", "tool_call_id": call.id, "content": search("refund policy")})
        return client.chat.completions.create(model="gpt-4o-mini", messages=messages,
                                              tools=TOOLS_OPENAI).choices[0].message.content

    assert agent() == "Refunds are possible within 30 days."
    assert tracer.flush(5)
    [trace] = arc.received
    first_llm = next(s for s in trace["spans"] if s["kind"] == "llm")
    [tool_span] = [s for s in trace["spans"] if s["kind"] == "tool"]
    # one span for the call: asked for by the model, filled by the decorated tool that ran it
    assert tool_span["name"] == "search" and tool_span["parent_id"] == first_llm["span_id"]
    assert tool_span["attributes"]["call_id"] == "call_1"
    assert tool_span["attributes"]["llm_span_id"] == first_llm["span_id"]
    assert tool_span["input"] == {"query": "refund policy"}
    assert tool_span["output"] == "policy for refund policy: 30 days"
    # the first request's messages were recorded as they were when it was sent
    assert first_llm["input"]["messages"] == MESSAGES


def test_requested_tool_call_without_a_decorator_gets_the_result_sent_back(llm, tracer, arc):
    client = anthropic.Anthropic(base_url=llm, api_key="fake", max_retries=0)

    @tracer.trace_agent
    def agent() -> str:
        message = client.messages.create(model="claude-test-large", max_tokens=100, messages=MESSAGES,
                                         tools=TOOLS_ANTHROPIC)
        use = message.content[0]
        followup = [*MESSAGES, {"role": "assistant", "content": [use.model_dump()]},
                    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id,
                                                  "content": "search backend down", "is_error": True}]}]
        return client.messages.create(model="claude-test-large", max_tokens=100, messages=followup,
                                      tools=TOOLS_ANTHROPIC).content[0].text

    agent()
    assert tracer.flush(5)
    [trace] = arc.received
    [tool_span] = [s for s in trace["spans"] if s["kind"] == "tool"]
    assert tool_span["name"] == "search" and tool_span["input"] == {"query": "refund policy"}
    assert tool_span["output"] == "search backend down"
    assert tool_span["error"]["type"] == "ToolError"
