"""Scripted model servers on real local sockets for the judges tests: one OpenAI-compatible, one Anthropic-shaped.

Each answers a verdict call with the schema's object (passed unless the prompt holds WRONG-ANSWER), 1,000 input
and 100 output tokens. A test scripts the next answers: an HTTP status (429 then success), a delay (a timeout),
or a malformed verdict. Every request is kept with its headers and body; the most calls answered at once too.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

WRONG = "WRONG-ANSWER"


class ModelServer:
    def __init__(self, kind: str):
        self.kind = kind
        self.requests: list[dict] = []
        self.script: list[dict] = []  # the next answers' overrides: {"status": 429} / {"delay": 2} / {"malformed": 1}
        self.delay = 0.0
        self.in_flight = self.most_in_flight = 0  # verdict calls being answered at once, and the most seen
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                with server.lock:
                    step = server.script.pop(0) if server.script else {}
                if step.get("status"):
                    self.reply(step["status"], {"error": {"message": "scripted", "type": "authentication_error"}})
                    return
                self.reply(200, {"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model", "created": 0,
                                                              "owned_by": "test"}]} if server.kind == "openai" else
                           {"data": [{"type": "model", "id": "claude-haiku-4-5", "display_name": "Haiku",
                                      "created_at": "2025-10-01T00:00:00Z"}], "has_more": False})

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = json.loads(raw or b"{}")
                with server.lock:
                    step = server.script.pop(0) if server.script else {}
                    server.requests.append({"path": self.path, "body": body, "text": raw.decode(),
                                            "headers": {k.lower(): v for k, v in self.headers.items()}, "status": step.get("status", 200)})
                    server.in_flight += 1
                    server.most_in_flight = max(server.most_in_flight, server.in_flight)
                time.sleep(step.get("delay", server.delay))
                with server.lock:
                    server.in_flight -= 1
                if step.get("status"):
                    self.reply(step["status"], {"error": {"message": "scripted", "type": "rate_limit_error"}},
                               {"retry-after-ms": "50"})
                    return
                verdict = {"passed": WRONG not in raw.decode(), "score": 0.0 if WRONG in raw.decode() else 1.0,
                           "category": "", "reasoning": "scripted"}
                if step.get("malformed"):
                    verdict = {"passed": "yes", "reasoning": 3}
                self.reply(200, server.openai_reply(body, verdict) if server.kind == "openai"
                           else server.anthropic_reply(body, verdict))

            def reply(self, status, payload, headers=None):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        port = self.httpd.server_address[1]
        return f"http://127.0.0.1:{port}/v1" if self.kind == "openai" else f"http://127.0.0.1:{port}"

    @staticmethod
    def openai_reply(body, verdict):
        return {"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": body.get("model"),
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": json.dumps(verdict)}}],
                "usage": {"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100}}

    @staticmethod
    def anthropic_reply(body, verdict):
        tool = (body.get("tool_choice") or {}).get("name", "record_verdict")
        return {"id": "msg_1", "type": "message", "role": "assistant", "model": body.get("model"),
                "content": [{"type": "tool_use", "id": "toolu_1", "name": tool, "input": verdict}],
                "stop_reason": "tool_use", "stop_sequence": None,
                "usage": {"input_tokens": 1000, "output_tokens": 100}}

    def calls(self) -> list[dict]:
        return [r for r in self.requests if r["status"] == 200]

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def openai_server(settings):
    settings.ARC_MODEL_ENDPOINTS_ALLOW_PRIVATE = True
    server = ModelServer("openai")
    yield server
    server.stop()


@pytest.fixture
def anthropic_server(settings):
    settings.ARC_MODEL_ENDPOINTS_ALLOW_PRIVATE = True
    server = ModelServer("anthropic")
    yield server
    server.stop()


def judge_objects(tenant) -> dict:
    """A connection, a judge and a score of `tenant`, for the walkers over every route."""
    from arcweb.encryption import seal
    from judges.models import Judge, ModelConnection, Score
    from traces.models import Trace

    connection = ModelConnection.objects.create(organisation=tenant.organisation, name="walked",
                                                base_url="https://api.example.com/v1",
                                                api_key=seal("sk-walked-12345678"), default_model="gpt-4o-mini")
    judge = Judge.objects.create(organisation=tenant.organisation, name="walked", connection=connection,
                                 enabled=False)
    trace = Trace.objects.for_org(tenant.organisation).first()
    if trace is not None:
        Score.objects.create(organisation=tenant.organisation, trace=trace, name="walked", value=1.0)
    return {"connection_id": connection.id, "judge_id": judge.id}
