"""Recognise raw agent-framework outputs and extract canonical spans from them.

Each framework has a detector (how sure are we, and why) and an extractor (tool calls with name,
arguments, result and error; LLM calls with model and usage). Shapes are those of each library's
own objects serialised to JSON (`model_dump()`, `dumpd()`, `.dict()`), see tests/fixtures/frameworks/.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .trace import ErrorInfo, Span, Usage

GENERIC = "generic"


@dataclass(frozen=True, slots=True)
class Detection:
    framework: str
    confidence: float
    evidence: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"framework": self.framework, "confidence": self.confidence, "evidence": list(self.evidence)}


# --- small helpers shared by the extractors -------------------------------------------------------------

# Tool results that report a failure, as the frameworks word them ("An error occurred while running the tool"
# is the OpenAI Agents SDK's default, "Error executing tool" smolagents' and CrewAI's).
_ERROR_TEXT = re.compile(
    r"^\s*(?:error\b|exception\b|traceback\b|tool error\b|failed\b|an error occurred while (?:running|calling|executing)|"
    r"error executing tool|tool not found|unknown tool|invoking `?\w+\(?\)?`? failed|"
    r"(?P<type>[A-Z]\w*(?:Error|Exception|Timeout))\s*[:(])",
    re.IGNORECASE,
)


_FAILED_STATUS = frozenset({"error", "failed", "failure"})
_RESULT_WRAPPERS = frozenset({"result", "output"})  # ADK wraps a tool's return value as {"result": ...}


def _error_from_text(text: Any) -> ErrorInfo | None:
    """Tool results that are error reports: error text (frameworks that catch tool exceptions return them as
    text), or an error object the tool returned instead of raising ({"status": "error"}, {"error": ...},
    {"ok": false}), as data or as its JSON."""
    data, _ = _args(text)
    if isinstance(data, dict):
        return _error_in_data(data)
    if not isinstance(text, str):
        return None
    match = _ERROR_TEXT.match(text)
    if not match:
        return None
    return ErrorInfo(type=match.group("type") or "ToolError", message=text[:2000])


def _error_in_data(data: dict[str, Any]) -> ErrorInfo | None:
    if len(data) == 1 and set(data) <= _RESULT_WRAPPERS:
        return _error_from_text(next(iter(data.values())))
    error = data.get("error")
    failed = (str(data.get("status", "")).lower() in _FAILED_STATUS or data.get("ok") is False
              or data.get("success") is False)
    if not (failed or error):
        return None
    detail = error if isinstance(error, dict) else {"message": error} if isinstance(error, str) else {}
    message = detail.get("message") or data.get("message") or json.dumps(data, default=str)
    return ErrorInfo(type=str(detail.get("type") or "ToolError"), message=str(message)[:2000])


def _args(raw: Any) -> tuple[Any, bool]:
    """Tool arguments as data, and whether they were well-formed (JSON strings must parse)."""
    if isinstance(raw, str):
        stripped = raw.strip()
        if stripped[:1] in ("{", "["):
            try:
                return json.loads(stripped), True
            except ValueError:
                return raw, False
    return raw, True


def _text(content: Any) -> Any:
    """Flatten content-block lists ([{"type": "text", "text": ...}]) to text; leave other values alone."""
    if isinstance(content, list) and content and all(isinstance(b, dict) for b in content):
        texts = [b.get("text") for b in content if isinstance(b.get("text"), str)]
        if texts:
            return "\n".join(texts)
    return content


def _usage(input_tokens: Any = 0, output_tokens: Any = 0, cached_tokens: Any = 0) -> Usage | None:
    values = [v if isinstance(v, int) and not isinstance(v, bool) and v >= 0 else 0
              for v in (input_tokens, output_tokens, cached_tokens)]
    if not any(values):
        return None
    return Usage(input_tokens=values[0], output_tokens=values[1], cached_tokens=min(values[2], values[0]))


def _get(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


class _Builder:
    """Collects spans in order and pairs tool calls with their results by call id."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.spans: list[Span] = []
        self.pending: dict[str, Span] = {}

    def llm(self, *, model: Any = None, provider: str | None = None, usage: Usage | None = None,
            output: Any = None, input: Any = None, name: str = "") -> Span:
        model_name = str(model)[:512] if model else None
        span = Span(span_id=self._id(), kind="llm", name=(name or model_name or "llm")[:512], model=model_name,
                    provider=provider, usage=usage, output=output, input=input)
        self.spans.append(span)
        return span

    def tool(self, name: Any, arguments: Any, *, call_id: Any = None, output: Any = None,
             error: ErrorInfo | None = None, kind: str = "tool") -> Span:
        value, well_formed = _args(arguments)
        span = Span(span_id=self._id(), kind=kind, name=str(name or "tool")[:512], input=value,  # type: ignore[arg-type]
                    output=output, error=error)
        if not well_formed:
            span.attributes["arguments_invalid"] = True
        if call_id:
            span.attributes["call_id"] = str(call_id)
            self.pending[str(call_id)] = span
        self.spans.append(span)
        return span

    def result(self, call_id: Any, output: Any, *, is_error: bool = False, name: Any = None) -> None:
        span = self.pending.pop(str(call_id), None) if call_id else None
        if span is None:
            span = self.tool(name or "tool", None)
        span.output = output
        span.error = _tool_error(output, is_error)
        if _is_handoff(span):
            span.kind = "agent"

    def _id(self) -> str:
        return f"{self.prefix}-{len(self.spans)}"


def _is_handoff(span: Span) -> bool:
    """A handoff to another agent made as a function call: the OpenAI Agents SDK's transfer_to_<agent>, answered
    {"assistant": <agent>}, and Google ADK's transfer_to_agent(agent_name=...)."""
    answer, _ = _args(span.output)
    if span.name.startswith("transfer_to_") and isinstance(answer, dict) and set(answer) == {"assistant"}:
        return True
    return span.name == "transfer_to_agent" and isinstance(span.input, dict) and set(span.input) == {"agent_name"}


