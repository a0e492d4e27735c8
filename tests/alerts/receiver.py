"""A webhook receiver on a real local socket for the alerts tests: it keeps every request (path, headers, raw body)
and answers the status codes it was scripted with, then 200."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self, answers: list[int] | None = None):
        self.answers = list(answers or [])
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    code = receiver.answers.pop(0) if receiver.answers else 200
                    receiver.requests.append({"t": time.time(), "path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                              "body": body, "answered": code})
                self.send_response(code)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def bodies(self, event: str | None = None) -> list[dict]:
        with self.lock:
            found = [json.loads(r["body"]) for r in self.requests]
        return [b for b in found if event is None or b.get("event") == event]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
