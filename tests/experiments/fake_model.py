"""A scripted OpenAI-compatible model server on a real local socket, for the replay tests.

`answers` maps a prompt to the answer the candidate model gives; a request with a response_format is a judge
call, answered "equivalent" unless the candidate's text holds NOT-EQUIVALENT. Every request is kept with its
headers, so tests can see what was sent and how often.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

USAGE = {"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100}


def serve(answers: dict[str, str]):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            server.requests.append({"path": self.path, "body": body, "authorization": self.headers.get("Authorization")})
            messages = body.get("messages") or []
            if body.get("response_format"):
                candidate = messages[-1]["content"].split("<candidate>")[-1]
                content = json.dumps({"equivalent": "NOT-EQUIVALENT" not in candidate,
                                      "reasoning": "scripted judge"})
            else:
                content = answers.get(messages[-1]["content"], "no script for this prompt")
            data = json.dumps({"id": "chatcmpl-1", "object": "chat.completion", "created": 0,
                               "model": body.get("model"), "usage": USAGE,
                               "choices": [{"index": 0, "finish_reason": "stop",
                                            "message": {"role": "assistant", "content": content}}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.requests = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/v1"
