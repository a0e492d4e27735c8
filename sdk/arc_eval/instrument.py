"""Opt-in auto-instrumentation of the OpenAI and Anthropic clients: ``arc_eval.instrument()``.

Each patched method records one ``llm`` span (model, token usage, tool calls, output) under the current
run; called outside a traced run it behaves exactly as before. Streams are wrapped so the span ends when
the stream is exhausted or closed, with usage taken from the final chunk or event. The request's messages
are snapshotted when the call is made. Each tool call the model asks for becomes a ``tool`` span under the
LLM span: a ``@tool`` function of that name run afterwards fills it, else the result the agent sends back
to the model in its next request does.
"""

from __future__ import annotations

import functools
import importlib
import json
from typing import Any, Callable, Optional

from ._serialize import snapshot
from .tracer import _CURRENT, _UNSAMPLED, Run, Span

_PATCHED: list[tuple[Any, str, Any]] = []


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


# -- what each API returns -------------------------------------------------------------------------------------
class _OpenAIChat:
    provider = "openai"

    def __init__(self) -> None:
        self.text: list[str] = []
        self.tools: dict[int, dict[str, Any]] = {}
        self.usage: Any = None
        self.model: Optional[str] = None
        self.finish_reason: Optional[str] = None

    @staticmethod
    def request(kwargs: dict[str, Any]) -> Any:
        return {"messages": kwargs.get("messages")}

    def record(self, span: Span, response: Any) -> None:
        choice = (_get(response, "choices") or [None])[0]
        message = _get(choice, "message")
        calls = [{"id": _get(c, "id"), "name": _get(_get(c, "function"), "name"),
                  "arguments": _get(_get(c, "function"), "arguments")} for c in (_get(message, "tool_calls") or [])]
        self._finish(span, _get(response, "model"), _get(message, "content"), calls, _get(response, "usage"),
                     _get(choice, "finish_reason"))

    def add(self, chunk: Any) -> None:
        self.model = _get(chunk, "model") or self.model
        self.usage = _get(chunk, "usage") or self.usage
        for choice in _get(chunk, "choices") or []:
            delta = _get(choice, "delta")
            self.finish_reason = _get(choice, "finish_reason") or self.finish_reason
            if _get(delta, "content"):
                self.text.append(_get(delta, "content"))
            for call in _get(delta, "tool_calls") or []:
                slot = self.tools.setdefault(_get(call, "index", 0) or 0, {"id": None, "name": "", "arguments": ""})
                slot["id"] = _get(call, "id") or slot["id"]
                function = _get(call, "function")
                slot["name"] += _get(function, "name") or ""
                slot["arguments"] += _get(function, "arguments") or ""

    def done(self, span: Span) -> None:
        calls = [self.tools[i] for i in sorted(self.tools)]
        self._finish(span, self.model, "".join(self.text) or None, calls, self.usage, self.finish_reason)

    def _finish(self, span: Span, model: Any, text: Any, calls: list[dict[str, Any]], usage: Any,
                finish_reason: Any) -> None:
        if model:
            span.set_model(model, self.provider)
        span.set_output({"role": "assistant", "content": text, "tool_calls": calls} if calls else
                        {"role": "assistant", "content": text})
        if calls:
            span.set_attribute("tool_calls", [c["name"] for c in calls])
            _request_tools(span, calls)
        if finish_reason:
            span.set_attribute("finish_reason", finish_reason)
        if usage is not None:
            details = _get(usage, "prompt_tokens_details") or _get(usage, "input_tokens_details")
            span.set_usage(_get(usage, "prompt_tokens", None) or _get(usage, "input_tokens", 0) or 0,
                           _get(usage, "completion_tokens", None) or _get(usage, "output_tokens", 0) or 0,
                           _get(details, "cached_tokens", 0) or 0)


class _OpenAIResponses(_OpenAIChat):
    """The Responses API (what the OpenAI Agents SDK calls)."""

    @staticmethod
    def request(kwargs: dict[str, Any]) -> Any:
        return {"input": kwargs.get("input"), "instructions": kwargs.get("instructions")}

    def record(self, span: Span, response: Any) -> None:
        text: list[str] = []
        calls = []
        for item in _get(response, "output") or []:
            kind = _get(item, "type")
            if kind == "function_call":
                calls.append({"id": _get(item, "call_id"), "name": _get(item, "name"),
                              "arguments": _get(item, "arguments")})
            elif kind == "message":
                text.extend(_get(part, "text") or "" for part in _get(item, "content") or [])
        self._finish(span, _get(response, "model"), "".join(text) or None, calls, _get(response, "usage"),
                     _get(response, "status"))

    def add(self, event: Any) -> None:
        if _get(event, "type") in ("response.completed", "response.failed", "response.incomplete"):
            self.final = _get(event, "response")

    def done(self, span: Span) -> None:
        final = getattr(self, "final", None)
        if final is not None:
            self.record(span, final)


