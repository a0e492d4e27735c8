"""Why a run failed: a fixed taxonomy, classified from where the failure happened, and a stable fingerprint.

Where first: the error a run raised is traced back to the span it came from (a tool, a model call) when
a failing span raised the same exception type; otherwise it was raised by the agent's own code. Then
what: the exception type (the libraries' own classes: RateLimitError, UsageLimitExceeded,
AgentMaxStepsError, ...), then the message. The same words mean different things in different places:
"timed out" in a tool is a tool timeout, in a model call a model timeout, and in the agent's own code an
agent error (an agent that raised "payment gateway timeout" after every tool succeeded has no tool to fix).

The fingerprint groups runs that failed the same way: it hashes the category, the error message with
ids, numbers, uuids and hex stripped, and the failing step's name, so "order 8812 timed out after 30s"
and "order 9913 timed out after 45s" in the same tool are one pattern.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from .frameworks import frames
from .trace import ErrorInfo, Span, Trace

TAXONOMY: dict[str, str] = {
    "tool_timeout": "A tool call did not answer in time.",
    "llm_timeout": "A model call did not answer in time.",
    "rate_limit": "A provider or tool refused for rate (HTTP 429, 'rate limit', 'too many requests', quota).",
    "auth_error": "Credentials were missing or refused (HTTP 401/403, 'unauthorized', 'invalid api key').",
    "context_length_exceeded": "The prompt did not fit the model's context window ('maximum context length').",
    "unknown_tool": "The model called a tool that does not exist ('is not a valid tool', 'unknown tool').",
    "invalid_tool_arguments": "A tool call's arguments were malformed or failed validation.",
    "output_parse_error": "The model's answer could not be parsed (OutputParserException, 'could not parse').",
    "max_iterations": "The agent hit its step, turn or request limit before answering.",
    "infinite_loop": "The same tool was called with the same arguments three or more times.",
    "network_error": "A connection to a tool or provider failed (ConnectionError, DNS, HTTP 5xx).",
    "tool_error": "A tool call raised or returned an error not covered above, and the run failed.",
    "llm_error": "A model call failed for a reason not covered above.",
    "agent_error": "The agent's own code raised an exception outside any tool or model call.",
    "compliance_violation": "A compliance rule failed (secret or sensitive personal data leaked).",
    "empty_output": "The run ended without raising but the agent produced an empty output.",
    "wrong_answer": "A reviewer labelled the run failed and no technical cause was found.",
}

# What kind of problem an error is, from its exception class name (the libraries' own classes).
_TYPES: dict[str, str] = {
    **dict.fromkeys(("TimeoutError", "Timeout", "ReadTimeout", "ConnectTimeout", "WriteTimeout", "PoolTimeout",
                     "TimeoutException", "APITimeoutError", "DeadlineExceeded"), "timeout"),
    **dict.fromkeys(("RateLimitError", "TooManyRequests", "ResourceExhausted", "RateLimitExceeded"), "rate_limit"),
    **dict.fromkeys(("AuthenticationError", "PermissionDeniedError", "Unauthorized", "Forbidden",
                     "Unauthenticated", "PermissionDenied"), "auth_error"),
    **dict.fromkeys(("ConnectionError", "APIConnectionError", "ConnectError", "ConnectionRefusedError",
                     "ConnectionResetError", "RemoteProtocolError", "InternalServerError", "ServiceUnavailable",
                     "ServiceUnavailableError", "BadGateway", "APIStatusError5xx"), "network_error"),
    **dict.fromkeys(("ContextWindowExceededError", "ContextWindowExceeded", "ContextLengthExceeded"),
                    "context_length_exceeded"),
    **dict.fromkeys(("OutputParserException", "OutputParserError", "AgentParsingError"), "output_parse_error"),
    **dict.fromkeys(("UsageLimitExceeded", "AgentMaxStepsError", "GraphRecursionError", "MaxTurnsExceeded",
                     "MaxIterationsExceeded", "MaxStepsExceeded", "LlmCallsLimitExceededError"), "max_iterations"),
    **dict.fromkeys(("InvalidTool", "ToolNotFound", "ToolNotFoundError", "UnknownToolError", "UnknownTool"),
                    "unknown_tool"),
    **dict.fromkeys(("ValidationError", "JSONDecodeError", "AgentToolCallError", "ToolInputValidationError",
                     "InvalidToolCall", "InvalidToolArguments", "MalformedFunctionCall"), "invalid_tool_arguments"),
    **dict.fromkeys(("OpenAIRateLimitError", "ModelRateLimitError"), "rate_limit"),
    **dict.fromkeys(("ToolException", "AgentToolExecutionError", "ToolError", "ToolExecutionError"), "tool_error"),
}

# The same, from the message: priority order.
_MESSAGES: tuple[tuple[str, re.Pattern[str]], ...] = tuple((kind, re.compile(pattern, re.IGNORECASE)) for kind, pattern in (
    ("max_iterations", r"max(?:imum)?.?(?:iterations?|steps?|turns?)|iteration limit|recursion limit|maxturns|"
                       r"request_limit|exceed the (?:request|tool_calls)_limit|usage limit|need more steps|"
                       r"(?:stopped|gave up|giving up) after \d+ (?:iterations?|steps?|turns?|rounds?)|"
                       r"llm calls limit|max number of llm calls|"
                       # AutoGen asked for a final answer after its tool iterations and got another tool call;
                       # CrewAI at max_iter took the model's tool calls for the task's final output
                       r"reflect on tool use produced no valid text|validation error for TaskOutput\s+raw"),
    ("rate_limit", r"\b429\b|rate.?limit|too many requests|quota|throttl|overloaded"),
    ("auth_error", r"\b40[13] (?:unauthori|forbidden)|unauthori[sz]ed|forbidden|authentication|invalid.{0,10}api.?key|"
                   r"permission denied|incorrect api key"),
    ("context_length_exceeded", r"context.?length|context window|maximum context|too many tokens|prompt is too long|"
                                r"token limit"),
    ("unknown_tool", r"not a valid tool|unknown tool|no such tool|tool .{0,60}(?:not found|does not exist|unknown)|"
                     r"invalidtool\b|not one of the available tools|tool not found|no tool with that name"),
    ("invalid_tool_arguments", r"validation ?error|invalid (?:tool )?(?:arguments?|input)|invalidtoolcall|"
                               r"missing (?:\d+ )?required|unexpected keyword|jsondecodeerror|int_parsing|"
                               r"should be a valid|error in (?:tool call|generating tool call) arguments|"
                               r"arguments? (?:could not|cannot) be (?:parsed|decoded)|field required|"
                               r"expecting (?:value|property name)[^\n]{0,20} line \d+ column|"
                               r"(?:parse|decode) tool arguments|not a valid json|"
                               r"mandatory input parameters are not present"),
    ("output_parse_error", r"outputparser|could not parse|failed to parse|invalid format|parsing error|"
                           r"output validation"),
    ("timeout", r"timeout|timed? ?out|deadline exceeded|took too long"),
    ("network_error", r"connection ?(?:error|refused|reset|aborted)|name resolution|(?:http|status)\D{0,3}50[0234]|"
                      r"service unavailable|bad gateway|server disconnected"),
))

# Exception classes of the model clients (openai, anthropic, litellm): raised outside any span, they still
# come from a model call.
_MODEL_CLIENT_TYPES = frozenset({"APITimeoutError", "APIConnectionError", "InternalServerError", "APIStatusError",
                                 "BadRequestError", "ServiceUnavailableError", "APIError"})

# Problems that keep their name wherever they happened; the others depend on the place (see _in_place).
_ANYWHERE = frozenset({"rate_limit", "auth_error", "context_length_exceeded", "max_iterations", "unknown_tool",
                       "invalid_tool_arguments", "output_parse_error"})

# Frameworks that give up at their step limit return a sentinel answer instead of raising.
_STOPPED = re.compile(r"agent stopped due to (?:iteration|max iterations)|reached max (?:steps|iterations)|"
                      r"sorry, need more steps to process this request|max(?:imum)? (?:number of )?(?:steps|turns) "
                      r"(?:reached|exceeded)", re.IGNORECASE)

_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.IGNORECASE)
_HEX = re.compile(r"\b(?:0x)?[0-9a-f]{8,}\b", re.IGNORECASE)
_ID_TOKEN = re.compile(r"\b[a-z]+[_-][a-z0-9]*\d[a-z0-9_-]*\b", re.IGNORECASE)  # call_abc123, req-9f2
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_QUOTED = re.compile(r"'[^']{1,80}'|\"[^\"]{1,80}\"")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Failure:
    category: str
    message: str
    step: str
    span_id: str | None
    fingerprint: str
    component: str = "agent"  # where it happened: tool, llm, retrieval, agent (the agent's own code) or run
    error_type: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"category": self.category, "message": self.message[:500], "step": self.step,
                "span_id": self.span_id, "fingerprint": self.fingerprint, "component": self.component,
                "error_type": self.error_type, "description": TAXONOMY[self.category]}


def normalise_message(message: str) -> str:
    """The message with what varies between occurrences (ids, numbers, uuids, hex, quoted values) removed."""
    text = _UUID.sub("<uuid>", message.lower())
    text = _HEX.sub("<hex>", text)
    text = _ID_TOKEN.sub("<id>", text)
    text = _QUOTED.sub("<str>", text)
    text = _NUMBER.sub("<n>", text)
    return _SPACE.sub(" ", text).strip()[:300]


def fingerprint(category: str, message: str, step: str) -> str:
    key = f"{category}\x1f{normalise_message(message)}\x1f{step.lower()}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _short_type(error_type: str) -> str:
    """`openai.RateLimitError` and `RateLimitError` alike."""
    return error_type.rsplit(".", 1)[-1].strip()


def problem_of(error: ErrorInfo) -> str | None:
    """What kind of problem an error is: a framework's step-limit text first (whatever exception carries it),
    then the exception type, then the message; None if nothing matches."""
    if _MESSAGES[0][1].search(error.message):
        return "max_iterations"
    by_type = _TYPES.get(_short_type(error.type))
    if by_type not in (None, "tool_error"):
        return by_type
    text = f"{error.type}: {error.message}"
    for kind, pattern in _MESSAGES:
        if pattern.search(text):
            return kind
    return by_type


def span_category(span: Span) -> str:
    """A failing span's category: what the framework flagged on the call first, then its error."""
    if span.attributes.get("arguments_invalid"):
        return "invalid_tool_arguments"
    return category_of(span.error or ErrorInfo(), span.kind)