def _tool_error(output: Any, is_error: bool) -> ErrorInfo | None:
    found = _error_from_text(_text(output))
    if found or not is_error:
        return found
    return ErrorInfo(type="ToolError", message=str(_text(output))[:2000])


# --- LangChain AgentExecutor ---------------------------------------------------------------------------

def _lc_kwargs(obj: Any) -> Any:
    """Unwrap `langchain_core.load.dumpd` envelopes ({"lc": 1, "type": "constructor", "kwargs": ...})."""
    if isinstance(obj, dict) and obj.get("lc") == 1 and isinstance(obj.get("kwargs"), dict):
        return obj["kwargs"]
    return obj


def _detect_langchain(obj: Any) -> tuple[float, list[str]]:
    if isinstance(obj, list):
        if _lg_updates(obj):
            return 0.0, []  # LangGraph's update stream
        confidence, evidence = _detect_lc_messages(obj)
        return confidence, ["a list of LangChain messages", *evidence] if confidence else []
    steps = obj.get("intermediate_steps") if isinstance(obj, dict) else None
    if not isinstance(steps, list):
        return 0.0, []
    evidence = ["intermediate_steps"]
    first = steps[0] if steps else None
    if isinstance(first, list) and len(first) == 2:
        action = _lc_kwargs(first[0])
        if isinstance(action, dict) and "tool" in action and "tool_input" in action:
            evidence.append("(AgentAction, observation) pairs")
            return 0.98, evidence
    return 0.8, evidence


_LC_SENTINELS = ("_Exception", "invalid_tool", "_InvalidTool")


def _extract_langchain(obj: Any) -> list[Span]:
    b = _Builder("lc")
    if isinstance(obj, list):
        _lc_message_spans(b, _lc_messages(obj))
        return b.spans
    seen_messages: set[str] = set()
    for step in obj.get("intermediate_steps") or []:
        if not (isinstance(step, list) and len(step) == 2):
            continue
        action, observation = _lc_kwargs(step[0]), step[1]
        if not isinstance(action, dict):
            continue
        for message in map(_lc_message, _dicts(action.get("message_log"))):
            # the model call that chose this action (parallel actions share one)
            if str(message.get("id")) not in seen_messages:
                seen_messages.add(str(message.get("id")))
                usage, meta = message.get("usage_metadata") or {}, message.get("response_metadata") or {}
                b.llm(model=meta.get("model_name") or meta.get("model"), provider=_provider_from_meta(meta),
                      usage=_usage(usage.get("input_tokens"), usage.get("output_tokens"),
                                   _get(usage, "input_token_details", "cache_read")))
        tool = action.get("tool")
        error = _error_from_text(observation)
        if tool == "_Exception":
            # handle_parsing_errors=True turns an unparseable LLM answer into this pseudo-tool.
            error = ErrorInfo(type="OutputParserException", message=str(observation)[:2000])
        elif isinstance(observation, str) and "is not a valid tool" in observation:
            error = ErrorInfo(type="InvalidTool", message=observation[:2000])
        span = b.tool(tool, action.get("tool_input"), call_id=action.get("tool_call_id"),
                      output=observation, error=error)
        if tool in _LC_SENTINELS:
            span.attributes["pseudo_tool"] = True
    return b.spans


# --- LangGraph state (LangChain message dicts) -----------------------------------------------------------

_LC_MESSAGE_TYPES = {"human", "ai", "tool", "system", "function", "AIMessageChunk", "ToolMessageChunk",
                     "HumanMessageChunk", "SystemMessageChunk"}


# A streamed reply is the sum of its chunks, typed by class name
_LC_CHUNK_TYPES = {"AIMessageChunk": "ai", "ToolMessageChunk": "tool", "HumanMessageChunk": "human",
                   "SystemMessageChunk": "system"}


def _lc_message(m: dict[str, Any]) -> dict[str, Any]:
    """A LangChain message dict: dumpd's {"lc": 1, "kwargs": ...} and messages_to_dict's {"type", "data"} unwrapped,
    chunks typed as the message they add up to."""
    m = _lc_kwargs(m)
    if isinstance(m.get("data"), dict) and m.get("type") in _LC_MESSAGE_TYPES and set(m) <= {"type", "data"}:
        m = {**m["data"], "type": m["data"].get("type", m["type"])}
    if m.get("type") in _LC_CHUNK_TYPES:
        m = {**m, "type": _LC_CHUNK_TYPES[m["type"]]}
    return m


def _lc_messages(obj: Any) -> list[dict[str, Any]]:
    messages = obj.get("messages") if isinstance(obj, dict) else _lg_updates(obj) or obj
    return [_lc_message(m) for m in _dicts(messages)]


def _lg_updates(obj: Any) -> list[Any]:
    """The messages of LangGraph's `stream(stream_mode="updates")` chunks, {node: {"messages": [...]}} each, in order."""
    chunks = _dicts(obj)
    if not chunks or len(chunks) < len(obj) or not all(
            len(c) == 1 and isinstance(u := next(iter(c.values())), dict) and isinstance(u.get("messages"), list)
            for c in chunks):
        return []
    return [m for c in chunks for m in next(iter(c.values()))["messages"]]