class _Anthropic:
    provider = "anthropic"

    def __init__(self) -> None:
        self.model: Optional[str] = None
        self.blocks: dict[int, dict[str, Any]] = {}
        self.input_tokens = 0
        self.output_tokens = 0
        self.cached_tokens = 0
        self.stop_reason: Optional[str] = None

    @staticmethod
    def request(kwargs: dict[str, Any]) -> Any:
        return {"system": kwargs.get("system"), "messages": kwargs.get("messages")}

    def record(self, span: Span, message: Any) -> None:
        text, calls = [], []
        for block in _get(message, "content") or []:
            if _get(block, "type") == "text":
                text.append(_get(block, "text") or "")
            elif _get(block, "type") == "tool_use":
                calls.append({"id": _get(block, "id"), "name": _get(block, "name"), "arguments": _get(block, "input")})
        usage = _get(message, "usage")
        self._finish(span, _get(message, "model"), "".join(text) or None, calls, _get(usage, "input_tokens", 0),
                     _get(usage, "output_tokens", 0), _get(usage, "cache_read_input_tokens", 0),
                     _get(message, "stop_reason"))

    def add(self, event: Any) -> None:
        kind = _get(event, "type")
        if kind == "message_start":
            message = _get(event, "message")
            self.model = _get(message, "model")
            usage = _get(message, "usage")
            self.input_tokens = _get(usage, "input_tokens", 0) or 0
            self.cached_tokens = _get(usage, "cache_read_input_tokens", 0) or 0
            self.output_tokens = _get(usage, "output_tokens", 0) or 0
        elif kind == "content_block_start":
            block = _get(event, "content_block")
            self.blocks[_get(event, "index", 0)] = {"type": _get(block, "type"), "id": _get(block, "id"),
                                                    "name": _get(block, "name"), "text": "", "json": ""}
        elif kind == "content_block_delta":
            slot = self.blocks.setdefault(_get(event, "index", 0), {"type": "text", "text": "", "json": ""})
            delta = _get(event, "delta")
            slot["text"] += _get(delta, "text") or ""
            slot["json"] += _get(delta, "partial_json") or ""
        elif kind == "message_delta":
            usage = _get(event, "usage")
            self.output_tokens = _get(usage, "output_tokens", 0) or self.output_tokens
            self.input_tokens = _get(usage, "input_tokens", 0) or self.input_tokens
            self.stop_reason = _get(_get(event, "delta"), "stop_reason") or self.stop_reason

    def done(self, span: Span) -> None:
        text, calls = [], []
        for i in sorted(self.blocks):
            block = self.blocks[i]
            if block["type"] == "tool_use":
                try:
                    arguments = json.loads(block["json"]) if block["json"] else {}
                except ValueError:
                    arguments = block["json"]
                calls.append({"id": block.get("id"), "name": block.get("name"), "arguments": arguments})
            else:
                text.append(block["text"])
        self._finish(span, self.model, "".join(text) or None, calls, self.input_tokens, self.output_tokens,
                     self.cached_tokens, self.stop_reason)

    def _finish(self, span: Span, model: Any, text: Any, calls: list[dict[str, Any]], input_tokens: Any,
                output_tokens: Any, cached_tokens: Any, stop_reason: Any) -> None:
        if model:
            span.set_model(model, self.provider)
        output: dict[str, Any] = {"role": "assistant", "content": text}
        if calls:
            output["tool_calls"] = calls
            span.set_attribute("tool_calls", [c["name"] for c in calls])
            _request_tools(span, calls)
        if stop_reason:
            span.set_attribute("finish_reason", stop_reason)
        span.set_output(output)
        span.set_usage(input_tokens or 0, output_tokens or 0, cached_tokens or 0)


