from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

import arc_eval
from arc_eval import ArcTracer, TracedThreadPoolExecutor, span, tool, wrap_context


def traces(tracer: ArcTracer, arc: Any) -> list[dict[str, Any]]:
    assert tracer.flush(5)
    return arc.received


@tool
def search(query: str) -> list[str]:
    return [f"doc about {query}"]


def test_sync_run_records_input_output_and_nested_spans(tracer, arc):
    @tracer.trace_agent
    def support_bot(question: str, *, lang: str = "en") -> dict:
        docs = search(question)
        with tracer.span("rank", kind="retrieval", input={"n": len(docs)}) as s:
            with span("llm-call", kind="llm") as inner:
                inner.set_model("gpt-4o-mini", "openai").set_usage(10, 3)
                inner.set_output("ok")
            s.set_output(docs[:1])
        return {"answer": docs[0]}

    assert support_bot("refunds", lang="fr") == {"answer": "doc about refunds"}
    [trace] = traces(tracer, arc)
    assert trace["agent_id"] == "support_bot"
    assert len(trace["trace_id"]) == 32
    assert trace["input"] == {"question": "refunds", "lang": "fr"}
    assert trace["output"] == {"answer": "doc about refunds"}
    assert trace["duration_ms"] >= 0 and trace["started_at"].endswith("Z")
    by_name = {s["name"]: s for s in trace["spans"]}
    assert by_name["search"]["kind"] == "tool" and by_name["search"]["parent_id"] is None
    assert by_name["search"]["input"] == {"query": "refunds"}
    assert by_name["search"]["output"] == ["doc about refunds"]
    assert by_name["rank"]["parent_id"] is None
    assert by_name["llm-call"]["parent_id"] == by_name["rank"]["span_id"]
    assert by_name["llm-call"]["usage"] == {"input_tokens": 10, "output_tokens": 3, "cached_tokens": 0}
    assert by_name["llm-call"]["model"] == "gpt-4o-mini"


def test_exception_is_reraised_unchanged_and_recorded(tracer, arc):
    boom = TimeoutError("search timed out")

    @tracer.trace_agent
    def agent() -> None:
        raise boom

    with pytest.raises(TimeoutError) as caught:
        agent()
    assert caught.value is boom
    [trace] = traces(tracer, arc)
    assert trace["success"] is False
    assert trace["error"]["type"] == "TimeoutError"
    assert trace["error"]["message"] == "search timed out"
    assert "raise boom" in trace["error"]["traceback"]


def test_async_function_and_concurrent_tasks_keep_their_own_spans(tracer, arc):
    @tool(name="fetch")
    async def fetch(i: int) -> int:
        await asyncio.sleep(0.01)
        return i

    @tracer.trace_agent(agent_id="async-bot")
    async def agent(n: int) -> int:
        async def step(i: int) -> int:
            with span(f"step-{i}", kind="chain"):
                return await fetch(i)

        return sum(await asyncio.gather(*(step(i) for i in range(n))))

    async def main() -> list[int]:
        return await asyncio.gather(agent(3), agent(2))

    assert asyncio.run(main()) == [3, 1]
    received = traces(tracer, arc)
    assert sorted(len(t["spans"]) for t in received) == [4, 6]
    for trace in received:
        assert trace["agent_id"] == "async-bot"
        ids = {s["span_id"]: s for s in trace["spans"]}
        for s in trace["spans"]:
            if s["name"] == "fetch":
                assert ids[s["parent_id"]]["name"] == f"step-{s['input']['i']}"


def test_generator_output_and_context_only_inside_the_generator(tracer, arc):
    @tracer.trace_agent
    def streamer(n: int):
        for i in range(n):
            with span(f"chunk-{i}"):
                pass
            yield i

    seen = []
    for item in streamer(3):
        assert arc_eval.current_span() is None  # the run does not leak into the consumer
        seen.append(item)
    assert seen == [0, 1, 2]
    [trace] = traces(tracer, arc)
    assert trace["output"] == [0, 1, 2]
    assert [s["name"] for s in trace["spans"]] == ["chunk-0", "chunk-1", "chunk-2"]