def _detect_lc_messages(obj: Any) -> tuple[float, list[str]]:
    """LangChain messages (model_dump, dumpd or messages_to_dict), with at least one AI message."""
    messages = _lc_messages(obj)
    typed = [m for m in messages if m.get("type") in _LC_MESSAGE_TYPES]
    if not messages or len(typed) < len(messages) or not any(m.get("type") == "ai" for m in typed):
        return 0.0, []
    evidence = ["messages with LangChain types (human/ai/tool)"]
    if any(isinstance(m.get("tool_calls"), list) and m["tool_calls"] and "args" in m["tool_calls"][0]
           for m in typed if m.get("type") == "ai"):
        evidence.append("AIMessage.tool_calls with args")
    if any("usage_metadata" in m or "response_metadata" in m for m in typed):
        evidence.append("usage_metadata/response_metadata")
    return min(0.99, 0.7 + 0.1 * len(evidence)), evidence


def _detect_langgraph(obj: Any) -> tuple[float, list[str]]:
    """A graph's state: {"messages": [LangChain messages], ...} (a bare list is LangChain's own loop)."""
    if not isinstance(obj, dict) and not _lg_updates(obj):
        return 0.0, []
    confidence, evidence = _detect_lc_messages(obj)
    shape = "state dict with messages" if isinstance(obj, dict) else "stream_mode='updates' chunks {node: {messages}}"
    return confidence, [shape, *evidence] if confidence else []


def _extract_langgraph(obj: Any) -> list[Span]:
    b = _Builder("lg")
    _lc_message_spans(b, _lc_messages(obj))
    return b.spans


def _lc_message_spans(b: _Builder, messages: list[dict[str, Any]]) -> None:
    for m in messages:
        kind = m.get("type")
        if kind == "ai":
            usage = m.get("usage_metadata") or {}
            meta = m.get("response_metadata") or {}
            b.llm(model=meta.get("model_name") or meta.get("model"),
                  usage=_usage(usage.get("input_tokens"), usage.get("output_tokens"),
                               _get(usage, "input_token_details", "cache_read")),
                  output=m.get("content") or None, provider=_provider_from_meta(meta))
            for call in _dicts(m.get("tool_calls")):
                b.tool(call.get("name"), call.get("args"), call_id=call.get("id"))
            for call in _dicts(m.get("invalid_tool_calls")):
                span = b.tool(call.get("name"), call.get("args"), call_id=call.get("id"))
                span.attributes["arguments_invalid"] = True
                span.error = ErrorInfo(type="InvalidToolCall", message=str(call.get("error") or "invalid arguments"))
        elif kind == "tool":
            b.result(m.get("tool_call_id"), m.get("content"), is_error=m.get("status") == "error", name=m.get("name"))


def _provider_from_meta(meta: dict[str, Any]) -> str | None:
    provider = meta.get("model_provider") or meta.get("ls_provider")
    return str(provider) if provider else None


# --- OpenAI Chat Completions -----------------------------------------------------------------------------

def _chat_messages(obj: Any) -> list[dict[str, Any]]:
    messages = obj.get("messages") if isinstance(obj, dict) else obj
    return _dicts(messages)


def _detect_openai_chat(obj: Any) -> tuple[float, list[str]]:
    if isinstance(obj, dict) and (obj.get("object") == "chat.completion"
                                  or (isinstance(obj.get("choices"), list) and _get(_first(obj["choices"]), "message"))):
        return 0.98, ["object=chat.completion / choices[].message"]
    messages = _chat_messages(obj)
    if not messages or not all("role" in m for m in messages):
        return 0.0, []
    evidence: list[str] = []
    if any(isinstance(c.get("function"), dict) for m in messages for c in _dicts(m.get("tool_calls"))):
        evidence.append("assistant tool_calls[].function")
    if any(m.get("role") == "tool" and "tool_call_id" in m for m in messages):
        evidence.append("role=tool messages with tool_call_id")
    if not evidence:
        return 0.0, []
    return 0.75 + 0.1 * len(evidence), evidence


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else None


def _extract_openai_chat(obj: Any) -> list[Span]:
    b = _Builder("oai")
    if isinstance(obj, dict) and isinstance(obj.get("choices"), list):
        usage = obj.get("usage") or {}
        message = _get(_first(obj["choices"]), "message") or {}
        b.llm(model=obj.get("model"), provider="openai", output=message.get("content"),
              usage=_usage(usage.get("prompt_tokens"), usage.get("completion_tokens"),
                           _get(usage, "prompt_tokens_details", "cached_tokens")))
        for call in _dicts(message.get("tool_calls")):
            fn = call.get("function") or {}
            b.tool(fn.get("name"), fn.get("arguments"), call_id=call.get("id"))
        return b.spans
    for m in _chat_messages(obj):
        if m.get("role") == "assistant":
            b.llm(output=m.get("content"), provider="openai", model=m.get("model"))
            for call in _dicts(m.get("tool_calls")):
                fn = call.get("function") or {}
                b.tool(fn.get("name"), fn.get("arguments"), call_id=call.get("id"))
        elif m.get("role") == "tool":
            b.result(m.get("tool_call_id"), m.get("content"), name=m.get("name"))
    return b.spans


# --- OpenAI Responses API --------------------------------------------------------------------------------

_RESPONSE_ITEMS = {"function_call", "function_call_output", "message", "reasoning", "web_search_call",
                   "file_search_call", "computer_call", "mcp_call", "code_interpreter_call"}


def _detect_openai_responses(obj: Any) -> tuple[float, list[str]]:
    if isinstance(obj, dict) and obj.get("object") == "response" and isinstance(obj.get("output"), list):
        return 0.98, ["object=response", "output[] items"]
    items = obj if isinstance(obj, list) else None
    if items and any(d.get("type") in ("function_call", "function_call_output") for d in _dicts(items)):
        return 0.85, ["Responses input items (function_call / function_call_output)"]
    return 0.0, []


