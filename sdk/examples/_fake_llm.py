"""A local stand-in for the OpenAI and Anthropic HTTP APIs, so examples and tests run offline.

It speaks the real wire format (JSON bodies and server-sent events). Given tools and no tool result
yet, the "model" calls the first tool; otherwise it answers in text.

    server, url = start()   # url like http://127.0.0.1:PORT
    OpenAI(base_url=url + "/v1", api_key="fake"); Anthropic(base_url=url, api_key="fake")
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

USAGE_IN, USAGE_OUT, CACHED = 42, 7, 5


def _tool_to_call(body: dict[str, Any]) -> Any:
    tools = body.get("tools") or []
    history = body.get("messages") or body.get("input") or []
    answered = any(
        isinstance(m, dict) and (m.get("role") == "tool" or m.get("type") == "function_call_output"
                                 or (isinstance(m.get("content"), list)
                                     and any(isinstance(c, dict) and c.get("type") == "tool_result"
                                             for c in m["content"])))
        for m in (history if isinstance(history, list) else [])
    )
    if not tools or answered:
        return None
    tool = tools[0]
    return tool.get("name") or (tool.get("function") or {}).get("name")


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        self.server.requests.append((self.path, body))  # type: ignore[attr-defined]
        tool = _tool_to_call(body)
        model = body.get("model", "fake-model")
        if self.path.endswith("/chat/completions"):
            self._chat(body, model, tool)
        elif self.path.endswith("/responses"):
            self._responses(body, model, tool)
        elif self.path.endswith("/messages"):
            self._anthropic(body, model, tool)
        else:
            self._json({"error": {"message": "not found"}}, 404)

    # -- helpers ---------------------------------------------------------------------------------------------
    def _json(self, data: Any, status: int = 200) -> None:
        raw = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _sse(self, events: list[tuple[Any, Any]]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        for name, data in events:
            chunk = (f"event: {name}\n" if name else "") + f"data: {data if isinstance(data, str) else json.dumps(data)}\n\n"
            self.wfile.write(chunk.encode())
            self.wfile.flush()
        self.close_connection = True

    # -- OpenAI chat completions ------------------------------------------------------------------------------
    def _chat(self, body: dict[str, Any], model: str, tool: Any) -> None:
        usage = {"prompt_tokens": USAGE_IN, "completion_tokens": USAGE_OUT, "total_tokens": USAGE_IN + USAGE_OUT,
                 "prompt_tokens_details": {"cached_tokens": CACHED}}
        call = {"id": "call_1", "type": "function", "function": {"name": tool, "arguments": '{"query": "refund policy"}'}}
        text = "Refunds are possible within 30 days."
        base = {"id": "chatcmpl-1", "created": int(time.time()), "model": model}
        if not body.get("stream"):
            message = {"role": "assistant", "content": None if tool else text, "refusal": None}
            if tool:
                message["tool_calls"] = [call]
            self._json({**base, "object": "chat.completion", "usage": usage,
                        "choices": [{"index": 0, "message": message, "logprobs": None,
                                     "finish_reason": "tool_calls" if tool else "stop"}]})
            return
        chunk = {**base, "object": "chat.completion.chunk"}
        if tool:
            deltas = [{"role": "assistant", "tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                                                            "function": {"name": tool, "arguments": ""}}]},
                      {"tool_calls": [{"index": 0, "function": {"arguments": '{"query": '}}]},
                      {"tool_calls": [{"index": 0, "function": {"arguments": '"refund policy"}'}}]}]
        else:
            deltas = [{"role": "assistant", "content": ""}, {"content": "Refunds are possible "},
                      {"content": "within 30 days."}]
        events: list[tuple[Any, Any]] = [
            (None, {**chunk, "choices": [{"index": 0, "delta": d, "finish_reason": None}]}) for d in deltas
        ]
        events.append((None, {**chunk, "choices": [{"index": 0, "delta": {},
                                                    "finish_reason": "tool_calls" if tool else "stop"}]}))
        if (body.get("stream_options") or {}).get("include_usage"):
            events.append((None, {**chunk, "choices": [], "usage": usage}))
        events.append((None, "[DONE]"))
        self._sse(events)

    # -- OpenAI responses ---------------------------------------------------------------------------------------
    def _responses(self, body: dict[str, Any], model: str, tool: Any) -> None:
        if tool:
            output = [{"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": tool,
                       "arguments": '{"query": "refund policy"}', "status": "completed"}]
        else:
            output = [{"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
                       "content": [{"type": "output_text", "text": "Refunds are possible within 30 days.",
                                    "annotations": []}]}]
        response = {"id": "resp_1", "object": "response", "created_at": time.time(), "model": model,
                    "status": "completed", "output": output, "parallel_tool_calls": True, "tool_choice": "auto",
                    "tools": [], "usage": {"input_tokens": USAGE_IN, "output_tokens": USAGE_OUT,
                                           "total_tokens": USAGE_IN + USAGE_OUT,
                                           "input_tokens_details": {"cached_tokens": CACHED},
                                           "output_tokens_details": {"reasoning_tokens": 0}}}
        if not body.get("stream"):
            self._json(response)
            return
        started = {**response, "status": "in_progress", "output": [], "usage": None}
        self._sse([("response.created", {"type": "response.created", "sequence_number": 0, "response": started}),
                   ("response.completed", {"type": "response.completed", "sequence_number": 1,
                                           "response": response})])

    # -- Anthropic messages -------------------------------------------------------------------------------------
    def _anthropic(self, body: dict[str, Any], model: str, tool: Any) -> None:
        text = "Refunds are possible within 30 days."
        content: list[dict[str, Any]] = ([{"type": "tool_use", "id": "toolu_1", "name": tool,
                                            "input": {"query": "refund policy"}}] if tool
                                          else [{"type": "text", "text": text}])
        usage = {"input_tokens": USAGE_IN, "output_tokens": USAGE_OUT, "cache_read_input_tokens": CACHED,
                 "cache_creation_input_tokens": 0}
        stop = "tool_use" if tool else "end_turn"
        message = {"id": "msg_1", "type": "message", "role": "assistant", "model": model, "content": content,
                   "stop_reason": stop, "stop_sequence": None, "usage": usage}
        if not body.get("stream"):
            self._json(message)
            return
        start = {**message, "content": [], "stop_reason": None, "usage": {**usage, "output_tokens": 1}}
        events: list[tuple[Any, Any]] = [("message_start", {"type": "message_start", "message": start})]
        if tool:
            events += [
                ("content_block_start", {"type": "content_block_start", "index": 0,
                                         "content_block": {"type": "tool_use", "id": "toolu_1", "name": tool,
                                                           "input": {}}}),
                ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                         "delta": {"type": "input_json_delta", "partial_json": '{"query": '}}),
                ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                         "delta": {"type": "input_json_delta", "partial_json": '"refund policy"}'}}),
            ]
        else:
            events += [
                ("content_block_start", {"type": "content_block_start", "index": 0,
                                         "content_block": {"type": "text", "text": ""}}),
                ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                         "delta": {"type": "text_delta", "text": "Refunds are possible "}}),
                ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                         "delta": {"type": "text_delta", "text": "within 30 days."}}),
            ]
        events += [
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            ("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                               "usage": {"output_tokens": USAGE_OUT}}),
            ("message_stop", {"type": "message_stop"}),
        ]
        self._sse(events)


def start(port: int = 0) -> tuple[ThreadingHTTPServer, str]:
    """Serve in a daemon thread; returns the server (call .shutdown()) and its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
    server.requests = []  # type: ignore[attr-defined]
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


if __name__ == "__main__":
    srv, url = start(8009)
    print(f"fake OpenAI/Anthropic API at {url} (Ctrl-C to stop)")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        srv.shutdown()