def category_of(error: ErrorInfo, place: str = "agent") -> str:
    """The category of an error raised in `place`: a span kind (tool, llm, retrieval, ...) or "agent"."""
    if place == "agent" and _short_type(error.type) in _MODEL_CLIENT_TYPES:
        place = "llm"
    return _in_place(problem_of(error), place)


def _in_place(problem: str | None, place: str) -> str:
    if problem in _ANYWHERE:
        return problem  # type: ignore[return-value]
    toolish = place in ("tool", "retrieval")
    if problem == "timeout":
        return "tool_timeout" if toolish else "llm_timeout" if place == "llm" else "agent_error"
    if problem == "network_error":
        return "network_error" if toolish or place == "llm" else "agent_error"
    if problem == "tool_error" or toolish:
        return "tool_error"
    return "llm_error" if place == "llm" else "agent_error"


def stopped_early(output: Any) -> bool:
    if isinstance(output, dict):
        output = output.get("output", output.get("final_output"))
    return isinstance(output, str) and bool(_STOPPED.search(output))


def origin(trace: Trace) -> Span | None:
    """The span the run's own error came from: the last failing span that raised the same exception type.
    None when the agent's own code raised it (or the run has no error)."""
    if trace.error is None:
        return None
    wanted = _short_type(trace.error.type)
    for span in reversed(trace.spans):
        if span.error is not None and wanted and _short_type(span.error.type) == wanted:
            return span
    return None