def _responses_items(b: _Builder, items: list[dict[str, Any]]) -> None:
    for item in items:
        kind = item.get("type")
        if kind == "function_call":
            b.tool(item.get("name"), item.get("arguments"), call_id=item.get("call_id"))
        elif kind == "function_call_output":
            b.result(item.get("call_id"), item.get("output"))
        elif kind in ("web_search_call", "file_search_call", "computer_call", "code_interpreter_call", "mcp_call"):
            span = b.tool(item.get("name") or kind, item.get("arguments") or item.get("action"),
                          output=item.get("output") or item.get("results"))
            if item.get("status") in ("failed", "incomplete") or item.get("error"):
                span.error = ErrorInfo(type="ToolError", message=str(item.get("error") or item.get("status")))


def _extract_openai_responses(obj: Any) -> list[Span]:
    b = _Builder("resp")
    if isinstance(obj, dict):
        usage = obj.get("usage") or {}
        output = _dicts(obj.get("output"))
        text = [_text(m.get("content")) for m in output if m.get("type") == "message"]
        b.llm(model=obj.get("model"), provider="openai", output=text[-1] if text else None,
              usage=_usage(usage.get("input_tokens"), usage.get("output_tokens"),
                           _get(usage, "input_tokens_details", "cached_tokens")))
        _responses_items(b, output)
    else:
        _responses_items(b, _dicts(obj))
    return b.spans


# --- OpenAI Agents SDK run result ------------------------------------------------------------------------

def _detect_openai_agents(obj: Any) -> tuple[float, list[str]]:
    if not isinstance(obj, dict):
        return 0.0, []
    if "$schemaVersion" in obj and ("generated_items" in obj or "model_responses" in obj):
        return 0.98, ["RunState.to_json(): $schemaVersion with generated_items/model_responses"]
    items = _dicts(obj.get("new_items"))
    evidence = []
    if items and all(str(i.get("type", "")).endswith("_item") for i in items):
        evidence.append("new_items[].type=*_item")
    if isinstance(obj.get("raw_responses"), list):
        evidence.append("raw_responses")
    if "final_output" in obj or "last_agent" in obj or "_last_agent" in obj:
        evidence.append("final_output/last_agent")
    return (0.0 if not evidence else 0.6 + 0.13 * len(evidence)), evidence


def _agents(obj: dict[str, Any]) -> list[dict[str, Any]]:
    """The serialised agents of a RunResult (it keeps each Agent with its fields; RunState.to_json() only names it)."""
    return _dicts([obj.get("last_agent"), obj.get("_last_agent"), *(i.get("agent") for i in _dicts(obj.get("new_items")))])


def _agents_model(obj: dict[str, Any]) -> Any:
    return next((a["model"] for a in _agents(obj) if isinstance(a.get("model"), str)), None)


def _required_parameters(obj: dict[str, Any]) -> dict[str, set[str]]:
    """Each tool's required parameters, from the JSON schemas the serialised agents carry."""
    return {str(t.get("name")): set(_get(t, "params_json_schema", "required") or ())
            for agent in _agents(obj) for t in _dicts(agent.get("tools"))}


def _mark_missing_arguments(spans: list[Span], required: dict[str, set[str]]) -> None:
    """A call that left out a parameter its tool's schema requires had invalid arguments, whatever the tool
    answered (the Agents SDK answers every failure with the same text)."""
    for span in spans:
        if span.kind == "tool" and isinstance(span.input, dict) and required.get(span.name, set()) - set(span.input):
            span.attributes["arguments_invalid"] = True


def _extract_openai_agents(obj: dict[str, Any]) -> list[Span]:
    b = _Builder("agents")
    model = _agents_model(obj)
    for response in _dicts(obj.get("raw_responses") or obj.get("model_responses")):
        usage = response.get("usage") or {}
        details = usage.get("input_tokens_details")
        details = details[0] if isinstance(details, list) and details else details
        b.llm(model=response.get("model") or model, provider="openai",
              usage=_usage(usage.get("input_tokens"), usage.get("output_tokens"), _get(details, "cached_tokens")))
    # a run continuing a conversation starts from its history: the earlier turns' items
    history = next((v for k in ("input", "original_input", "_original_input") if isinstance(v := obj.get(k), list)), [])
    _responses_items(b, _dicts(history))
    for item in _dicts(obj.get("new_items") or obj.get("generated_items")):
        raw = item.get("raw_item") or {}
        kind = item.get("type")
        if kind in ("tool_call_item", "handoff_call_item"):
            span = b.tool(raw.get("name") or raw.get("type"), raw.get("arguments"),
                          call_id=raw.get("call_id") or raw.get("id"))
            if kind == "handoff_call_item":
                span.kind = "agent"
        elif kind == "tool_call_output_item":
            b.result(raw.get("call_id"), item.get("output", raw.get("output")))
    _mark_missing_arguments(b.spans, _required_parameters(obj))
    return b.spans


# --- Anthropic Messages ----------------------------------------------------------------------------------

def _anthropic_messages(obj: Any) -> list[dict[str, Any]]:
    if isinstance(obj, dict) and obj.get("type") == "message":
        return [obj]
    return _chat_messages(obj)


def _detect_anthropic(obj: Any) -> tuple[float, list[str]]:
    if isinstance(obj, dict) and obj.get("type") == "message" and isinstance(obj.get("content"), list):
        evidence = ["type=message with content blocks"]
        if "stop_reason" in obj:
            evidence.append("stop_reason")
        return 0.9 + 0.05 * (len(evidence) - 1), evidence
    blocks = {b.get("type") for m in _anthropic_messages(obj) for b in _dicts(m.get("content"))}
    if blocks & {"tool_use", "tool_result"}:
        return 0.9, ["tool_use/tool_result content blocks"]
    return 0.0, []