def test_async_generator(tracer, arc):
    @tracer.trace_agent
    async def astream(n: int):
        for i in range(n):
            yield i * 10

    async def main() -> list[int]:
        return [x async for x in astream(2)]

    assert asyncio.run(main()) == [0, 10]
    [trace] = traces(tracer, arc)
    assert trace["output"] == [0, 10] and trace["agent_id"] == "astream"


def test_generator_error_is_recorded_and_reraised(tracer, arc):
    @tracer.trace_agent
    def broken():
        yield 1
        raise ValueError("bad chunk")

    with pytest.raises(ValueError, match="bad chunk"):
        list(broken())
    [trace] = traces(tracer, arc)
    assert trace["output"] is None  # a run that raised has no output, whatever it yielded before
    assert trace["error"]["type"] == "ValueError"


def test_callable_object_and_bound_method(tracer, arc):
    class AgentExecutor:
        def invoke(self, inputs: dict) -> dict:
            return {"output": inputs["input"].upper()}

        def __call__(self, text: str) -> str:
            return text[::-1]

    executor = AgentExecutor()
    invoke = tracer.trace_agent(executor.invoke)
    assert invoke({"input": "hi"}) == {"output": "HI"}
    assert tracer.trace_agent(executor)("abc") == "cba"
    received = traces(tracer, arc)
    assert [t["agent_id"] for t in received] == ["AgentExecutor.invoke", "AgentExecutor"]
    assert received[0]["input"] == {"inputs": {"input": "hi"}}


def test_nested_agent_becomes_an_agent_span(tracer, arc):
    @tracer.trace_agent
    def researcher(topic: str) -> str:
        return f"notes on {topic}"

    @tracer.trace_agent
    def manager(topic: str) -> str:
        return researcher(topic) + "!"

    manager("tax")
    [trace] = traces(tracer, arc)
    assert trace["agent_id"] == "manager"
    assert trace["spans"][0]["kind"] == "agent" and trace["spans"][0]["name"] == "researcher"
    assert trace["spans"][0]["output"] == "notes on tax"


def test_context_crosses_threads_with_the_helpers(tracer, arc):
    @tracer.trace_agent
    def fan_out(n: int) -> int:
        with TracedThreadPoolExecutor(max_workers=3) as pool:
            results = list(pool.map(lambda i: search(str(i)), range(n)))  # map goes through submit
        thread = threading.Thread(target=wrap_context(lambda: search("thread")))
        thread.start()
        thread.join()
        return len(results)

    assert fan_out(3) == 3
    [trace] = traces(tracer, arc)
    assert sorted(s["input"]["query"] for s in trace["spans"]) == ["0", "1", "2", "thread"]


def test_tool_outside_a_run_just_runs(tracer, arc):
    assert search("x") == ["doc about x"]
    with span("alone") as s:
        s.set_output(1)
    assert tracer.flush(2)
    assert arc.received == []


def test_redaction_hook_sees_every_payload(arc):
    def redact(value: Any) -> Any:
        if isinstance(value, str):
            return value.replace("alice@example.com", "[email]")
        if isinstance(value, dict):
            return {k: redact(v) for k, v in value.items()}
        if isinstance(value, list):
            return [redact(v) for v in value]
        return value

    t = ArcTracer(api_key="arc_test_key", base_url=arc.url, redact=redact, flush_at_exit=False)

    @t.trace_agent
    def mailer(to: str) -> str:
        with span("send", kind="tool", input={"to": to}) as s:
            s.set_output(f"sent to {to}")
        raise RuntimeError(f"bounce from {to}")

    with pytest.raises(RuntimeError):
        mailer("alice@example.com")
    assert t.flush(5)
    text = repr(arc.received)
    assert "alice@example.com" not in text and "[email]" in text


