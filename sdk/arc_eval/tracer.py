"""Runs, spans and the decorators that record them.

The hot path of a decorated call snapshots the arguments at entry and the result at return (a structural
copy of containers, `_serialize.snapshot`), reads the clock and appends the run to the exporter's deque;
serialising, redacting and sending happen later in the exporter thread.
"""

from __future__ import annotations

import atexit
import functools
import inspect
import itertools
import os
import random
import threading
import time
import tracemalloc
import uuid
import weakref
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from typing import Any, Callable, Optional, TypeVar, Union

from . import config
from ._serialize import Redactor, error_info, iso, safe_payload, snapshot, to_jsonable, truncate
from ._version import __version__
from .exporter import Exporter, ExporterStats

F = TypeVar("F", bound=Callable[..., Any])
SPAN_KINDS = ("llm", "tool", "retrieval", "agent", "chain", "other")

perf_counter = time.perf_counter
wall_clock = time.time


class ToolError(Exception):
    """A tool result the agent sent back to the model marked as an error."""


class _Unsampled:
    """Marks the context of a run that sampling left out, so nothing nested in it is recorded either."""

    run = None
    span_id = None


_UNSAMPLED = _Unsampled()
_CURRENT: ContextVar[Any] = ContextVar("arc_eval_current", default=None)


class _Spec:
    """What a decorator knows about the function it wraps, built once at decoration time."""

    __slots__ = ("fn", "name", "kind", "tracer", "domain", "starts_run", "_signature")

    def __init__(self, fn: Optional[Callable[..., Any]], name: Optional[str], kind: str, tracer: Optional[ArcTracer],
                 domain: Optional[str], starts_run: bool) -> None:
        self.fn = fn
        self.name = name
        self.kind = kind
        self.tracer = tracer
        self.domain = domain
        self.starts_run = starts_run
        self._signature: Any = None

    def bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """The call's arguments by parameter name (self/cls left out); runs in the exporter thread."""
        if self._signature is None:
            try:
                self._signature = inspect.signature(self.fn)
            except (TypeError, ValueError):
                self._signature = False
        if self._signature:
            try:
                bound = self._signature.bind_partial(*args, **kwargs).arguments
                return {k: v for k, v in bound.items() if k not in ("self", "cls")}
            except TypeError:
                pass
        return {"args": list(args), "kwargs": kwargs} if kwargs else {"args": list(args)}


