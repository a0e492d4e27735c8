"""The background exporter: a bounded queue drained by one daemon thread that batches, gzips and retries.

The agent's thread only appends a reference to a deque; everything that costs (serialisation, JSON,
gzip, HTTP) happens here. Nothing in this module raises into agent code.
"""

from __future__ import annotations

import gzip
import json
import logging
import random
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Optional

from ._version import __version__

log = logging.getLogger("arc_eval")

MAX_BATCH_ITEMS = 1000  # the API's limit per request
MAX_BATCH_BYTES = 9 * 1024 * 1024  # under the API's 10 MB, before gzip
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass
class ExporterStats:
    sent: int = 0
    dropped: int = 0
    failed: int = 0
    batches: int = 0
    retries: int = 0


class _SendError(Exception):
    def __init__(self, message: str, retry: bool, retry_after: Optional[float] = None, status: int = 0):
        super().__init__(message)
        self.retry = retry
        self.retry_after = retry_after
        self.status = status


class Exporter:
    """Ships traces to ``{base_url}/api/v1/traces``; items are objects with ``to_dict()`` or plain dicts."""

    def __init__(
        self,
        base_url: str,
        api_key: Optional[str],
        *,
        batch_size: int = 100,
        flush_interval: float = 1.0,
        max_queue_size: int = 10_000,
        max_retries: Optional[int] = None,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        timeout: float = 10.0,
        on_batch: Optional[Callable[[dict[str, Any]], None]] = None,
    ) -> None:
        self.endpoint = base_url.rstrip("/") + "/api/v1/traces"
        self.api_key = api_key
        self.batch_size = max(1, min(batch_size, MAX_BATCH_ITEMS))
        self.flush_interval = flush_interval
        self.max_queue_size = max_queue_size
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.timeout = timeout
        self.on_batch = on_batch
        self.stats = ExporterStats()
        self.queue: deque[Any] = deque(maxlen=max_queue_size)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._inflight = 0
        self._warned: set[str] = set()
        self._lock = threading.Lock()
        self._thread: Optional[threading.Thread] = None

    # -- agent side: cheap and never raising -------------------------------------------------------
    def enqueue(self, item: Any) -> None:
        queue = self.queue
        if len(queue) >= self.max_queue_size:
            # Evict explicitly (not by maxlen) so the count is exact even while the exporter thread pops.
            try:
                queue.popleft()
                self.stats.dropped += 1
            except IndexError:
                pass
            self._warn_once("drop", "arc_eval: trace queue full (%d); dropping the oldest traces", self.max_queue_size)
        queue.append(item)
        if len(queue) >= self.batch_size and not self._wake.is_set():
            self._wake.set()
        if self._thread is None:
            self._start()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None and not self._stop.is_set():
                thread = threading.Thread(target=self._run, name="arc-eval-exporter", daemon=True)
                thread.start()
                self._thread = thread

    # -- exporter thread ------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            self._drain()
        self._drain()

    def _drain(self) -> None:
        while self.queue:
            batch = self._take_batch()
            if batch:
                self._send_batch(batch)
            with self._lock:
                self._inflight -= len(batch)

    def _take_batch(self) -> list[dict[str, Any]]:
        batch: list[dict[str, Any]] = []
        with self._lock:
            while self.queue and len(batch) < self.batch_size:
                try:
                    item = self.queue.popleft()
                except IndexError:
                    break
                batch.append(item)
            self._inflight += len(batch)
        out = []
        for item in batch:
            try:
                out.append(item if isinstance(item, dict) else item.to_dict())
            except Exception:
                self.stats.failed += 1
                log.debug("arc_eval: could not serialise a trace", exc_info=True)
        # keep the in-flight count in step with the raw batch, whatever serialised
        with self._lock:
            self._inflight -= len(batch) - len(out)
        return out

    def _send_batch(self, batch: list[dict[str, Any]]) -> None:
        body = json.dumps(batch, separators=(",", ":"), default=str).encode()
        if len(body) > MAX_BATCH_BYTES and len(batch) > 1:
            half = len(batch) // 2
            self._send_batch(batch[:half])
            self._send_batch(batch[half:])
            return
        attempt = 0
        while True:
            try:
                answer = self._post(body)
            except _SendError as err:
                if err.status == 413 and len(batch) > 1:
                    half = len(batch) // 2
                    self._send_batch(batch[:half])
                    self._send_batch(batch[half:])
                    return
                # By default a batch is retried until the server is back (the queue bound limits loss).
                retries_left = self.max_retries is None or attempt < self.max_retries
                if err.retry and retries_left and not self._stop.is_set():
                    delay = err.retry_after if err.retry_after is not None else self._backoff(attempt)
                    attempt += 1
                    self.stats.retries += 1
                    log.debug("arc_eval: %s; retry %d in %.2fs", err, attempt, delay)
                    self._stop.wait(min(delay, self.backoff_max * 2))
                    continue
                self.stats.failed += len(batch)
                self._warn_once(f"fail{err.status}", "arc_eval: could not send %d trace(s): %s", len(batch), err)
                return
            self.stats.batches += 1
            accepted = answer.get("accepted") if isinstance(answer, dict) else None
            accepted = accepted if isinstance(accepted, int) else len(batch)
            self.stats.sent += accepted
            self.stats.failed += len(batch) - accepted
            errors = answer.get("errors") if isinstance(answer, dict) else None
            if errors:
                self._warn_once("invalid", "arc_eval: the server refused %d trace(s), e.g. %s", len(errors), errors[0])
            if self.on_batch is not None:
                self.on_batch(answer if isinstance(answer, dict) else {})
            return

    def _backoff(self, attempt: int) -> float:
        # full jitter: spreads clients that failed together
        return random.uniform(0, min(self.backoff_max, self.backoff_base * (2**attempt)))

    def _post(self, body: bytes) -> Any:
        data = gzip.compress(body, compresslevel=5)
        headers = {
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
            "User-Agent": f"arc-eval-python/{__version__}",
        }
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(self.endpoint, data=data, headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                raw = response.read()
        except urllib.error.HTTPError as exc:
            retry_after = _retry_after(exc.headers.get("Retry-After") if exc.headers else None)
            detail = _short(exc.read())
            raise _SendError(
                f"HTTP {exc.code} {detail}", exc.code in RETRY_STATUSES, retry_after, exc.code
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise _SendError(f"cannot reach {self.endpoint}: {reason}", True) from None
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            return {}

    # -- control ----------------------------------------------------------------------------------------
    def flush(self, timeout: float = 10.0) -> bool:
        """Send everything queued so far; True when the queue drained within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        thread = self._thread
        if thread is None or not thread.is_alive():
            if self.queue:
                self._drain()  # no exporter thread (never started, or gone after a fork): send inline
            return not self.queue
        while time.monotonic() < deadline:
            with self._lock:
                idle = not self.queue and self._inflight <= 0
            if idle:
                return True
            self._wake.set()
            time.sleep(0.005)
        return False

    def shutdown(self, timeout: float = 5.0) -> bool:
        done = self.flush(timeout)
        self._stop.set()
        self._wake.set()
        return done

    def _warn_once(self, key: str, message: str, *args: Any) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning(message, *args)


def _retry_after(value: Optional[str]) -> Optional[float]:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        from email.utils import parsedate_to_datetime

        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _short(raw: bytes) -> str:
    return raw[:200].decode("utf-8", "replace").replace("\n", " ")