# Library modules that run a tool or call a model: a traceback passing through one last says where it was raised.
_TOOL_RUNNERS = ("langchain_core/tools/", "langgraph/prebuilt/tool_node", "agents/tool.py", "agents/_run_impl",
                 "agents/run_internal/tool", "pydantic_ai/_tool_manager", "pydantic_ai/toolsets/", "smolagents/tools.py",
                 "crewai/tools/", "autogen_core/tools/", "llama_index/core/tools/", "google/adk/tools/",
                 "google/adk/flows/llm_flows/functions")
_MODEL_CLIENTS = ("openai/", "anthropic/", "litellm/", "langchain_openai/", "langchain_anthropic/",
                  "pydantic_ai/models/", "llama_index/llms/", "autogen_ext/models/", "google/genai/")


def traceback_place(traceback: str) -> tuple[str, str]:
    """(place, step) from a traceback: "tool" and the tool's function when the innermost library frame runs a
    tool, "llm" when it is a model client, else "agent"."""
    stack = frames(traceback)
    for index in range(len(stack) - 1, -1, -1):
        path = stack[index][0]
        if not path:
            continue
        if path.startswith(_TOOL_RUNNERS):
            inner = stack[index + 1:]
            return "tool", next((function for p, function in reversed(inner) if not p), "")
        if path.startswith(_MODEL_CLIENTS):
            return "llm", ""
    return "agent", ""


