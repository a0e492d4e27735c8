"""A small synchronous client for the Arc Eval REST API (what the CLI uses)."""

from __future__ import annotations

import errno
import gzip
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Optional

from ._version import __version__


class ApiError(Exception):
    """A failed call, with a message meant for a person and the HTTP status (0: no answer)."""

    def __init__(self, message: str, status: int = 0, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class ApiClient:
    def __init__(self, base_url: str, api_key: Optional[str], timeout: float = 30.0, retries: int = 3) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.retries = retries

    def request(self, method: str, path: str, body: Any = None, params: Optional[dict[str, Any]] = None,
                raw: bool = False) -> Any:
        url = path if path.startswith("http") else self.base_url + path
        if params:
            query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
            url += ("&" if "?" in url else "?") + query
        headers = {"Accept": "application/json", "User-Agent": f"arc-eval-cli/{__version__}"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        data = None
        if body is not None:
            data = json.dumps(body, separators=(",", ":"), default=str).encode()
            headers["Content-Type"] = "application/json"
            if len(data) > 1024:
                data = gzip.compress(data)
                headers["Content-Encoding"] = "gzip"
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                    payload = response.read()
                return payload if raw else json.loads(payload or b"null")
            except urllib.error.HTTPError as exc:
                detail = _error_body(exc.read())
                if exc.code in (429, 503) and attempt < self.retries:
                    time.sleep(min(_seconds(exc.headers.get("Retry-After")), 30.0))
                    continue
                raise ApiError(_http_message(exc.code, detail, self.base_url), exc.code, detail) from None
            except (urllib.error.URLError, OSError) as exc:
                raise ApiError(f"cannot reach {self.base_url}: {_reason(exc)}") from None
            except ValueError:
                raise ApiError(f"{self.base_url} answered with something that is not JSON") from None
        raise ApiError("retries exhausted")  # pragma: no cover - the loop returns or raises

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params or None)

    def post(self, path: str, body: Any) -> Any:
        return self.request("POST", path, body)

    def paginate(self, path: str, limit: Optional[int] = None, **params: Any) -> list[Any]:
        """Follow ``next`` links until ``limit`` results (or the end)."""
        results: list[Any] = []
        page: Any = self.get(path, limit=limit, **params)
        while True:
            items = page.get("results", []) if isinstance(page, dict) else page
            results.extend(items or [])
            nxt = page.get("next") if isinstance(page, dict) else None
            if not nxt or (limit is not None and len(results) >= limit):
                return results[:limit] if limit is not None else results
            page = self.request("GET", nxt)


def _seconds(value: Optional[str]) -> float:
    try:
        return max(0.0, float(value or 1))
    except ValueError:
        return 1.0


def _reason(exc: BaseException) -> str:
    reason: Any = getattr(exc, "reason", exc)
    if isinstance(reason, ConnectionRefusedError) or getattr(reason, "errno", None) == errno.ECONNREFUSED:
        return "connection refused"
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return "timed out"
    if isinstance(reason, socket.gaierror):
        return "unknown host"
    return str(getattr(reason, "strerror", None) or reason)


def _error_body(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw[:300].decode("utf-8", "replace")


def _http_message(status: int, detail: Any, base_url: str) -> str:
    message = detail
    if isinstance(detail, dict):
        inner = detail.get("error", detail)
        message = inner.get("message") or inner.get("detail") if isinstance(inner, dict) else inner
        message = message or detail.get("detail") or json.dumps(detail)[:300]
    if status == 401:
        return f"the API key was refused by {base_url} (401): run `arc-eval login` or set ARC_API_KEY"
    if status == 403:
        return f"forbidden (403): {message}"
    if status == 404:
        return f"not found (404): {message}"
    return f"HTTP {status}: {message}"