class _Args:
    """A call's arguments as they were at entry, bound to parameter names later (in the exporter thread)."""

    __slots__ = ("spec", "args", "kwargs")

    def __init__(self, spec: _Spec, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.spec, self.args, self.kwargs = spec, snapshot(args), snapshot(kwargs) if kwargs else kwargs


def _payload(value: Any, redact: Optional[Redactor]) -> Any:
    if isinstance(value, _Args):
        value = value.spec.bind(value.args, value.kwargs)
    return safe_payload(value, redact)


class Span:
    """One step of a run: an LLM call, a tool, a retrieval, a nested agent. Use as a context manager."""

    __slots__ = ("run", "span_id", "parent_id", "kind", "name", "started_at", "_t0", "duration_ms", "input",
                 "output", "error", "_tb", "model", "provider", "usage", "cost_usd", "attributes", "_token")

    def __init__(self, run: Optional[Run], name: str, kind: str = "other", parent_id: Optional[str] = None,
                 input: Any = None, attributes: Optional[dict[str, Any]] = None) -> None:
        self.run = run
        self.span_id = f"s{next(run._ids)}" if run is not None else ""
        self.parent_id = parent_id
        self.kind = kind if kind in SPAN_KINDS else "other"
        self.name = name
        self.started_at = 0.0
        self._t0 = 0.0
        self.duration_ms: Optional[float] = None
        self.input = input
        self.output: Any = None
        self.error: Optional[BaseException] = None
        self._tb: Any = None
        self.model: Optional[str] = None
        self.provider: Optional[str] = None
        self.usage: Optional[dict[str, int]] = None
        self.cost_usd: Optional[float] = None
        self.attributes: dict[str, Any] = dict(attributes) if attributes else {}
        self._token: Any = None

    # -- recording ------------------------------------------------------------------------------------
    def set_input(self, value: Any) -> Span:
        self.input = value
        return self

    def set_output(self, value: Any) -> Span:
        self.output = value
        return self

    def set_model(self, model: Optional[str], provider: Optional[str] = None) -> Span:
        self.model = model
        if provider is not None:
            self.provider = provider
        return self

    def set_usage(self, input_tokens: int = 0, output_tokens: int = 0, cached_tokens: int = 0) -> Span:
        self.usage = {"input_tokens": int(input_tokens or 0), "output_tokens": int(output_tokens or 0),
                      "cached_tokens": int(cached_tokens or 0)}
        return self

    def set_cost(self, usd: float) -> Span:
        self.cost_usd = usd
        return self

    def set_attribute(self, key: str, value: Any) -> Span:
        self.attributes[key] = value
        return self

    def set_error(self, exc: BaseException) -> Span:
        self.error = exc
        self._tb = exc.__traceback__
        return self

    # -- lifecycle --------------------------------------------------------------------------------------
    def start(self, activate: bool = True) -> Span:
        self.started_at = wall_clock()
        self._t0 = perf_counter()
        if self.run is not None:
            self.run.spans.append(self)
            if activate:
                self._token = _CURRENT.set(self)
        return self

    def resume(self, activate: bool = True) -> Span:
        """Start timing a span already in the run (a tool call the model asked for, now executed)."""
        self.started_at = wall_clock()
        self._t0 = perf_counter()
        if activate and self.run is not None:
            self._token = _CURRENT.set(self)
        return self

    def end(self, exc: Optional[BaseException] = None) -> None:
        if self.duration_ms is None:
            self.duration_ms = (perf_counter() - self._t0) * 1000.0
        if exc is not None and self.error is None:
            self.set_error(exc)
        if self._token is not None:
            try:
                _CURRENT.reset(self._token)
            except ValueError:  # ended in another context than it started in: leave that context alone
                pass
            self._token = None

    def __enter__(self) -> Span:
        return self.start()

    def __exit__(self, exc_type: Any, exc: Optional[BaseException], tb: Any) -> None:
        self.end(exc)

    async def __aenter__(self) -> Span:
        return self.start()

    async def __aexit__(self, exc_type: Any, exc: Optional[BaseException], tb: Any) -> None:
        self.end(exc)

    def to_dict(self, redact: Optional[Redactor]) -> dict[str, Any]:
        data: dict[str, Any] = {
            "span_id": self.span_id,
            "parent_id": self.parent_id,
            "kind": self.kind,
            "name": truncate(str(self.name), 500),
            "started_at": iso(self.started_at),
            "duration_ms": round(self.duration_ms or 0.0, 3),
        }
        if self.input is not None:
            data["input"] = _payload(self.input, redact)
        if self.output is not None:
            data["output"] = _payload(self.output, redact)
        if self.error is not None:
            data["error"] = error_info(self.error, self._tb, redact)
        if self.model:
            data["model"] = truncate(str(self.model), 500)
        if self.provider:
            data["provider"] = self.provider
        if self.usage:
            data["usage"] = self.usage
        if self.cost_usd is not None:
            data["cost_usd"] = str(self.cost_usd)
        if self.attributes:
            data["attributes"] = to_jsonable(self.attributes)
        return data


class Run:
    """One traced agent call: becomes one canonical trace."""

    __slots__ = ("tracer", "spec", "args", "kwargs", "started_at", "duration", "output", "error", "_tb", "spans",
                 "_ids", "_trace_id", "session_id", "user_id", "tags", "metadata", "success", "_token", "run",
                 "memory_peak", "framework", "requested")
    span_id = None  # a run is the root: spans directly under it have no parent span

    def __init__(self, tracer: ArcTracer, spec: _Spec, args: Any, kwargs: dict[str, Any]) -> None:
        self.tracer = tracer
        self.spec = spec
        self.args = snapshot(args)
        self.kwargs = snapshot(kwargs) if kwargs else kwargs
        self.started_at = wall_clock()
        self.duration = 0.0
        self.output: Any = None
        self.error: Optional[BaseException] = None
        self._tb: Any = None
        self.spans: list[Span] = []
        self._ids = itertools.count(1)
        self._trace_id: Optional[str] = None
        self.session_id: Optional[str] = None
        self.user_id: Optional[str] = None
        self.tags: Optional[list[str]] = None
        self.metadata: Optional[dict[str, Any]] = None
        self.success: Optional[bool] = None
        self._token: Any = None
        self.run = self
        self.memory_peak: Optional[int] = None
        self.framework: Optional[str] = None
        self.requested: Optional[list[Span]] = None  # tool calls a model asked for, not yet executed

    def request_tool(self, llm: Span, call_id: Any, name: Any, arguments: Any) -> Span:
        """A tool call the model asked for becomes a tool span under the LLM span that asked for it; when the
        tool then runs under the decorator it fills this span, else the result sent back to the model does."""
        span = Span(self, str(name or "tool"), "tool", llm.span_id, snapshot(arguments),
                    {"call_id": call_id, "llm_span_id": llm.span_id, "requested_by_model": True})
        span.started_at = wall_clock()
        self.spans.append(span)
        if self.requested is None:
            self.requested = []
        self.requested.append(span)
        return span

    def claim_tool(self, name: str) -> Optional[Span]:
        """The oldest requested call of this tool not yet executed."""
        for index, span in enumerate(self.requested or ()):
            if span.name == name:
                return self.requested.pop(index)  # type: ignore[union-attr]
        return None

    def tool_result(self, call_id: Any, output: Any, is_error: bool = False) -> None:
        """The result the agent sent back to the model for a requested call no decorator recorded."""
        for index, span in enumerate(self.requested or ()):
            if call_id is not None and span.attributes.get("call_id") == call_id:
                del self.requested[index]  # type: ignore[union-attr]
                span.output = snapshot(output)
                if is_error:
                    span.attributes["error_result"] = True
                    span.error = ToolError(str(output)[:2000])
                return

    @property
    def trace_id(self) -> str:
        # made on first use: uuid4 costs more than the rest of the hot path
        if self._trace_id is None:
            self._trace_id = uuid.uuid4().hex
        return self._trace_id

    @property
    def agent_id(self) -> str:
        return self.spec.name or self.tracer.agent_id or _callable_name(self.spec.fn)

    def to_dict(self) -> dict[str, Any]:
        tracer = self.tracer
        redact = tracer.redact
        data: dict[str, Any] = {
            "trace_id": self.trace_id,
            "agent_id": truncate(self.agent_id, 200),
            "started_at": iso(self.started_at),
            "duration_ms": round(self.duration * 1000.0, 3),
            "input": _payload(self.spec.bind(self.args, self.kwargs) if self.spec.fn is not None else self.args,
                              redact),
            "output": _payload(self.output, redact),
            "spans": [span.to_dict(redact) for span in self.spans],
        }
        domain = self.spec.domain or tracer.domain
        if domain:
            data["domain"] = domain
        if self.framework:
            data["framework"] = self.framework
        if self.error is not None:
            data["error"] = error_info(self.error, self._tb, redact)
            data["success"] = False
        elif self.success is not None:
            data["success"] = self.success
        if self.session_id:
            data["session_id"] = self.session_id
        if self.user_id:
            data["user_id"] = self.user_id
        tags = list(tracer.tags) + list(self.tags or ())
        if tags:
            data["tags"] = tags
        metadata = {"sdk": f"arc-eval-python/{__version__}", **tracer.metadata, **(self.metadata or {})}
        if self.memory_peak is not None:
            metadata["memory_peak_bytes"] = self.memory_peak
        data["metadata"] = to_jsonable(metadata)
        return data


def _callable_name(fn: Any) -> str:
    name = getattr(fn, "__name__", None)
    owner = getattr(fn, "__self__", None)
    if name and owner is not None and not inspect.ismodule(owner):
        # `tracer.trace_agent(executor.invoke)`: "AgentExecutor.invoke" says more than "invoke"
        return f"{type(owner).__name__}.{name}"
    return name or type(fn).__name__


# -- begin / finish: shared by every wrapper shape -------------------------------------------------------
def _begin(spec: _Spec, args: tuple[Any, ...], kwargs: dict[str, Any], activate: bool) -> Any:
    """A Run, a Span (nested call), _UNSAMPLED, or None when nothing is recorded."""
    parent = _CURRENT.get()
    if parent is not None:
        if parent is _UNSAMPLED:
            return None
        name = spec.name or _callable_name(spec.fn)
        claimed = parent.run.claim_tool(name) if spec.kind == "tool" and parent.run.requested else None
        if claimed is not None:
            claimed.input = _Args(spec, args, kwargs)
            claimed.attributes["called_from"] = parent.span_id
            return claimed.resume(activate)
        span = Span(parent.run, name, spec.kind, parent.span_id, _Args(spec, args, kwargs))
        return span.start(activate)
    if not spec.starts_run:
        return None  # a @tool called outside any run
    tracer = spec.tracer or get_tracer()
    if not tracer.enabled:
        return None
    if tracer.sample_rate < 1.0 and random.random() >= tracer.sample_rate:
        return _UNSAMPLED
    run = Run(tracer, spec, args, kwargs)
    if tracer.capture_memory:
        if not tracemalloc.is_tracing():
            tracemalloc.start()
        tracemalloc.reset_peak()
    if activate:
        run._token = _CURRENT.set(run)
    return run


def _finish(rec: Any, output: Any, exc: Optional[BaseException]) -> None:
    if type(rec) is Run:
        rec.duration = perf_counter() - rec.tracer._perf_offset - rec.started_at
        if rec._token is not None:
            _CURRENT.reset(rec._token)
            rec._token = None
        if exc is None:
            rec.output = snapshot(output)
        else:
            rec.error = exc
            rec._tb = exc.__traceback__
        if rec.tracer.capture_memory and tracemalloc.is_tracing():
            rec.memory_peak = tracemalloc.get_traced_memory()[1]
        rec.tracer._exporter.enqueue(rec)
    elif type(rec) is Span:
        if exc is None:
            rec.output = snapshot(output)
        rec.end(exc)


def _activate(rec: Any) -> Any:
    return _CURRENT.set(rec) if rec is not None else None


def _wrap(fn: Callable[..., Any], spec: _Spec) -> Callable[..., Any]:
    target = fn if inspect.isfunction(fn) or inspect.ismethod(fn) else getattr(fn, "__call__", fn)  # noqa: B004

    if inspect.isasyncgenfunction(target):
        async def agen_wrapper(*args: Any, **kwargs: Any) -> Any:
            rec = _begin(spec, args, kwargs, activate=False)
            if rec is None or rec is _UNSAMPLED:
                token = _activate(rec)
                try:
                    async for item in fn(*args, **kwargs):
                        yield item
                finally:
                    if token is not None:
                        _CURRENT.reset(token)
                return
            items: list[Any] = []
            agen = fn(*args, **kwargs)
            step, value = agen.asend, None
            while True:
                token = _CURRENT.set(rec)
                try:
                    item = await step(value)
                except StopAsyncIteration:
                    _finish(rec, items, None)
                    return
                except BaseException as exc:
                    _finish(rec, items, exc)
                    raise
                finally:
                    _CURRENT.reset(token)
                items.append(snapshot(item))
                try:
                    value = yield item
                    step = agen.asend
                except GeneratorExit:
                    await agen.aclose()
                    _finish(rec, items, None)
                    raise
                except BaseException as exc:
                    step, value = agen.athrow, exc

        wrapper: Callable[..., Any] = agen_wrapper

    elif inspect.isgeneratorfunction(target):
        def gen_wrapper(*args: Any, **kwargs: Any) -> Any:
            rec = _begin(spec, args, kwargs, activate=False)
            if rec is None or rec is _UNSAMPLED:
                token = _activate(rec)
                try:
                    return (yield from fn(*args, **kwargs))
                finally:
                    if token is not None:
                        _CURRENT.reset(token)
            items: list[Any] = []
            gen = fn(*args, **kwargs)
            step, value = gen.send, None
            while True:
                # the run is current only while the generator's own code runs, not between items
                token = _CURRENT.set(rec)
                try:
                    item = step(value)
                except StopIteration as stop:
                    _finish(rec, items, None)
                    return stop.value
                except BaseException as exc:
                    _finish(rec, items, exc)
                    raise
                finally:
                    _CURRENT.reset(token)
                items.append(snapshot(item))
                try:
                    value = yield item
                    step = gen.send
                except GeneratorExit:
                    gen.close()
                    _finish(rec, items, None)
                    raise
                except BaseException as exc:
                    step, value = gen.throw, exc

        wrapper = gen_wrapper

    elif inspect.iscoroutinefunction(target):
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            rec = _begin(spec, args, kwargs, activate=True)
            if rec is None:
                return await fn(*args, **kwargs)
            if rec is _UNSAMPLED:
                token = _CURRENT.set(rec)
                try:
                    return await fn(*args, **kwargs)
                finally:
                    _CURRENT.reset(token)
            try:
                result = await fn(*args, **kwargs)
            except BaseException as exc:
                _finish(rec, None, exc)
                raise
            _finish(rec, result, None)
            return result

        wrapper = async_wrapper

    else:
        def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
            rec = _begin(spec, args, kwargs, activate=True)
            if rec is None:
                return fn(*args, **kwargs)
            if rec is _UNSAMPLED:
                token = _CURRENT.set(rec)
                try:
                    return fn(*args, **kwargs)
                finally:
                    _CURRENT.reset(token)
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:
                _finish(rec, None, exc)
                raise
            _finish(rec, result, None)
            return result

        wrapper = sync_wrapper

    try:
        functools.update_wrapper(wrapper, fn, updated=() if not inspect.isfunction(fn) else ("__dict__",))
    except (AttributeError, TypeError):
        pass
    wrapper.__arc_eval_spec__ = spec  # type: ignore[attr-defined]
    return wrapper


def _decorator(fn: Optional[Callable[..., Any]], make: Callable[[Callable[..., Any]], _Spec]) -> Any:
    if fn is None:
        return lambda f: _wrap(f, make(f))
    return _wrap(fn, make(fn))


# -- the tracer ----------------------------------------------------------------------------------------------
_TRACERS: weakref.WeakSet[ArcTracer] = weakref.WeakSet()


class ArcTracer:
    """Records agent runs and sends them, in the background, to an Arc Eval server.

    Key and URL come from the arguments, else ARC_API_KEY / ARC_BASE_URL, else `arc-eval login`'s config.
    """

    def __init__(
        self,
        api_key: Optional[str] = None,
        base_url: Optional[str] = None,
        domain: Optional[str] = None,
        agent_id: Optional[str] = None,
        sample_rate: Optional[float] = None,
        redact: Optional[Redactor] = None,
        capture_memory: bool = False,
        *,
        enabled: Optional[bool] = None,
        tags: Optional[list[str]] = None,
        metadata: Optional[dict[str, Any]] = None,
        batch_size: int = 100,
        flush_interval: float = 1.0,
        max_queue_size: int = 10_000,
        max_retries: Optional[int] = None,
        backoff_max: float = 30.0,
        timeout: float = 10.0,
        flush_at_exit: bool = True,
    ) -> None:
        self.api_key, self.base_url = config.resolve(api_key, base_url)
        self.domain = domain
        self.agent_id = agent_id
        if sample_rate is None:
            sample_rate = float(os.environ.get("ARC_SAMPLE_RATE", "1.0"))
        self.sample_rate = min(1.0, max(0.0, sample_rate))
        self.redact = redact
        self.capture_memory = capture_memory
        if enabled is None:
            enabled = os.environ.get("ARC_TRACING", "1").lower() not in ("0", "false", "off", "no")
        self.enabled = enabled
        self.tags = list(tags or ())
        self.metadata = dict(metadata or {})
        self.flush_at_exit = flush_at_exit
        # Run stores wall-clock start; the offset lets _finish compute duration from perf_counter alone
        self._perf_offset = perf_counter() - wall_clock()
        self._exporter = Exporter(self.base_url, self.api_key, batch_size=batch_size, flush_interval=flush_interval,
                                  max_queue_size=max_queue_size, max_retries=max_retries,
                                  backoff_max=backoff_max, timeout=timeout)
        _TRACERS.add(self)

    # -- decorators ---------------------------------------------------------------------------------------
    def trace_agent(self, fn: Optional[F] = None, *, agent_id: Optional[str] = None,
                    domain: Optional[str] = None) -> Any:
        """Trace each call of ``fn`` as one run: ``@tracer.trace_agent`` or ``tracer.trace_agent(executor.invoke)``."""
        return _decorator(fn, lambda f: _Spec(f, agent_id, "agent", self, domain, True))

    def tool(self, fn: Optional[F] = None, *, name: Optional[str] = None, kind: str = "tool") -> Any:
        return tool(fn, name=name, kind=kind)

    def span(self, name: str, kind: str = "other", input: Any = None, **attributes: Any) -> Span:
        return span(name, kind, input, **attributes)

    # -- control ------------------------------------------------------------------------------------------
    @property
    def stats(self) -> ExporterStats:
        return self._exporter.stats

    def flush(self, timeout: float = 10.0) -> bool:
        """Block until every trace recorded so far is sent (or given up on); False on timeout."""
        return self._exporter.flush(timeout)

    def shutdown(self, timeout: float = 5.0) -> bool:
        return self._exporter.shutdown(timeout)

    def __repr__(self) -> str:
        return f"ArcTracer(base_url={self.base_url!r}, agent_id={self.agent_id!r}, sample_rate={self.sample_rate})"


_default: Optional[ArcTracer] = None
_default_lock = threading.Lock()


def get_tracer() -> ArcTracer:
    """The default tracer used by the module-level decorators, made from the environment on first use."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = ArcTracer()
    return _default


def configure(**options: Any) -> ArcTracer:
    """Replace the default tracer: ``arc_eval.configure(domain="finance", sample_rate=0.1)``."""
    global _default
    with _default_lock:
        old, _default = _default, ArcTracer(**options)
    if old is not None:
        old.flush(2.0)
    return _default


def trace_agent(fn: Optional[F] = None, *, agent_id: Optional[str] = None, domain: Optional[str] = None,
                tracer: Optional[ArcTracer] = None) -> Any:
    """``@trace_agent`` with the default tracer (resolved at call time, so configure() may come later)."""
    return _decorator(fn, lambda f: _Spec(f, agent_id, "agent", tracer, domain, True))


def tool(fn: Optional[F] = None, *, name: Optional[str] = None, kind: str = "tool") -> Any:
    """Record each call as a span of the current run; outside a run the function just runs."""
    return _decorator(fn, lambda f: _Spec(f, name, kind, None, None, False))


def span(name: str, kind: str = "other", input: Any = None, **attributes: Any) -> Span:
    """``with span("search", kind="tool") as s:``: a span under the current one (inert outside a run)."""
    parent = _CURRENT.get()
    run = parent.run if parent is not None else None
    return Span(run, name, kind, parent.span_id if run is not None else None, input, attributes)


def current_span() -> Optional[Union[Span, Run]]:
    current = _CURRENT.get()
    return None if current is None or current is _UNSAMPLED else current


def current_run() -> Optional[Run]:
    current = _CURRENT.get()
    return current.run if current is not None else None


def update_trace(*, session_id: Optional[str] = None, user_id: Optional[str] = None,
                 tags: Optional[list[str]] = None, metadata: Optional[dict[str, Any]] = None,
                 success: Optional[bool] = None) -> None:
    """Attach session, user, tags, metadata or an explicit outcome to the current run."""
    run = current_run()
    if run is None:
        return
    if session_id is not None:
        run.session_id = session_id
    if user_id is not None:
        run.user_id = user_id
    if tags:
        run.tags = list(run.tags or ()) + list(tags)
    if metadata:
        run.metadata = {**(run.metadata or {}), **metadata}
    if success is not None:
        run.success = success


# -- threads ---------------------------------------------------------------------------------------------
def wrap_context(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Carry the current run into another thread: ``pool.submit(wrap_context(work), x)``."""
    current = _CURRENT.get()

    @functools.wraps(fn)
    def run_in_context(*args: Any, **kwargs: Any) -> Any:
        token = _CURRENT.set(current)
        try:
            return fn(*args, **kwargs)
        finally:
            _CURRENT.reset(token)

    return run_in_context


class TracedThreadPoolExecutor(ThreadPoolExecutor):
    """A ThreadPoolExecutor whose tasks see the run (and span) that submitted them."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        return super().submit(wrap_context(fn), *args, **kwargs)


@atexit.register
def _flush_all_at_exit() -> None:
    for tracer in list(_TRACERS):
        if tracer.flush_at_exit:
            tracer.shutdown(timeout=float(os.environ.get("ARC_EXIT_FLUSH_TIMEOUT", "5")))