def _extract_anthropic(obj: Any) -> list[Span]:
    b = _Builder("anth")
    for m in _anthropic_messages(obj):
        blocks = _dicts(m.get("content"))
        if m.get("role") == "assistant":
            usage = m.get("usage") or {}
            cached = usage.get("cache_read_input_tokens") or 0
            # Anthropic counts cached prompt tokens apart; the canonical input_tokens includes them.
            b.llm(model=m.get("model"), provider="anthropic", output=_text([x for x in blocks if x.get("type") == "text"]),
                  usage=_usage((usage.get("input_tokens") or 0) + cached + (usage.get("cache_creation_input_tokens") or 0),
                               usage.get("output_tokens"), cached))
            for block in blocks:
                if block.get("type") == "tool_use":
                    b.tool(block.get("name"), block.get("input"), call_id=block.get("id"))
        for block in blocks:
            if block.get("type") == "tool_result":
                b.result(block.get("tool_use_id"), _text(block.get("content")), is_error=bool(block.get("is_error")))
    return b.spans


# --- CrewAI crew output ----------------------------------------------------------------------------------

def _detect_crewai(obj: Any) -> tuple[float, list[str]]:
    if not isinstance(obj, dict) or not isinstance(obj.get("tasks_output"), list):
        return 0.0, []
    evidence = ["tasks_output"]
    if "token_usage" in obj:
        evidence.append("token_usage")
    if any("expected_output" in t for t in _dicts(obj["tasks_output"])):
        evidence.append("tasks_output[].expected_output")
    return 0.8 + 0.06 * len(evidence), evidence


_CREW_FAILURES = {"unknown_tool": "UnknownTool", "invalid_input": "InvalidToolArguments"}


def _extract_crewai(obj: dict[str, Any]) -> list[Span]:
    b = _Builder("crew")
    for task in _dicts(obj.get("tasks_output")):
        span = b.tool(task.get("name") or task.get("agent") or "task", task.get("description"), kind="agent")
        span.output = task.get("raw")
        span.attributes["agent"] = task.get("agent")
        # CrewAI 1.x keeps each task's conversation (OpenAI chat format) and its tool failures
        for m in _dicts(task.get("messages")):
            for call in _dicts(m.get("tool_calls")):
                fn = call.get("function") or {}
                b.tool(fn.get("name"), fn.get("arguments"), call_id=call.get("id"))
            if m.get("role") == "tool":
                b.result(m.get("tool_call_id"), m.get("content"), name=m.get("name"))
        failed = [s for s in b.spans if s.kind == "tool"]
        for failure in _dicts(task.get("tool_failures")):
            detail = failure.get("failure") or {}
            span = next((s for s in failed if s.name == failure.get("tool_name") and not s.attributes.get("crew_failure")),
                        None)
            if span is None:
                span = b.tool(failure.get("tool_name"), failure.get("tool_args"))
            span.attributes["crew_failure"] = True
            span.error = ErrorInfo(type=_CREW_FAILURES.get(str(detail.get("reason")), str(detail.get("code") or "ToolError")),
                                   message=str(detail.get("message") or "")[:2000])
    usage = obj.get("token_usage") or {}
    if usage:
        # CrewAI's token usage names no model, so its cost cannot be priced from the output alone
        span = b.llm(name="crew-llm-usage", usage=_usage(usage.get("prompt_tokens"), usage.get("completion_tokens"),
                                                        usage.get("cached_prompt_tokens")))
        span.attributes["requests"] = usage.get("successful_requests")
    return b.spans


# --- AutoGen (AgentChat TaskResult) and AG2 (ChatResult) ---------------------------------------------------

_AUTOGEN_TYPES = {"TextMessage", "ToolCallRequestEvent", "ToolCallExecutionEvent", "ToolCallSummaryMessage",
                  "StopMessage", "HandoffMessage", "ThoughtEvent", "MultiModalMessage"}


def _detect_autogen(obj: Any) -> tuple[float, list[str]]:
    if not isinstance(obj, dict):
        return 0.0, []
    if isinstance(obj.get("chat_history"), list):
        evidence = ["chat_history"] + [k for k in ("summary", "cost", "human_input") if k in obj]
        return 0.7 + 0.08 * len(evidence), evidence
    messages = _dicts(obj.get("messages"))
    if messages and all(m.get("type") in _AUTOGEN_TYPES and "source" in m for m in messages):
        evidence = ["messages[].type in AgentChat message types", "messages[].source"]
        if "stop_reason" in obj:
            evidence.append("stop_reason")
        return 0.9 + 0.03 * len(evidence), evidence
    return 0.0, []


def _extract_autogen(obj: dict[str, Any]) -> list[Span]:
    b = _Builder("ag")
    if isinstance(obj.get("chat_history"), list):
        for m in _dicts(obj["chat_history"]):
            for call in _dicts(m.get("tool_calls")):
                fn = call.get("function") or {}
                b.tool(fn.get("name"), fn.get("arguments"), call_id=call.get("id"))
            for response in _dicts(m.get("tool_responses")):
                b.result(response.get("tool_call_id"), response.get("content"))
        for model, stats in (_get(obj, "cost", "usage_including_cached_inference") or {}).items():
            if isinstance(stats, dict):
                span = b.llm(model=model, usage=_usage(stats.get("prompt_tokens"), stats.get("completion_tokens")))
                span.attributes["reported_cost"] = stats.get("cost")
        return b.spans
    for m in _dicts(obj.get("messages")):
        usage = m.get("models_usage")
        if isinstance(usage, dict):
            b.llm(name=str(m.get("source") or "llm"),
                  usage=_usage(usage.get("prompt_tokens"), usage.get("completion_tokens")))
        if m.get("type") == "ToolCallRequestEvent":
            for call in _dicts(m.get("content")):
                b.tool(call.get("name"), call.get("arguments"), call_id=call.get("id"))
        elif m.get("type") == "ToolCallExecutionEvent":
            for result in _dicts(m.get("content")):
                b.result(result.get("call_id"), result.get("content"), is_error=bool(result.get("is_error")),
                         name=result.get("name"))
    return b.spans