def unrecovered(trace: Trace) -> Span | None:
    """The last failing span that no later successful span of the same name made good (a retry)."""
    recovered: set[str] = set()
    for span in reversed(trace.spans):
        if span.error is None and not span.attributes.get("arguments_invalid"):
            recovered.add(span.name)
        elif span.name not in recovered and not span.attributes.get("pseudo_tool"):
            return span
    return None


def classify(trace: Trace, *, success: bool, loop_span: Span | None = None,
             compliance_failed: bool = False) -> Failure | None:
    """The failure category of a failed run; None for a successful one.

    The run's own error, placed where it was raised; else a step-limit stop; else the last failing span
    that was not recovered; else a loop, a compliance violation, an empty output, or a reviewer's label.
    """
    if success:
        return None
    if trace.error is not None:
        span = origin(trace)
        if span is not None and span.error is not None:
            return _failure(span_category(span), span.error, span)
        place, step = traceback_place(trace.error.traceback)
        return _failure(category_of(trace.error, place), trace.error, None, place, step)
    if stopped_early(trace.output):
        return _failure("max_iterations", ErrorInfo(message="agent stopped at its step limit"), None, "run")
    if (span := unrecovered(trace)) is not None:
        return _failure(span_category(span), span.error or ErrorInfo(type="InvalidToolCall", message="invalid arguments"),
                        span)
    if loop_span is not None:
        return _failure("infinite_loop", ErrorInfo(message=f"{loop_span.name} repeated with identical arguments"),
                        loop_span)
    if compliance_failed:
        return _failure("compliance_violation", ErrorInfo(message="sensitive data or a secret was found in the run"),
                        None, "run")
    if trace.output in (None, "", {}, []):
        return _failure("empty_output", ErrorInfo(message="no output"), None, "run")
    return _failure("wrong_answer", ErrorInfo(message="labelled failed by a reviewer"), None, "run")


def _failure(category: str, error: ErrorInfo, span: Span | None, component: str = "agent", step: str = "") -> Failure:
    step = span.name if span is not None else step
    message = error.message or error.type
    return Failure(category, message, step, span.span_id if span is not None else None,
                   fingerprint(category, message, step), span.kind if span is not None else component, error.type)