def test_sampling_zero_records_nothing_and_one_records_all(arc):
    none = ArcTracer(api_key="arc_test_key", base_url=arc.url, sample_rate=0.0, flush_at_exit=False)
    traced = none.trace_agent(lambda: search("q"))
    assert traced() == ["doc about q"]
    assert none.flush(2) and arc.received == []
    half = ArcTracer(api_key="arc_test_key", base_url=arc.url, sample_rate=0.5, flush_at_exit=False)
    f = half.trace_agent(lambda: 1)
    for _ in range(400):
        f()
    assert half.flush(5)
    assert 120 < len(arc.received) < 280


def test_memory_capture_records_the_peak(tracer, arc):
    t = ArcTracer(api_key="arc_test_key", base_url=arc.url, capture_memory=True, flush_at_exit=False)

    @t.trace_agent
    def hungry() -> int:
        blob = bytearray(2_000_000)
        return len(blob)

    hungry()
    assert t.flush(5)
    assert arc.received[0]["metadata"]["memory_peak_bytes"] >= 2_000_000


def test_update_trace_and_unserialisable_values(tracer, arc):
    class Opaque:
        def __repr__(self) -> str:
            return "<Opaque>"

    @tracer.trace_agent
    def agent(obj: Any) -> Any:
        arc_eval.update_trace(session_id="sess-1", user_id="u-9", tags=["beta"], metadata={"plan": "pro"})
        return {"obj": obj, "big": "x" * 50_000, "bytes": b"\x00\x01"}

    agent(Opaque())
    [trace] = traces(tracer, arc)
    assert trace["session_id"] == "sess-1" and trace["user_id"] == "u-9" and trace["tags"] == ["beta"]
    assert trace["metadata"]["plan"] == "pro"
    assert trace["input"] == {"obj": "<Opaque>"}
    assert len(trace["output"]["big"]) < 11_000 and trace["output"]["bytes"] == "<bytes len=2>"


def test_disabled_tracer_is_a_pass_through(arc):
    t = ArcTracer(api_key="arc_test_key", base_url=arc.url, enabled=False, flush_at_exit=False)
    assert t.trace_agent(lambda x: x + 1)(1) == 2
    assert t.flush(1) and arc.received == []


def test_module_level_decorator_uses_the_default_tracer(arc, monkeypatch):
    monkeypatch.setenv("ARC_API_KEY", "arc_test_key")
    monkeypatch.setenv("ARC_BASE_URL", arc.url)

    @arc_eval.trace_agent
    def default_bot() -> str:
        return "ok"

    tracer = arc_eval.configure(agent_id="configured-later", flush_at_exit=False)
    default_bot()
    assert arc_eval.flush(5)
    assert arc.received[-1]["agent_id"] == "configured-later"
    assert tracer.stats.sent >= 1
    time.sleep(0)


def test_arguments_are_recorded_at_entry_and_the_result_at_return(tracer, arc):
    @tracer.trace_agent
    def support_bot(messages: list) -> dict:
        messages.append({"role": "assistant", "content": "draft appended during the run"})
        return {"answer": "Paris", "sources": ["atlas"]}

    messages = [{"role": "user", "content": "capital of France?"}]
    result = support_bot(messages)
    result["answer"] = "changed after return"
    result["sources"].append("added after return")
    messages.append({"role": "user", "content": "turn added after the run"})
    [trace] = traces(tracer, arc)
    assert trace["input"] == {"messages": [{"role": "user", "content": "capital of France?"}]}
    assert trace["output"] == {"answer": "Paris", "sources": ["atlas"]}


def test_tool_arguments_and_results_are_snapshots_too(tracer, arc):
    @tool
    def collect(bucket: list) -> list:
        bucket.append("during the tool")
        return bucket

    @tracer.trace_agent
    def agent() -> str:
        bucket = ["before"]
        collect(bucket).append("after the tool returned")
        return "ok"

    agent()
    [trace] = traces(tracer, arc)
    [span] = trace["spans"]
    assert span["input"] == {"bucket": ["before"]}
    assert span["output"] == ["before", "during the tool"]