# --- LlamaIndex agent response ---------------------------------------------------------------------------

def _li_tool_results(obj: Any) -> list[dict[str, Any]]:
    """ToolCallResult events (tool_name, tool_kwargs, tool_output) from an AgentOutput, a list of events, or
    {"tool_calls": [...]}."""
    items = obj if isinstance(obj, list) else (obj.get("tool_calls") if isinstance(obj, dict) else None)
    return [i for i in _dicts(items) if "tool_kwargs" in i and "tool_name" in i]


def _detect_llamaindex(obj: Any) -> tuple[float, list[str]]:
    if isinstance(obj, list):
        results = _li_tool_results(obj)
        outputs = [i for i in _dicts(obj) if "current_agent_name" in i and "response" in i]
        if results or outputs:
            return 0.93, ["workflow events: ToolCallResult (tool_kwargs, tool_output) / AgentOutput"]
        return 0.0, []
    if not isinstance(obj, dict):
        return 0.0, []
    sources = _dicts(obj.get("sources"))
    if sources and all("tool_name" in s for s in sources):
        evidence = ["sources[] ToolOutput (tool_name)"]
        evidence += [k for k in ("source_nodes", "is_dummy_stream") if k in obj]
        return 0.8 + 0.06 * len(evidence), evidence
    if "current_agent_name" in obj and "response" in obj:
        return 0.93, ["AgentOutput (response, current_agent_name, tool_calls)"]
    calls = _dicts(obj.get("tool_calls"))
    if calls and all("tool_kwargs" in c for c in calls):
        return 0.92, ["tool_calls[] ToolCallResult (tool_kwargs, tool_output)"]
    return 0.0, []


def _li_output_text(result: dict[str, Any]) -> Any:
    """A ToolOutput's text: `content` before 0.14, text `blocks` since."""
    if "content" in result:
        return result["content"]
    blocks = [b.get("text") for b in _dicts(result.get("blocks")) if isinstance(b.get("text"), str)]
    return "\n".join(blocks) if blocks else result.get("raw_output")


def _extract_llamaindex(obj: Any) -> list[Span]:
    b = _Builder("li")
    for source in _dicts(obj.get("sources")) if isinstance(obj, dict) else []:
        raw_input = source.get("raw_input") or {}
        args = raw_input.get("kwargs") if isinstance(raw_input, dict) and "kwargs" in raw_input else raw_input
        output = _li_output_text(source)
        b.tool(source.get("tool_name"), args, output=output,
               error=_tool_error(output, bool(source.get("is_error"))))
    for call in _li_tool_results(obj):
        result = call.get("tool_output")
        if isinstance(result, dict):
            output = _li_output_text(result)
            b.tool(call.get("tool_name"), call.get("tool_kwargs"), call_id=call.get("tool_id"), output=output,
                   error=_tool_error(output, bool(result.get("is_error"))))
        elif isinstance(obj, dict):  # AgentOutput.tool_calls are the calls asked for, without results
            b.tool(call.get("tool_name"), call.get("tool_kwargs"), call_id=call.get("tool_id"))
    return b.spans


# --- Google ADK events -----------------------------------------------------------------------------------

def _adk_events(obj: Any) -> list[dict[str, Any]]:
    return _dicts(obj.get("events") if isinstance(obj, dict) else obj)


def _pick(d: dict[str, Any], snake: str, camel: str) -> Any:
    return d.get(snake, d.get(camel))


def _detect_google_adk(obj: Any) -> tuple[float, list[str]]:
    events = _adk_events(obj)
    if not events or not all("author" in e and ("invocation_id" in e or "invocationId" in e) for e in events):
        return 0.0, []
    evidence = ["events with author + invocation_id"]
    if any(_pick(p, "function_call", "functionCall") for e in events for p in _dicts(_get(e, "content", "parts"))):
        evidence.append("content.parts[].function_call")
    return 0.85 + 0.07 * (len(evidence) - 1), evidence


def _extract_google_adk(obj: Any) -> list[Span]:
    b = _Builder("adk")
    for event in _adk_events(obj):
        usage = _pick(event, "usage_metadata", "usageMetadata")
        if isinstance(usage, dict):
            texts = [p.get("text") for p in _dicts(_get(event, "content", "parts")) if p.get("text")]
            model = _pick(event, "model_version", "modelVersion")
            b.llm(model=model, provider="google" if str(model).startswith("gemini") else None, name=str(event.get("author")),
                  output="\n".join(texts) or None,
                  usage=_usage(_pick(usage, "prompt_token_count", "promptTokenCount"),
                               _pick(usage, "candidates_token_count", "candidatesTokenCount"),
                               _pick(usage, "cached_content_token_count", "cachedContentTokenCount")))
        for part in _dicts(_get(event, "content", "parts")):
            call = _pick(part, "function_call", "functionCall")
            response = _pick(part, "function_response", "functionResponse")
            if isinstance(call, dict):
                b.tool(call.get("name"), call.get("args"), call_id=call.get("id") or call.get("name"))
            if isinstance(response, dict):
                body = response.get("response")
                failed = isinstance(body, dict) and ("error" in body or body.get("status") == "error")
                b.result(response.get("id") or response.get("name"), body, is_error=failed, name=response.get("name"))
        code, message = _pick(event, "error_code", "errorCode"), str(_pick(event, "error_message", "errorMessage") or "")
        if code == "MALFORMED_FUNCTION_CALL":
            # the model's function call did not parse: the named tools' calls had invalid arguments
            for name in message.rpartition(":")[2].split(",") or ["tool"]:
                span = b.tool(name.strip() or "tool", None)
                span.attributes["arguments_invalid"] = True
                span.error = ErrorInfo(type="MalformedFunctionCall", message=message[:2000])
        elif code and b.pending:
            # an error event right after a call that got no response: the tool raised
            b.pending.pop(next(reversed(b.pending))).error = ErrorInfo(type=str(code), message=message[:2000])
        elif code:
            span = b.llm(name="model-error")
            span.error = ErrorInfo(type=str(code), message=message[:2000])
    return b.spans