# -- stream proxies ----------------------------------------------------------------------------------------------
class _StreamProxy:
    """Passes every chunk through unchanged; records them and ends the span when the stream ends."""

    def __init__(self, stream: Any, span: Span, acc: Any) -> None:
        self._stream, self._span, self._acc, self._ended = stream, span, acc, False
        self._iterator: Any = None

    def _end(self, exc: Optional[BaseException] = None) -> None:
        if not self._ended:
            self._ended = True
            try:
                self._acc.done(self._span)
            except Exception:  # noqa: S110 - recording must never break the caller's stream
                pass
            self._span.end(exc)

    def __iter__(self) -> Any:
        try:
            for chunk in self._stream:
                self._acc.add(chunk)
                yield chunk
        except BaseException as exc:
            self._end(exc)
            raise
        self._end()

    def __next__(self) -> Any:
        if self._iterator is None:
            self._iterator = self.__iter__()
        return next(self._iterator)

    def __enter__(self) -> _StreamProxy:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        try:
            self.close()
        finally:
            self._end(exc_info[1])

    def close(self) -> None:
        try:
            self._stream.close()
        finally:
            self._end()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class _AsyncStreamProxy(_StreamProxy):
    async def __aiter__(self) -> Any:  # type: ignore[override]
        try:
            async for chunk in self._stream:
                self._acc.add(chunk)
                yield chunk
        except BaseException as exc:
            self._end(exc)
            raise
        self._end()

    async def __anext__(self) -> Any:
        if self._iterator is None:
            self._iterator = self.__aiter__()
        return await self._iterator.__anext__()

    async def __aenter__(self) -> _AsyncStreamProxy:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        try:
            await self.close()
        finally:
            self._end(exc_info[1])

    async def close(self) -> None:  # type: ignore[override]
        try:
            await self._stream.close()
        finally:
            self._end()


class _ManagerProxy:
    """Anthropic's ``messages.stream()`` helper: the span covers the ``with`` block; the stream's snapshot is recorded."""

    def __init__(self, manager: Any, span: Span, acc: _Anthropic) -> None:
        self._manager, self._span, self._acc, self._stream = manager, span, acc, None

    def _end(self, exc: Optional[BaseException]) -> None:
        try:
            snapshot = getattr(self._stream, "current_message_snapshot", None)
            if snapshot is not None:
                self._acc.record(self._span, snapshot)
        except Exception:  # noqa: S110 - a stream closed before its first event has no snapshot
            pass
        self._span.end(exc)

    def __enter__(self) -> Any:
        self._stream = self._manager.__enter__()
        return self._stream

    def __exit__(self, *exc_info: Any) -> Any:
        try:
            return self._manager.__exit__(*exc_info)
        finally:
            self._end(exc_info[1])

    async def __aenter__(self) -> Any:
        self._stream = await self._manager.__aenter__()
        return self._stream

    async def __aexit__(self, *exc_info: Any) -> Any:
        try:
            return await self._manager.__aexit__(*exc_info)
        finally:
            self._end(exc_info[1])


# -- tool calls the model asked for ------------------------------------------------------------------------------
def _request_tools(span: Span, calls: list[dict[str, Any]]) -> None:
    if span.run is None:
        return
    for call in calls:
        arguments = call.get("arguments")
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments) if arguments.strip() else {}
            except ValueError:
                span.run.request_tool(span, call.get("id"), call.get("name"), arguments).set_attribute(
                    "arguments_invalid", True)
                continue
        span.run.request_tool(span, call.get("id"), call.get("name"), arguments)


def _send_back_results(run: Run, kwargs: dict[str, Any]) -> None:
    """Tool results in a request (OpenAI role=tool messages, Anthropic tool_result blocks, Responses
    function_call_output items) complete the requested calls no decorator recorded."""
    items = kwargs.get("messages") or kwargs.get("input")
    for item in items if isinstance(items, (list, tuple)) else ():
        if _get(item, "role") == "tool":
            run.tool_result(_get(item, "tool_call_id"), _get(item, "content"))
        elif _get(item, "type") == "function_call_output":
            run.tool_result(_get(item, "call_id"), _get(item, "output"))
        else:
            content = _get(item, "content")
            for block in content if isinstance(content, (list, tuple)) else ():
                if _get(block, "type") == "tool_result":
                    run.tool_result(_get(block, "tool_use_id"), _get(block, "content"), bool(_get(block, "is_error")))


