"""LangChain callback handler: chains, chat models, tools and retrievers become spans of one run.

    chain.invoke(inputs, config={"callbacks": [ArcCallbackHandler()]})

Inside a ``@trace_agent`` run the spans join that run; otherwise the outermost LangChain run becomes a
trace of its own (agent_id: the handler's, else the tracer's, else the chain's name).
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Optional
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler

from ..tracer import _CURRENT, _UNSAMPLED, ArcTracer, Run, Span, _finish, _Spec, get_tracer


def _name(serialized: Optional[dict[str, Any]], kwargs: dict[str, Any], default: str) -> str:
    if kwargs.get("name"):
        return str(kwargs["name"])
    serialized = serialized or {}
    if serialized.get("name"):
        return str(serialized["name"])
    ident = serialized.get("id")
    return str(ident[-1]) if isinstance(ident, list) and ident else default


class ArcCallbackHandler(BaseCallbackHandler):
    """Records LangChain runs as Arc Eval spans (llm, tool, retrieval, chain)."""

    def __init__(self, tracer: Optional[ArcTracer] = None, agent_id: Optional[str] = None) -> None:
        super().__init__()
        self.tracer = tracer
        self.agent_id = agent_id
        self._spans: dict[UUID, Any] = {}
        self._roots: dict[UUID, Run] = {}
        self._lock = threading.Lock()

    # -- bookkeeping ------------------------------------------------------------------------------------
    def _open(self, run_id: UUID, parent_run_id: Optional[UUID], name: str, kind: str, input: Any,
              kwargs: dict[str, Any]) -> Optional[Span]:
        with self._lock:
            parent = self._spans.get(parent_run_id) if parent_run_id is not None else None
        if parent is None:
            parent = _CURRENT.get()
            if parent is _UNSAMPLED:
                return None
            if parent is None:
                parent = self._start_root(run_id, name, input)
                if parent is None:
                    return None
                if kind == "chain":  # the outermost chain is the run itself, not a span in it
                    return None
        span = Span(parent.run, name, kind, parent.span_id, input)
        metadata = kwargs.get("metadata") or {}
        if metadata.get("ls_model_name"):
            span.set_model(metadata["ls_model_name"], metadata.get("ls_provider"))
        if kwargs.get("tags"):
            span.set_attribute("tags", list(kwargs["tags"]))
        span.start(activate=False)
        with self._lock:
            self._spans[run_id] = span
        return span

    def _start_root(self, run_id: UUID, name: str, input: Any) -> Optional[Run]:
        tracer = self.tracer or get_tracer()
        if not tracer.enabled:
            return None
        run = Run(tracer, _Spec(None, self.agent_id or tracer.agent_id or name, "agent", tracer, None, True),
                  input, {})
        run.framework = "langchain"
        with self._lock:
            self._spans[run_id] = run
            self._roots[run_id] = run
        return run

    def _close(self, run_id: UUID, output: Any = None, error: Optional[BaseException] = None,
               update: Optional[Callable[[Span], None]] = None) -> None:
        with self._lock:
            item = self._spans.pop(run_id, None)
            root = self._roots.pop(run_id, None)
        if isinstance(item, Span):
            if error is None:
                item.set_output(output)
            if update is not None:
                update(item)
            item.end(error)
        if root is not None:  # the outermost LangChain run ended: the trace goes out
            _finish(root, output, error)

    # -- chains -----------------------------------------------------------------------------------------
    def on_chain_start(self, serialized: dict[str, Any], inputs: Any, *, run_id: UUID,
                       parent_run_id: Optional[UUID] = None, **kwargs: Any) -> None:
        self._open(run_id, parent_run_id, _name(serialized, kwargs, "chain"), "chain", inputs, kwargs)

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._close(run_id, outputs)

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._close(run_id, error=error)

    # -- models -----------------------------------------------------------------------------------------
    def on_chat_model_start(self, serialized: dict[str, Any], messages: list[list[Any]], *, run_id: UUID,
                            parent_run_id: Optional[UUID] = None, **kwargs: Any) -> None:
        span = self._open(run_id, parent_run_id, _name(serialized, kwargs, "chat_model"), "llm",
                          {"messages": messages[0] if len(messages) == 1 else messages}, kwargs)
        self._model_from_params(span, kwargs)

    def on_llm_start(self, serialized: dict[str, Any], prompts: list[str], *, run_id: UUID,
                     parent_run_id: Optional[UUID] = None, **kwargs: Any) -> None:
        span = self._open(run_id, parent_run_id, _name(serialized, kwargs, "llm"), "llm", {"prompts": prompts},
                          kwargs)
        self._model_from_params(span, kwargs)

    @staticmethod
    def _model_from_params(span: Optional[Span], kwargs: dict[str, Any]) -> None:
        params = kwargs.get("invocation_params") or {}
        model = params.get("model") or params.get("model_name")
        if span is not None and model and not span.model:
            span.set_model(model)

    def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
        generations = [g for batch in (getattr(response, "generations", None) or []) for g in batch]
        texts, calls = [], []
        usage = {"input_tokens": 0, "output_tokens": 0, "cached_tokens": 0}
        for generation in generations:
            texts.append(getattr(generation, "text", "") or "")
            message = getattr(generation, "message", None)
            calls.extend({"name": c.get("name"), "arguments": c.get("args"), "id": c.get("id")}
                         for c in (getattr(message, "tool_calls", None) or []))
            metadata = getattr(message, "usage_metadata", None) or {}
            usage["input_tokens"] += metadata.get("input_tokens", 0) or 0
            usage["output_tokens"] += metadata.get("output_tokens", 0) or 0
            usage["cached_tokens"] += (metadata.get("input_token_details") or {}).get("cache_read", 0) or 0
        token_usage = (getattr(response, "llm_output", None) or {}).get("token_usage") or {}
        if not usage["input_tokens"] and token_usage:
            usage["input_tokens"] = token_usage.get("prompt_tokens", 0) or 0
            usage["output_tokens"] = token_usage.get("completion_tokens", 0) or 0
        output: dict[str, Any] = {"role": "assistant", "content": "".join(texts)}
        if calls:
            output["tool_calls"] = calls

        def update(span: Span) -> None:
            if any(usage.values()):
                span.set_usage(**usage)
            if calls:
                span.set_attribute("tool_calls", [c["name"] for c in calls])

        self._close(run_id, output, update=update)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._close(run_id, error=error)

    # -- tools and retrievers ----------------------------------------------------------------------------
    def on_tool_start(self, serialized: dict[str, Any], input_str: str, *, run_id: UUID,
                      parent_run_id: Optional[UUID] = None, inputs: Optional[dict[str, Any]] = None,
                      **kwargs: Any) -> None:
        self._open(run_id, parent_run_id, _name(serialized, kwargs, "tool"), "tool",
                   inputs if inputs is not None else input_str, kwargs)

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._close(run_id, getattr(output, "content", output))

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._close(run_id, error=error)

    def on_retriever_start(self, serialized: dict[str, Any], query: str, *, run_id: UUID,
                           parent_run_id: Optional[UUID] = None, **kwargs: Any) -> None:
        self._open(run_id, parent_run_id, _name(serialized, kwargs, "retriever"), "retrieval", {"query": query},
                   kwargs)

    def on_retriever_end(self, documents: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._close(run_id, [{"page_content": getattr(d, "page_content", d), "metadata": getattr(d, "metadata", {})}
                             for d in documents])

    def on_retriever_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._close(run_id, error=error)