# --- smolagents memory steps -----------------------------------------------------------------------------

def _smol_steps(obj: Any) -> list[dict[str, Any]]:
    return _dicts(obj.get("steps") if isinstance(obj, dict) else obj)


def _detect_smolagents(obj: Any) -> tuple[float, list[str]]:
    steps = _smol_steps(obj)
    actions = [s for s in steps if "step_number" in s and "observations" in s]
    if not actions:
        return 0.0, []
    evidence = ["steps with step_number + observations"]
    if any("model_output" in s and "is_final_answer" in s for s in actions):
        evidence.append("ActionStep.model_output/is_final_answer")
    return 0.85 + 0.07 * (len(evidence) - 1), evidence


_SMOL_FINAL = "final_answer"  # ToolCallingAgent answers by calling this tool: the answer, not a tool use


def _extract_smolagents(obj: Any) -> list[Span]:
    b = _Builder("smol")
    steps = [s for s in _smol_steps(obj) if "step_number" in s]
    # one model runs every step; a step that failed before the model answered does not name it
    run_model = next((m for s in steps if (m := _get(s, "model_output_message", "raw", "model"))), None)
    for step in steps:
        usage = step.get("token_usage") or {}
        llm = b.llm(model=_get(step, "model_output_message", "raw", "model") or run_model,
                    name=f"step {step['step_number']}", output=step.get("model_output"),
                    usage=_usage(usage.get("input_tokens"), usage.get("output_tokens")))
        duration = _get(step, "timing", "duration")
        error = step.get("error")
        # a step whose tool call failed keeps the call only in the model's message
        calls = _dicts(step.get("tool_calls")) or _dicts(_get(step, "model_output_message", "tool_calls"))
        for call in calls:
            fn = call.get("function") or {}
            span = b.tool(fn.get("name"), fn.get("arguments"), call_id=call.get("id"), output=step.get("observations"))
            if fn.get("name") == _SMOL_FINAL:
                span.attributes["pseudo_tool"] = True
            else:  # a tool that returned an error object instead of raising
                span.error = _error_from_text(span.output)
        if isinstance(duration, int | float):
            llm.duration_ms = float(duration) * 1000
        if isinstance(error, dict):
            # smolagents records the step's failure (tool call, parsing, max steps) on the step itself.
            failed = b.spans[-1] if calls else llm
            failed.error = ErrorInfo(type=str(error.get("type") or "AgentError"), message=str(error.get("message"))[:2000])
    return b.spans


def _smolagents_run_error(obj: Any) -> ErrorInfo | None:
    """A run that ended at max_steps: RunResult.state, or the last step's AgentMaxStepsError."""
    steps = [s for s in _smol_steps(obj) if "step_number" in s]
    last_error = steps[-1].get("error") if steps else None
    if isinstance(obj, dict) and obj.get("state") == "max_steps_error":
        return ErrorInfo(type="AgentMaxStepsError", message="Reached max steps.")
    if isinstance(last_error, dict) and last_error.get("type") == "AgentMaxStepsError":
        return ErrorInfo(type="AgentMaxStepsError", message=str(last_error.get("message") or "Reached max steps."))
    return None


# --- Pydantic AI messages --------------------------------------------------------------------------------

def _detect_pydantic_ai(obj: Any) -> tuple[float, list[str]]:
    messages = _chat_messages(obj)
    if not messages or not all(m.get("kind") in ("request", "response") and "parts" in m for m in messages):
        return 0.0, []
    evidence = ["messages[].kind request/response with parts"]
    if any("part_kind" in p for m in messages for p in _dicts(m.get("parts"))):
        evidence.append("parts[].part_kind")
    return 0.85 + 0.1 * (len(evidence) - 1), evidence


_PAI_CAUSES = {"unknown_tool": "UnknownTool", "validation_error": "ValidationError", "model_retry": "ModelRetry"}


def _extract_pydantic_ai(obj: Any) -> list[Span]:
    b = _Builder("pai")
    for m in _chat_messages(obj):
        parts = _dicts(m.get("parts"))
        if m.get("kind") == "response":
            usage = m.get("usage") or {}
            texts = [p.get("content") for p in parts if p.get("part_kind") == "text"]
            b.llm(model=m.get("model_name"), provider=m.get("provider_name"), output="\n".join(map(str, texts)) or None,
                  usage=_usage(usage.get("input_tokens", usage.get("request_tokens")),
                               usage.get("output_tokens", usage.get("response_tokens")),
                               usage.get("cache_read_tokens")))
            for part in parts:
                if part.get("part_kind") == "tool-call":
                    b.tool(part.get("tool_name"), part.get("args"), call_id=part.get("tool_call_id"))
        else:
            for part in parts:
                if part.get("part_kind") == "tool-return" and part.get("outcome") in ("retried", "failed", "denied"):
                    # pydantic-ai 2.x: a call answered with a retry; retry.cause says why
                    cause = str(_get(part, "retry", "cause") or part.get("outcome"))
                    b.result(part.get("tool_call_id"), part.get("content"), is_error=True, name=part.get("tool_name"))
                    b.spans[-1].error = ErrorInfo(type=_PAI_CAUSES.get(cause, "ToolRetry"),
                                                  message=f"{cause}: {_text(part.get('content'))}"[:2000])
                elif part.get("part_kind") == "tool-return":
                    b.result(part.get("tool_call_id"), part.get("content"), name=part.get("tool_name"))
                elif part.get("part_kind") == "retry-prompt" and part.get("tool_name"):
                    # A retry prompt answering a tool call means the call's arguments failed validation.
                    b.result(part.get("tool_call_id"), part.get("content"), is_error=True, name=part.get("tool_name"))
                    b.spans[-1].error = ErrorInfo(type="ValidationError", message=str(part.get("content"))[:2000])
    return b.spans


