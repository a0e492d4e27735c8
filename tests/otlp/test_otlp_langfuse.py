"""The migration door: what the real `langfuse` SDK's @observe exports, decoded.

The SDK is pointed at a local stdlib HTTP server that records the OTLP bodies it POSTs to
/api/public/otel/v1/traces (protobuf, gzip), exactly what Arc Eval's receiver gets.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from evaluations.engine import evaluate, to_trace
from traces.otlp import decode_otlp

OTEL_PATH = "/api/public/otel/v1/traces"


class Recorder(BaseHTTPRequestHandler):
    requests: list[tuple[str, dict[str, str], bytes]]

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        headers = {key.lower(): value for key, value in self.headers.items()}
        self.requests.append((self.path, headers, self.rfile.read(length)))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def langfuse_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, dict[str, str], bytes]]]:
    handler = type("Handler", (Recorder,), {"requests": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    for name, value in (("LANGFUSE_HOST", url), ("LANGFUSE_BASE_URL", url),
                        ("LANGFUSE_PUBLIC_KEY", "pk-lf-x"), ("LANGFUSE_SECRET_KEY", "sk-x")):
        monkeypatch.setenv(name, value)
    yield handler.requests
    server.shutdown()
    server.server_close()


def test_langfuse_observe_is_decoded(langfuse_server: list[tuple[str, dict[str, str], bytes]],
                                     langfuse_isolated) -> None:
    from langfuse import Langfuse, observe, propagate_attributes

    langfuse = Langfuse()

    @observe(as_type="retriever")
    def find_docs(query: str) -> list[str]:
        return [f"doc about {query}"]

    @observe(as_type="tool")
    def lookup_order(order_id: int) -> dict[str, str]:
        return {"status": "shipped"}

    @observe(as_type="generation")
    def answer(question: str) -> str:
        langfuse.update_current_generation(
            model="gpt-4o-mini",
            usage_details={"input": 120, "output": 30, "cache_read_input_tokens": 64},
            cost_details={"input": 0.0004, "output": 0.0008},
        )
        return "Your order has shipped."

    @observe(name="support-agent")
    def support_agent(question: str) -> str:
        with propagate_attributes(user_id="user-7", session_id="sess-1", tags=["prod", "eu"],
                                  metadata={"tier": "gold"}):
            find_docs(question)
            lookup_order(42)
            return answer(question)

    @observe()
    def failing_agent() -> None:
        raise RuntimeError("database unavailable")

    support_agent("where is my order?")
    with pytest.raises(RuntimeError):
        failing_agent()
    langfuse.flush()
    langfuse.shutdown()

    exports = [(headers, body) for path, headers, body in langfuse_server if path == OTEL_PATH]
    assert exports, "the langfuse SDK exported nothing"
    traces = [trace for headers, body in exports
              for trace in decode_otlp(body, content_type=headers["content-type"],
                                       content_encoding=headers.get("content-encoding", ""))]
    by_agent = {trace["agent_id"]: trace for trace in traces}
    assert set(by_agent) == {"support-agent", "failing_agent"}

    trace = by_agent["support-agent"]
    spans = {span["name"]: span for span in trace["spans"]}
    assert [s["kind"] for s in trace["spans"]] == ["chain", "retrieval", "tool", "llm"]
    assert trace["metadata"]["source"] == "langfuse" and trace["metadata"]["tier"] == "gold"
    assert trace["input"] == {"args": ["where is my order?"], "kwargs": {}}
    assert trace["output"] == "Your order has shipped."
    assert (trace["user_id"], trace["session_id"], trace["tags"]) == ("user-7", "sess-1", ["prod", "eu"])
    root = spans["support-agent"]
    assert {spans[name]["parent_id"] for name in ("find_docs", "lookup_order", "answer")} == {root["span_id"]}
    assert spans["lookup_order"]["input"] == {"args": [42], "kwargs": {}}
    assert spans["lookup_order"]["output"] == {"status": "shipped"}
    generation = spans["answer"]
    assert generation["model"] == "gpt-4o-mini"
    assert generation["usage"] == {"input_tokens": 120, "output_tokens": 30, "cached_tokens": 64}
    assert generation["cost_usd"] == "0.0012"
    run = evaluate(to_trace(trace))
    assert (run.success, run.llm_calls, run.tool_calls, str(run.cost_usd)) == (True, 1, 1, "0.0012")

    failed = by_agent["failing_agent"]
    assert failed["success"] is False
    assert failed["error"]["message"] == "database unavailable"
    assert evaluate(to_trace(failed)).success is False
