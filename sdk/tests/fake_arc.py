"""A stdlib server that speaks the Arc Eval API contract, for the SDK's and the CLI's tests."""

from __future__ import annotations

import gzip
import json
import threading
import uuid
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

KEY = "arc_test_key"


class FakeArc(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.key = KEY
        self.batches: list[list[dict[str, Any]]] = []
        self.traces: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.otlp: list[tuple[str, bytes]] = []
        self.scripted: deque[tuple[int, dict[str, str], Any]] = deque()  # answers given before the real one
        self.batch_event = threading.Event()
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    @property
    def received(self) -> list[dict[str, Any]]:
        return [t for batch in self.batches for t in batch]


def _analysis(trace: dict[str, Any]) -> dict[str, Any]:
    """Shaped like the server's GET /api/v1/traces/{id}/analysis."""
    failed = trace.get("success") is False or bool(trace.get("error"))
    findings = [{"rule": "email", "severity": "high", "span_id": "s1", "field": "output", "path": "$.answer",
                 "offset": 10, "length": 16, "masked": "j***@example.com"}] if failed else []
    return {
        "status": "done", "verdict": not failed, "success": not failed, "score": 42.0 if failed else 97.0,
        "grade": "F" if failed else "A+", "cost_usd": "0.00120000", "duration_ms": 1234.0,
        "details": {
            "failure": {"category": "tool_timeout", "message": "search timed out after 30s", "step": "search"}
            if failed else None,
            "issues": [{"category": "tool_timeout", "name": "search", "message": "search timed out after 30s"}]
            if failed else [],
            "tools": [{"name": "search", "calls": 2, "failures": 1 if failed else 0, "unknown_calls": 0,
                       "invalid_calls": 0, "p50_ms": 812.0}],
            "cost": {"headline": {"text": "cost $0.0012/run, 20% reduction possible"}},
            "compliance": {"passed": not failed, "count": len(findings), "findings": findings},
        },
    }


class _Handler(BaseHTTPRequestHandler):
    server: FakeArc

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, data: Any, headers: dict[str, str] | None = None, raw: bytes | None = None) -> None:
        body = raw if raw is not None else json.dumps(data).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/pdf" if raw is not None else "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _authorised(self) -> bool:
        if self.headers.get("Authorization") != f"Bearer {self.server.key}":
            self._send(401, {"error": {"code": "invalid_api_key", "message": "Invalid API key."}})
            return False
        return True

    def _body(self) -> Any:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding") == "gzip":
            raw = gzip.decompress(raw)
        return json.loads(raw or b"null")

    def _scripted(self) -> bool:
        with self.server.lock:
            if not self.server.scripted:
                return False
            status, headers, data = self.server.scripted.popleft()
        self._send(status, data, headers)
        return True

    def do_POST(self) -> None:
        self.server.requests.append(("POST", self.path, dict(self.headers)))
        if self._scripted() or not self._authorised():
            return
        path = urlparse(self.path).path
        if path == "/v1/traces":  # OTLP/HTTP: kept raw, the real decoding is the server's job
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.server.otlp.append((self.headers.get("Content-Type", ""), raw))
            self._send(200, {})
            return
        body = self._body()
        if path == "/api/v1/traces":
            items = body if isinstance(body, list) else [body]
            accepted, errors, out = [], [], []
            for i, item in enumerate(items):
                if not isinstance(item, dict) or not item.get("agent_id"):
                    errors.append({"index": i, "field": "$.agent_id", "message": "This field is required."})
                    continue
                ident = str(uuid.uuid4())
                self.server.traces[ident] = {**item, "id": ident}
                accepted.append(item)
                out.append({"index": i, "id": ident, "trace_id": item.get("trace_id"),
                            "url": f"{self.server.url}/t/{ident}",
                            "analysis_url": f"{self.server.url}/api/v1/traces/{ident}/analysis"})
            self.server.batches.append(accepted)
            self.server.batch_event.set()
            self._send(202 if accepted or not errors else 400,
                       {"accepted": len(accepted), "traces": out, "errors": errors})
        elif path == "/api/v1/baselines":
            self._send(201, {"id": "base-1", **(body or {})})
        elif path == "/api/v1/reports":
            self._send(201, {"id": "rep-1", "agent": (body or {}).get("agent"), "url": f"{self.server.url}/r/tok"})
        else:
            self._send(404, {"error": {"message": "not found"}})

    def do_GET(self) -> None:
        self.server.requests.append(("GET", self.path, dict(self.headers)))
        if self._scripted() or not self._authorised():
            return
        parsed = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        parts = [p for p in parsed.path.split("/") if p][2:]  # after api/v1
        traces = self.server.traces
        if parts == ["traces"]:
            rows = [t for t in reversed(list(traces.values()))
                    if (not query.get("agent") or t.get("agent_id") == query["agent"])
                    and (query.get("success") is None
                         or (query["success"] == "false") == (t.get("success") is False or bool(t.get("error"))))]
            start = int(query.get("cursor", 0))
            limit = int(query.get("limit", 50))
            page = rows[start:start + limit]
            nxt = None
            if start + limit < len(rows):
                nxt = f"{self.server.url}/api/v1/traces?limit={limit}&cursor={start + limit}"
            self._send(200, {"next": nxt, "results": [{"id": t["id"], "agent_id": t["agent_id"],
                                                       "success": _analysis(t)["success"]} for t in page]})
        elif len(parts) >= 2 and parts[0] == "traces":
            trace = traces.get(parts[1])
            if trace is None:
                self._send(404, {"error": {"message": "Not found."}})
            elif len(parts) == 2:
                self._send(200, trace)
            elif parts[2] == "analysis":
                self._send(200, _analysis(trace))
            elif parts[2] == "scenarios":
                self._send(200, {"trace": parts[1], "pattern": None,
                                 "scenarios": [{"name": "Search tool times out", "input": {"question": "refund?"},
                                                "expected_behaviour": "answers after one retry"}]})
            elif parts[2] == "improvements":
                self._send(200, {"trace": parts[1], "fixes": [
                    {"title": "Retry the search tool", "description": "3 of 5 failures are timeouts",
                     "impact": {"runs_addressed": 3, "share_of_failures": 0.6, "reliability_pp": 12.5},
                     "code": "@retry(tries=3)\ndef search(q): ..."}], "savings": [], "issues": []})
        elif parts == ["agents"]:
            agents = sorted({t["agent_id"] for t in traces.values()})
            self._send(200, {"next": None, "results": [{"id": a, "name": a} for a in agents]})
        elif len(parts) == 3 and parts[0] == "agents" and parts[2] == "reliability":
            self._send(200, {"agent": parts[1], "window": query.get("window", "7d"), "score": 0.9, "grade": "A-"})
        elif parts == ["compare"]:
            self._send(200, {"agent": "bot", "baseline": {"id": query.get("baseline")},
                             "current": {"start": None, "end": None},
                             "metrics": [{"metric": "reliability", "before": 0.8, "after": 0.9, "delta": 0.1,
                                          "p_value": 0.01, "significant": True, "better": True},
                                         {"metric": "latency_mean_ms", "before": 2100.0, "after": 1800.0,
                                          "delta": -300.0, "p_value": 0.2, "significant": False, "better": True}]})
        elif parts == ["patterns"]:
            self._send(200, {"next": None, "results": []})
        elif parts == ["reports", "rep-1", "pdf"]:
            self._send(200, None, raw=b"%PDF-1.4 fake report\n%%EOF\n")
        else:
            self._send(404, {"error": {"message": "not found"}})


def start() -> FakeArc:
    server = FakeArc()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