# -- patching --------------------------------------------------------------------------------------------------
def _start_span(name: str, acc: Any, kwargs: dict[str, Any]) -> Optional[Span]:
    parent = _CURRENT.get()
    if parent is None or parent is _UNSAMPLED:
        return None
    if parent.run.requested:
        _send_back_results(parent.run, kwargs)
    span = Span(parent.run, name, "llm", parent.span_id, snapshot(acc.request(kwargs)))
    span.set_model(kwargs.get("model"), acc.provider)
    tools = kwargs.get("tools")
    if isinstance(tools, (list, tuple)):
        names = [_get(t, "name") or _get(_get(t, "function"), "name") for t in tools]
        span.set_attribute("tools", [n for n in names if n])
    for key in ("temperature", "max_tokens", "max_output_tokens"):
        if isinstance(kwargs.get(key), (int, float)):
            span.set_attribute(key, kwargs[key])
    return span.start(activate=False)


def _sync(original: Callable[..., Any], name: str, make_acc: Callable[[], Any], helper: bool = False) -> Any:
    @functools.wraps(original)
    def patched(self: Any, *args: Any, **kwargs: Any) -> Any:
        acc = make_acc()
        span = _start_span(name, acc, kwargs)
        if span is None:
            return original(self, *args, **kwargs)
        try:
            result = original(self, *args, **kwargs)
        except BaseException as exc:
            span.end(exc)
            raise
        if helper:
            return _ManagerProxy(result, span, acc)
        if kwargs.get("stream"):
            return _StreamProxy(result, span, acc)
        try:
            acc.record(span, result)
        finally:
            span.end()
        return result

    return patched


def _async(original: Callable[..., Any], name: str, make_acc: Callable[[], Any]) -> Any:
    @functools.wraps(original)
    async def patched(self: Any, *args: Any, **kwargs: Any) -> Any:
        acc = make_acc()
        span = _start_span(name, acc, kwargs)
        if span is None:
            return await original(self, *args, **kwargs)
        try:
            result = await original(self, *args, **kwargs)
        except BaseException as exc:
            span.end(exc)
            raise
        if kwargs.get("stream"):
            return _AsyncStreamProxy(result, span, acc)
        try:
            acc.record(span, result)
        finally:
            span.end()
        return result

    return patched


def _async_helper(original: Callable[..., Any], name: str, make_acc: Callable[[], Any]) -> Any:
    """AsyncMessages.stream is a plain method returning an async context manager."""

    @functools.wraps(original)
    def patched(self: Any, *args: Any, **kwargs: Any) -> Any:
        acc = make_acc()
        span = _start_span(name, acc, kwargs)
        if span is None:
            return original(self, *args, **kwargs)
        return _ManagerProxy(original(self, *args, **kwargs), span, acc)

    return patched


def _patch(module: str, cls_name: str, method: str, wrap: Callable[..., Any]) -> bool:
    try:
        cls = getattr(importlib.import_module(module), cls_name)
    except (ImportError, AttributeError):
        return False
    original = cls.__dict__.get(method)
    if original is None or getattr(original, "__arc_eval_original__", None) is not None:
        return original is not None
    patched = wrap(original)
    patched.__arc_eval_original__ = original
    setattr(cls, method, patched)
    _PATCHED.append((cls, method, original))
    return True


def instrument(openai: bool = True, anthropic: bool = True) -> dict[str, bool]:
    """Patch the installed clients; returns which were found. Safe to call more than once."""
    done: dict[str, bool] = {}
    if openai:
        chat, responses = "openai.resources.chat.completions", "openai.resources.responses"
        done["openai"] = all([
            _patch(chat, "Completions", "create", lambda f: _sync(f, "openai.chat", _OpenAIChat)),
            _patch(chat, "AsyncCompletions", "create", lambda f: _async(f, "openai.chat", _OpenAIChat)),
        ])
        _patch(responses, "Responses", "create", lambda f: _sync(f, "openai.responses", _OpenAIResponses))
        _patch(responses, "AsyncResponses", "create", lambda f: _async(f, "openai.responses", _OpenAIResponses))
    if anthropic:
        messages = "anthropic.resources.messages"
        done["anthropic"] = all([
            _patch(messages, "Messages", "create", lambda f: _sync(f, "anthropic.messages", _Anthropic)),
            _patch(messages, "AsyncMessages", "create", lambda f: _async(f, "anthropic.messages", _Anthropic)),
        ])
        _patch(messages, "Messages", "stream", lambda f: _sync(f, "anthropic.messages", _Anthropic, helper=True))
        _patch(messages, "AsyncMessages", "stream", lambda f: _async_helper(f, "anthropic.messages", _Anthropic))
    return done


def uninstrument() -> None:
    """Put every patched method back."""
    while _PATCHED:
        cls, method, original = _PATCHED.pop()
        setattr(cls, method, original)