# --- generic JSON ----------------------------------------------------------------------------------------

_GENERIC_LISTS = ("tool_calls", "tools_used", "actions", "steps")


def _detect_generic(obj: Any) -> tuple[float, list[str]]:
    if isinstance(obj, dict):
        for key in _GENERIC_LISTS:
            calls = _dicts(obj.get(key))
            if calls and all(("name" in c or "tool" in c) for c in calls):
                return 0.5, [f"{key}[] with name/tool"]
    return 0.0, []


def _extract_generic(obj: Any) -> list[Span]:
    b = _Builder("gen")
    if not isinstance(obj, dict):
        return []
    for key in _GENERIC_LISTS:
        for call in _dicts(obj.get(key)):
            error = call.get("error")
            b.tool(call.get("name") or call.get("tool"),
                   call.get("arguments", call.get("args", call.get("input"))),
                   output=call.get("result", call.get("output")),
                   error=ErrorInfo(type="ToolError", message=str(error)) if error else None)
    return b.spans


Detector = Callable[[Any], tuple[float, list[str]]]
Extractor = Callable[[Any], list[Span]]

FRAMEWORKS: dict[str, tuple[Detector, Extractor]] = {
    "langchain": (_detect_langchain, _extract_langchain),
    "langgraph": (_detect_langgraph, _extract_langgraph),
    "openai_agents": (_detect_openai_agents, _extract_openai_agents),
    "openai_responses": (_detect_openai_responses, _extract_openai_responses),
    "openai": (_detect_openai_chat, _extract_openai_chat),
    "anthropic": (_detect_anthropic, _extract_anthropic),
    "crewai": (_detect_crewai, _extract_crewai),
    "autogen": (_detect_autogen, _extract_autogen),
    "llamaindex": (_detect_llamaindex, _extract_llamaindex),
    "google_adk": (_detect_google_adk, _extract_google_adk),
    "smolagents": (_detect_smolagents, _extract_smolagents),
    "pydantic_ai": (_detect_pydantic_ai, _extract_pydantic_ai),
    GENERIC: (_detect_generic, _extract_generic),
}
FRAMEWORK_NAMES: tuple[str, ...] = tuple(FRAMEWORKS)


# Outputs that record how the run ended without raising.
RUN_ERRORS: dict[str, Callable[[Any], ErrorInfo | None]] = {"smolagents": _smolagents_run_error}

# A run that raised and returned nothing still says which library it ran in: its traceback's frames.
# Outermost agent library first; the model clients only when no agent library appears.
_TRACEBACK_LIBRARIES: tuple[tuple[str, str], ...] = (
    ("langchain_classic/", "langchain"), ("langgraph/", "langgraph"), ("langchain/", "langchain"),
    ("agents/", "openai_agents"), ("pydantic_ai/", "pydantic_ai"), ("smolagents/", "smolagents"),
    ("llama_index/", "llamaindex"), ("crewai/", "crewai"), ("autogen_agentchat/", "autogen"),
    ("autogen_core/", "autogen"), ("autogen/", "autogen"), ("google/adk/", "google_adk"),
    ("langchain_core/", "langchain"),
)
_CLIENT_LIBRARIES = (("anthropic/", "anthropic"), ("openai/resources/responses/", "openai_responses"), ("openai/", "openai"))
_FRAME_FILE = re.compile(r'^\s*File "(?P<file>[^"]+)", line \d+, in (?P<function>\S+)', re.MULTILINE)
_SITE = re.compile(r"(?:site|dist)-packages/")


def frames(traceback: str) -> list[tuple[str, str]]:
    """(path inside site-packages or the file as written, function) of each frame, outermost first."""
    found = []
    for match in _FRAME_FILE.finditer(traceback or ""):
        path = match["file"].replace("\\", "/")
        site = _SITE.search(path)
        found.append((path[site.end():] if site else "", match["function"]))
    return found


def from_traceback(traceback: str) -> Detection | None:
    libraries = [path for path, _ in frames(traceback) if path]
    for table in (_TRACEBACK_LIBRARIES, _CLIENT_LIBRARIES):
        for path in libraries:
            for prefix, framework in table:
                if path.startswith(prefix):
                    return Detection(framework, 0.9, (f"traceback through {prefix.rstrip('/')}",))
    return None


def run_error(framework: str, obj: Any) -> ErrorInfo | None:
    check = RUN_ERRORS.get(framework)
    return check(obj) if check else None


def detect(obj: Any) -> Detection:
    """The framework whose serialised output `obj` looks like, how sure we are (0-1) and why."""
    best = Detection(GENERIC, 0.0, ())
    for name, (detector, _) in FRAMEWORKS.items():
        confidence, evidence = detector(obj)
        if confidence > best.confidence:
            best = Detection(name, round(min(confidence, 1.0), 2), tuple(evidence))
    return best


def extract_spans(framework: str, obj: Any) -> list[Span]:
    entry = FRAMEWORKS.get(framework)
    return entry[1](obj) if entry else []


def candidates(output: Any, input: Any, metadata: dict[str, Any]) -> Iterator[Any]:
    """Where a raw framework object may sit in a trace: the output, metadata["raw"], the input."""
    yield output
    if "raw" in metadata:
        yield metadata["raw"]
    yield input
