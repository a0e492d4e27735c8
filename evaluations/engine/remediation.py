"""What to change: a fix per failure category and framework, with code, its expected impact, and a diff
against the user's own source when the trace says where the agent is built."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .plan import PatternStats


@dataclass(frozen=True, slots=True)
class Fix:
    title: str
    description: str
    code: str
    # (call names the fix changes, keyword arguments it adds) for a diff against the user's source
    patch: tuple[tuple[str, ...], str] | None = None


_CLIENTS = ("OpenAI", "AsyncOpenAI", "AzureOpenAI", "ChatOpenAI", "AzureChatOpenAI", "Anthropic", "AsyncAnthropic",
            "ChatAnthropic")
_TIMEOUT = Fix(
    "Bound every call with a timeout and retry with backoff",
    "Set timeout= and max_retries= on the client so a slow call fails fast and is retried with exponential "
    "backoff instead of hanging the run.",
    "from openai import OpenAI\n\nclient = OpenAI(timeout=30.0, max_retries=3)  # retries back off exponentially\n",
    (_CLIENTS, "timeout=30, max_retries=3"),
)

FIXES: dict[tuple[str, str], Fix] = {
    ("tool_timeout", "generic"): Fix(
        "Give the tool a timeout and retry it with backoff",
        "Wrap the tool call with timeout= on its HTTP client and a bounded retry loop with exponential backoff; "
        "answer with a fallback when the retries are spent.",
        "import time\n\nimport httpx\n\n\ndef call_tool(url, payload, retries=3):\n"
        "    for attempt in range(retries):\n        try:\n"
        "            return httpx.post(url, json=payload, timeout=10.0).json()\n"
        "        except httpx.TimeoutException:\n            time.sleep(2 ** attempt)  # back off before retrying\n"
        "    return {\"error\": \"tool unavailable, answer without it\"}\n"),
    ("tool_timeout", "openai"): _TIMEOUT,
    ("tool_timeout", "anthropic"): Fix(
        _TIMEOUT.title, _TIMEOUT.description,
        "import anthropic\n\nclient = anthropic.Anthropic(timeout=30.0, max_retries=3)\n", _TIMEOUT.patch),
    ("tool_timeout", "langchain"): Fix(
        _TIMEOUT.title,
        "Set timeout= and max_retries= on the chat model, and a timeout on the tool's own HTTP calls; "
        "handle_tool_error=True lets the agent recover when a tool still times out.",
        "from langchain_openai import ChatOpenAI\n\nllm = ChatOpenAI(model=\"gpt-4o-mini\", timeout=30, max_retries=3)\n"
        "search_tool.handle_tool_error = True  # a timed-out tool returns its error to the model\n", _TIMEOUT.patch),
    ("tool_timeout", "crewai"): Fix(
        _TIMEOUT.title, "Give the LLM a timeout= and retries, and bound the agent's execution time.",
        "from crewai import LLM, Agent\n\nllm = LLM(model=\"gpt-4o-mini\", timeout=30, max_retries=3)\n"
        "agent = Agent(role=..., goal=..., backstory=..., llm=llm, max_execution_time=120, max_retry_limit=2)\n",
        (("LLM",), "timeout=30, max_retries=3")),
    ("rate_limit", "generic"): Fix(
        "Back off and retry on HTTP 429",
        "Retry rate-limited calls with exponential backoff and jitter, honouring Retry-After; lower concurrency "
        "if it persists.",
        "from openai import OpenAI\n\nclient = OpenAI(max_retries=5, timeout=30.0)  # 429s are retried with backoff\n",
        (_CLIENTS, "max_retries=5")),
    ("auth_error", "generic"): Fix(
        "Check credentials at start-up",
        "Fail fast with a clear message when a key is missing or refused, instead of failing inside a run.",
        "import os\n\nif not os.environ.get(\"OPENAI_API_KEY\"):\n"
        "    raise RuntimeError(\"OPENAI_API_KEY is not set\")\n"),
    ("network_error", "generic"): Fix(
        "Retry transient connection errors", "Retry with backoff on connection errors and 5xx answers.",
        "from openai import OpenAI\n\nclient = OpenAI(max_retries=3, timeout=30.0)\n", (_CLIENTS, "max_retries=3")),
    ("context_length_exceeded", "generic"): Fix(
        "Trim the conversation to the model's window",
        "Keep the system prompt and the latest turns; summarise or drop the middle before each call.",
        "def trim(messages, keep=20):\n    system = [m for m in messages if m[\"role\"] == \"system\"]\n"
        "    return system + [m for m in messages if m[\"role\"] != \"system\"][-keep:]\n"),
    ("context_length_exceeded", "langchain"): Fix(
        "Trim messages before each model call", "Use trim_messages to keep the prompt inside the context window.",
        "from langchain_core.messages import trim_messages\n\n"
        "trimmer = trim_messages(max_tokens=100_000, strategy=\"last\", token_counter=llm, include_system=True)\n"
        "chain = trimmer | llm\n"),
    ("unknown_tool", "generic"): Fix(
        "Tell the model exactly which tools exist",
        "Pass the tool list with strict schemas, and answer an unknown tool name with the list of valid ones.",
        "TOOLS = {\"search\": search, \"lookup_order\": lookup_order}\n\n\ndef run_tool(name, args):\n"
        "    if name not in TOOLS:\n        return f\"Unknown tool {name!r}; valid tools: {sorted(TOOLS)}\"\n"
        "    return TOOLS[name](**args)\n"),
    ("invalid_tool_arguments", "generic"): Fix(
        "Validate tool input before calling",
        "Declare each tool's arguments as a schema, validate them, and return the validation error to the "
        "model so it can repair the call.",
        "from pydantic import BaseModel, ValidationError\n\n\nclass RefundArgs(BaseModel):\n    order_id: str\n"
        "    amount: float\n\n\ndef refund(raw_args):\n    try:\n        args = RefundArgs.model_validate(raw_args)\n"
        "    except ValidationError as exc:\n        return f\"Invalid arguments: {exc}\"  # the model retries\n"
        "    return do_refund(args.order_id, args.amount)\n"),
    ("invalid_tool_arguments", "openai"): Fix(
        "Use strict function schemas",
        "With strict: true the model's arguments always match the JSON schema.",
        "tools = [{\"type\": \"function\", \"function\": {\"name\": \"refund\", \"strict\": True, \"parameters\": {\n"
        "    \"type\": \"object\", \"properties\": {\"order_id\": {\"type\": \"string\"}},\n"
        "    \"required\": [\"order_id\"], \"additionalProperties\": False}}}]\n"),
    ("invalid_tool_arguments", "langchain"): Fix(
        "Give tools an args_schema and handle validation errors",
        "A pydantic args_schema validates arguments; handle_validation_error returns the error to the model.",
        "from langchain_core.tools import StructuredTool\n\n"
        "tool = StructuredTool.from_function(refund, args_schema=RefundArgs, handle_validation_error=True)\n"),
    ("output_parse_error", "generic"): Fix(
        "Ask for structured output",
        "Request a JSON schema (structured outputs) instead of parsing free text.",
        "response = client.chat.completions.create(model=\"gpt-4o-mini\", messages=messages,\n"
        "    response_format={\"type\": \"json_schema\", \"json_schema\": {\"name\": \"answer\", \"strict\": True, "
        "\"schema\": schema}})\n"),
    ("output_parse_error", "langchain"): Fix(
        "Let the agent recover from parsing errors",
        "handle_parsing_errors=True sends the parsing error back to the model instead of raising.",
        "agent_executor = AgentExecutor(agent=agent, tools=tools, handle_parsing_errors=True)\n",
        (("AgentExecutor",), "handle_parsing_errors=True")),
    ("max_iterations", "generic"): Fix(
        "Bound the loop and stop on repeats",
        "Cap the number of steps and stop when a step repeats an identical tool call.",
        "seen = set()\nfor step in range(10):\n    call = next_tool_call()\n    key = (call.name, json.dumps(call.args, "
        "sort_keys=True))\n    if key in seen:\n        break  # identical call again: change approach or answer\n"
        "    seen.add(key)\n"),
    ("max_iterations", "langchain"): Fix(
        "Set max_iterations and a time budget",
        "max_iterations and max_execution_time stop a runaway agent; handle_parsing_errors avoids wasted turns.",
        "agent_executor = AgentExecutor(agent=agent, tools=tools, max_iterations=10, max_execution_time=60)\n",
        (("AgentExecutor",), "max_iterations=10, max_execution_time=60")),
    ("max_iterations", "langgraph"): Fix(
        "Set a recursion limit", "The recursion_limit config bounds the number of graph steps.",
        "graph.invoke({\"messages\": messages}, config={\"recursion_limit\": 25})\n"),
    ("max_iterations", "crewai"): Fix(
        "Set max_iter on the agent", "max_iter bounds the agent's reasoning iterations per task.",
        "agent = Agent(role=..., goal=..., backstory=..., max_iter=10)\n", (("Agent",), "max_iter=10")),
    ("max_iterations", "openai_agents"): Fix(
        "Set max_turns", "Runner.run(max_turns=...) bounds the agent loop.",
        "result = await Runner.run(agent, input, max_turns=10)\n"),
    ("max_iterations", "smolagents"): Fix(
        "Set max_steps", "max_steps bounds the agent's ReAct loop.",
        "agent = CodeAgent(tools=tools, model=model, max_steps=10)\n", (("CodeAgent", "ToolCallingAgent"), "max_steps=10")),
    ("max_iterations", "autogen"): Fix(
        "Add a termination condition", "Stop the team after a bounded number of messages.",
        "from autogen_agentchat.conditions import MaxMessageTermination\n\n"
        "team = RoundRobinGroupChat(agents, termination_condition=MaxMessageTermination(10))\n"),
    ("tool_error", "generic"): Fix(
        "Return tool errors to the model",
        "Catch the tool's exception, retry when transient, and give the model the error so it can recover.",
        "def safe(tool):\n    def run(**kwargs):\n        try:\n            return tool(**kwargs)\n"
        "        except Exception as exc:  # the model sees the error and can try another way\n"
        "            return f\"Tool error: {exc}\"\n    return run\n"),
    ("tool_error", "langchain"): Fix(
        "Let tools report errors instead of raising",
        "handle_tool_error=True returns the ToolException message to the agent.",
        "from langchain_core.tools import tool\n\n\n@tool\ndef lookup(order_id: str) -> str:\n    ...\n\n\n"
        "lookup.handle_tool_error = True\n"),
    ("llm_error", "generic"): Fix(
        "Fall back to another model",
        "Retry with backoff and fall back to a second model when the first keeps failing.",
        "llm = ChatOpenAI(model=\"gpt-4o\", max_retries=2).with_fallbacks([ChatAnthropic(model=\"claude-3-5-haiku-latest\")])\n"),
    ("agent_error", "generic"): Fix(
        "Catch and report unexpected exceptions",
        "Wrap the agent entry point, record the error with the trace and answer with a graceful message.",
        "try:\n    answer = agent.run(task)\nexcept Exception:\n    logger.exception(\"agent failed\")\n"
        "    answer = \"Sorry, something went wrong; a human will follow up.\"\n"),
    ("compliance_violation", "generic"): Fix(
        "Mask sensitive data before it leaves",
        "Run an output guardrail that masks personal data and refuses to return secrets.",
        "from evaluations.engine.compliance import mask_pii  # or your own masking\n\nanswer = mask_pii(answer)\n"),
    ("compliance_violation", "openai_agents"): Fix(
        "Add an output guardrail", "An output_guardrail blocks answers that contain secrets or personal data.",
        "@output_guardrail\nasync def no_pii(ctx, agent, output):\n"
        "    return GuardrailFunctionOutput(output_info=None, tripwire_triggered=contains_pii(output))\n\n"
        "agent = Agent(name=\"support\", output_guardrails=[no_pii])\n"),
    ("empty_output", "generic"): Fix(
        "Never return an empty answer", "Check the final answer and retry once or return a fallback message.",
        "answer = agent.run(task)\nif not answer or not str(answer).strip():\n    answer = agent.run(task + \"\\nAnswer in one sentence.\")\n"),
    ("wrong_answer", "generic"): Fix(
        "Turn reviewer-labelled failures into regression tests",
        "Export the generated scenarios and run them in CI before each release.",
        "pytest test_arc_eval_scenarios.py\n"),
}
FIXES[("rate_limit", "openai")] = FIXES[("rate_limit", "generic")]
FIXES[("infinite_loop", "generic")] = FIXES[("max_iterations", "generic")]
for _framework in ("langchain", "crewai", "smolagents", "openai_agents", "langgraph", "autogen"):
    FIXES[("infinite_loop", _framework)] = FIXES[("max_iterations", _framework)]

# Frameworks that share another's fixes.
FAMILY = {"langgraph": "langchain", "openai_responses": "openai", "openai_agents": "openai", "pydantic_ai": "generic"}


def fix_for(category: str, framework: str) -> Fix | None:
    for key in ((category, framework), (category, FAMILY.get(framework, "generic")), (category, "generic")):
        if key in FIXES:
            return FIXES[key]
    return None


def suggest(patterns: Iterable[PatternStats], *, framework: str, failing_runs: int,
            source: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """A fix per pattern with its impact estimated from the data: the share of failing runs it addresses
    and the percentage points of reliability the agent would gain if the fix removed the pattern."""
    fixes = []
    for pattern in patterns:
        fix = fix_for(pattern.category, framework)
        if fix is None:
            continue
        item = {"category": pattern.category, "fingerprint": pattern.fingerprint, "framework": framework,
                "title": fix.title, "description": fix.description, "code": fix.code,
                "impact": {"runs_addressed": pattern.occurrences,
                           "share_of_failures": round(pattern.occurrences / failing_runs, 4) if failing_runs else 0.0,
                           "reliability_pp": round(pattern.reliability_cost_pp, 2)},
                "diff": source_diff(source, fix) if source else None}
        fixes.append(item)
    return sorted(fixes, key=lambda f: -f["impact"]["reliability_pp"])


def source_diff(source: dict[str, Any], fix: Fix) -> str | None:
    """A unified diff adding the fix's keyword arguments to the call in the user's source, when there is one.

    `source` is the trace metadata's {"file": "agent.py", "line": 12, "text": "..."}; `line` is the first line
    of `text` in the file.
    """
    text, path = source.get("text"), str(source.get("file") or "agent.py")
    if fix.patch is None or not isinstance(text, str):
        return None
    names, kwargs = fix.patch
    match = re.search(r"\b(?:" + "|".join(map(re.escape, names)) + r")\(", text)
    if match is None:
        return None
    close = _closing_paren(text, match.end())
    if close is None:
        return None
    inside = text[match.end():close]
    if any(re.search(rf"\b{re.escape(k.split('=')[0].strip())}\s*=", inside) for k in kwargs.split(",")):
        return None  # already set: nothing to add
    head = text[:close].rstrip()
    separator = "" if head.endswith("(") else (" " if head.endswith(",") else ", ")
    patched = head + separator + kwargs + text[len(head):]
    first = int(source.get("line") or 1)
    diff = difflib.unified_diff(text.splitlines(keepends=True), patched.splitlines(keepends=True),
                                fromfile=f"a/{path}", tofile=f"b/{path}", n=2)
    return "".join(_shift(line, first - 1) for line in diff) or None


def _closing_paren(text: str, start: int) -> int | None:
    depth, quote = 1, ""
    for index in range(start, len(text)):
        char = text[index]
        if quote:
            quote = "" if char == quote and text[index - 1] != "\\" else quote
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index
    return None


_HUNK = re.compile(r"^@@ -(\d+)(,\d+)? \+(\d+)(,\d+)? @@")


def _shift(line: str, offset: int) -> str:
    """Hunk headers point at the lines' real place in the user's file."""
    match = _HUNK.match(line)
    if not match or not offset:
        return line
    old, old_len, new, new_len = match.groups()
    return f"@@ -{int(old) + offset}{old_len or ''} +{int(new) + offset}{new_len or ''} @@\n"
