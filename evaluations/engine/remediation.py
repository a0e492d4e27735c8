"""What to change: a fix per failure category, aimed at the component that failed (the tool by name, the
model client, the parser, the agent loop) with code for the run's framework; its expected impact over the
agent's runs; and a diff against the user's own source when the trace says where the agent is built.

Fix texts are templates: `{tool}` becomes the failing step's name (an identifier in code)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from .failures import Failure
from .plan import PatternStats


@dataclass(frozen=True, slots=True)
class Fix:
    title: str
    description: str
    code: str
    # (call names the fix changes, keyword arguments it adds) for a diff against the user's source
    patch: tuple[tuple[str, ...], str] | None = None
    target: str = "agent"  # the component the fix changes: tool, llm (the model client), parser, agent, data


_CLIENTS = ("OpenAI", "AsyncOpenAI", "AzureOpenAI", "ChatOpenAI", "AzureChatOpenAI", "Anthropic", "AsyncAnthropic",
            "ChatAnthropic", "LLM")
_CLIENT_TIMEOUT = (_CLIENTS, "timeout=30, max_retries=3")
_LLM_TIMEOUT_TITLE = "Give the model client a timeout and retries"
_LLM_TIMEOUT_WHY = ("The model call did not answer in time: set timeout= and max_retries= on the client so a slow "
                    "call fails fast and is retried with exponential backoff instead of hanging the run.")
_TOOL_TIMEOUT_TITLE = "Give the {tool} tool a timeout and retry it with backoff"
_TOOL_TIMEOUT_WHY = ("{tool} did not answer in time: bound its own network call with a timeout, retry it a few "
                     "times with exponential backoff, and let the model see the error when the retries are spent.")

FIXES: dict[tuple[str, str], Fix] = {
    ("tool_timeout", "generic"): Fix(
        _TOOL_TIMEOUT_TITLE, _TOOL_TIMEOUT_WHY,
        "import httpx\nfrom tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential\n\n\n"
        "@retry(retry=retry_if_exception_type(httpx.TimeoutException), stop=stop_after_attempt(3),\n"
        "       wait=wait_exponential(multiplier=0.5, max=8), reraise=True)\n"
        "def {tool}(**arguments):\n"
        "    # the tool's own call: 10 s to answer, 3 s to connect\n"
        "    response = httpx.post(TOOL_URL, json=arguments, timeout=httpx.Timeout(10.0, connect=3.0))\n"
        "    response.raise_for_status()\n    return response.json()\n", target="tool"),
    ("tool_timeout", "langchain"): Fix(
        _TOOL_TIMEOUT_TITLE, _TOOL_TIMEOUT_WHY + " handle_tool_error=True hands the error to the model.",
        "import time\n\nimport httpx\nfrom langchain_core.tools import ToolException, tool\n\n\n@tool\n"
        "def {tool}(query: str) -> str:\n    \"\"\"...\"\"\"\n    for attempt in range(3):  # retried with backoff\n"
        "        try:\n            return httpx.get(TOOL_URL, params={\"q\": query}, timeout=10.0).text\n"
        "        except httpx.TimeoutException:\n            time.sleep(2 ** attempt)\n"
        "    raise ToolException(\"{tool} timed out three times; answer without it\")\n\n\n"
        "{tool}.handle_tool_error = True  # the model sees the timeout instead of the run crashing\n", target="tool"),
    ("tool_timeout", "openai_agents"): Fix(
        _TOOL_TIMEOUT_TITLE, _TOOL_TIMEOUT_WHY,
        "import httpx\nfrom agents import function_tool\n\n\n"
        "# timeout= bounds the tool; its failure text reaches the model instead of failing the run\n"
        "@function_tool(timeout=15.0, failure_error_function=lambda ctx, error: f\"{tool} failed ({error}); retry "
        "once or answer without it\")\nasync def {tool}(query: str) -> str:\n"
        "    async with httpx.AsyncClient(timeout=10.0, transport=httpx.AsyncHTTPTransport(retries=2)) as http:\n"
        "        return (await http.get(TOOL_URL, params={\"q\": query})).text\n", target="tool"),
    ("tool_timeout", "pydantic_ai"): Fix(
        _TOOL_TIMEOUT_TITLE, _TOOL_TIMEOUT_WHY + " ModelRetry lets the model call it again.",
        "import httpx\nfrom pydantic_ai import ModelRetry\n\n\n@agent.tool_plain(retries=2)\n"
        "def {tool}(query: str) -> str:\n    try:\n"
        "        return httpx.get(TOOL_URL, params={\"q\": query}, timeout=10.0).text\n"
        "    except httpx.TimeoutException as exc:\n"
        "        raise ModelRetry(\"{tool} timed out, try again\") from exc\n", target="tool"),
    ("tool_timeout", "crewai"): Fix(
        _TOOL_TIMEOUT_TITLE, _TOOL_TIMEOUT_WHY,
        "import httpx\nfrom crewai.tools import tool\n\n\n@tool(\"{tool}\")\n"
        "def {tool}(query: str) -> str:\n    \"\"\"...\"\"\"\n    # bounded and retried; CrewAI hands a raised error to the agent\n"
        "    transport = httpx.HTTPTransport(retries=2)\n"
        "    return httpx.Client(timeout=10.0, transport=transport).get(TOOL_URL, params={\"q\": query}).text\n",
        target="tool"),
    ("llm_timeout", "generic"): Fix(
        _LLM_TIMEOUT_TITLE, _LLM_TIMEOUT_WHY,
        "from openai import OpenAI\n\nclient = OpenAI(timeout=30.0, max_retries=3)  # retries back off exponentially\n",
        _CLIENT_TIMEOUT, "llm"),
    ("llm_timeout", "anthropic"): Fix(
        _LLM_TIMEOUT_TITLE, _LLM_TIMEOUT_WHY,
        "import anthropic\n\nclient = anthropic.Anthropic(timeout=30.0, max_retries=3)\n", _CLIENT_TIMEOUT, "llm"),
    ("llm_timeout", "langchain"): Fix(
        _LLM_TIMEOUT_TITLE, _LLM_TIMEOUT_WHY,
        "from langchain_openai import ChatOpenAI\n\nllm = ChatOpenAI(model=\"gpt-4o-mini\", timeout=30, max_retries=3)\n",
        _CLIENT_TIMEOUT, "llm"),
    ("llm_timeout", "crewai"): Fix(
        _LLM_TIMEOUT_TITLE, _LLM_TIMEOUT_WHY,
        "from crewai import LLM\n\nllm = LLM(model=\"gpt-4o-mini\", timeout=30, max_retries=3)\n", _CLIENT_TIMEOUT, "llm"),
    ("llm_timeout", "openai_agents"): Fix(
        _LLM_TIMEOUT_TITLE, _LLM_TIMEOUT_WHY,
        "from agents import set_default_openai_client\nfrom openai import AsyncOpenAI\n\n"
        "set_default_openai_client(AsyncOpenAI(timeout=30.0, max_retries=3))\n", _CLIENT_TIMEOUT, "llm"),
    ("llm_timeout", "pydantic_ai"): Fix(
        _LLM_TIMEOUT_TITLE, _LLM_TIMEOUT_WHY,
        "from openai import AsyncOpenAI\nfrom pydantic_ai.models.openai import OpenAIChatModel\n"
        "from pydantic_ai.providers.openai import OpenAIProvider\n\n"
        "client = AsyncOpenAI(timeout=30.0, max_retries=3)\n"
        "model = OpenAIChatModel(\"gpt-4o-mini\", provider=OpenAIProvider(openai_client=client))\n",
        _CLIENT_TIMEOUT, "llm"),
    ("rate_limit", "generic"): Fix(
        "Back off and retry on HTTP 429",
        "Retry rate-limited model calls with exponential backoff and jitter, honouring Retry-After; lower "
        "concurrency if it persists.",
        "from openai import OpenAI\n\nclient = OpenAI(max_retries=5, timeout=30.0)  # 429s are retried with backoff\n",
        (_CLIENTS, "max_retries=5"), "llm"),
    ("rate_limit", "anthropic"): Fix(
        "Back off and retry on HTTP 429", "The client retries 429 and 529 answers with backoff when max_retries is set.",
        "import anthropic\n\nclient = anthropic.Anthropic(max_retries=5)\n", (_CLIENTS, "max_retries=5"), "llm"),
    ("rate_limit", "langchain"): Fix(
        "Rate-limit and retry the chat model",
        "An InMemoryRateLimiter keeps requests under the provider's limit; max_retries backs off on 429.",
        "from langchain_core.rate_limiters import InMemoryRateLimiter\nfrom langchain_openai import ChatOpenAI\n\n"
        "limiter = InMemoryRateLimiter(requests_per_second=2, max_bucket_size=4)\n"
        "llm = ChatOpenAI(model=\"gpt-4o-mini\", rate_limiter=limiter, max_retries=5)\n",
        (_CLIENTS, "max_retries=5"), "llm"),
    ("auth_error", "generic"): Fix(
        "Check credentials at start-up",
        "Fail fast with a clear message when a key is missing or refused, instead of failing inside a run.",
        "import os\n\nif not os.environ.get(\"OPENAI_API_KEY\"):\n"
        "    raise RuntimeError(\"OPENAI_API_KEY is not set\")\n", target="llm"),
    ("network_error", "generic"): Fix(
        "Retry transient connection errors", "Retry the model call with backoff on connection errors and 5xx answers.",
        "from openai import OpenAI\n\nclient = OpenAI(max_retries=3, timeout=30.0)\n", (_CLIENTS, "max_retries=3"),
        "llm"),
    ("context_length_exceeded", "generic"): Fix(
        "Trim the conversation to the model's window",
        "Keep the system prompt and the latest turns; summarise or drop the middle before each call.",
        "def trim(messages, keep=20):\n    system = [m for m in messages if m[\"role\"] == \"system\"]\n"
        "    return system + [m for m in messages if m[\"role\"] != \"system\"][-keep:]\n", target="llm"),
    ("context_length_exceeded", "langchain"): Fix(
        "Trim messages before each model call", "Use trim_messages to keep the prompt inside the context window.",
        "from langchain_core.messages import trim_messages\n\n"
        "trimmer = trim_messages(max_tokens=100_000, strategy=\"last\", token_counter=llm, include_system=True)\n"
        "chain = trimmer | llm\n", target="llm"),
    ("unknown_tool", "generic"): Fix(
        "Tell the model exactly which tools exist ({tool} is not one)",
        "The model called {tool}, which the agent does not have: pass the tool list with strict schemas, and "
        "answer an unknown name with the list of valid ones so the model can correct itself.",
        "TOOLS = {\"search\": search, \"lookup_order\": lookup_order}\n\n\ndef run_tool(name, args):\n"
        "    if name not in TOOLS:\n        return f\"Unknown tool {name!r}; valid tools: {sorted(TOOLS)}\"\n"
        "    return TOOLS[name](**args)\n", target="agent"),
    ("invalid_tool_arguments", "generic"): Fix(
        "Validate the arguments of {tool} before calling it",
        "Declare {tool}'s arguments as a schema, validate them, and return the validation error to the "
        "model so it can repair the call.",
        "from pydantic import BaseModel, ValidationError\n\n\nclass {tool_class}Args(BaseModel):\n    order_id: str\n\n\n"
        "def {tool}(raw_args):\n    try:\n        args = {tool_class}Args.model_validate(raw_args)\n"
        "    except ValidationError as exc:\n        return f\"Invalid arguments: {exc}\"  # the model retries\n"
        "    return run_{tool}(args)\n", target="tool"),
    ("invalid_tool_arguments", "openai"): Fix(
        "Use a strict schema for {tool}",
        "With strict: true the model's arguments for {tool} always match the JSON schema.",
        "tools = [{\"type\": \"function\", \"function\": {\"name\": \"{tool}\", \"strict\": True, \"parameters\": {\n"
        "    \"type\": \"object\", \"properties\": {\"order_id\": {\"type\": \"string\"}},\n"
        "    \"required\": [\"order_id\"], \"additionalProperties\": False}}}]\n", target="tool"),
    ("invalid_tool_arguments", "langchain"): Fix(
        "Give {tool} an args_schema and hand validation errors back",
        "A pydantic args_schema validates {tool}'s arguments; handle_validation_error returns the error to the model.",
        "from langchain_core.tools import StructuredTool\n\n"
        "{tool}_tool = StructuredTool.from_function({tool}, args_schema={tool_class}Args, handle_validation_error=True)\n",
        target="tool"),
    ("invalid_tool_arguments", "pydantic_ai"): Fix(
        "Let the model repair {tool}'s arguments",
        "pydantic-ai validates {tool}'s arguments against its signature and asks the model again; give it retries.",
        "@agent.tool_plain(retries=3)\ndef {tool}(order_id: str) -> str:\n    ...\n", target="tool"),
    ("output_parse_error", "generic"): Fix(
        "Ask for structured output",
        "Request a JSON schema (structured outputs) instead of parsing free text.",
        "response = client.chat.completions.create(model=\"gpt-4o-mini\", messages=messages,\n"
        "    response_format={\"type\": \"json_schema\", \"json_schema\": {\"name\": \"answer\", \"strict\": True, "
        "\"schema\": schema}})\n", target="parser"),
    ("output_parse_error", "langchain"): Fix(
        "Let the agent recover from parsing errors",
        "handle_parsing_errors=True sends the parsing error back to the model instead of raising.",
        "agent_executor = AgentExecutor(agent=agent, tools=tools, handle_parsing_errors=True)\n",
        (("AgentExecutor",), "handle_parsing_errors=True"), "parser"),
    ("output_parse_error", "pydantic_ai"): Fix(
        "Give output validation retries", "output_retries lets the model correct an answer that fails validation.",
        "agent = Agent(\"openai:gpt-4o-mini\", output_type=Answer, output_retries=3)\n",
        (("Agent",), "output_retries=3"), "parser"),
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
    ("max_iterations", "pydantic_ai"): Fix(
        "Set usage limits", "UsageLimits(request_limit=...) bounds the model requests of one run.",
        "from pydantic_ai.usage import UsageLimits\n\n"
        "result = agent.run_sync(prompt, usage_limits=UsageLimits(request_limit=10, tool_calls_limit=20))\n"),
    ("max_iterations", "smolagents"): Fix(
        "Set max_steps", "max_steps bounds the agent's ReAct loop.",
        "agent = CodeAgent(tools=tools, model=model, max_steps=10)\n", (("CodeAgent", "ToolCallingAgent"), "max_steps=10")),
    ("max_iterations", "autogen"): Fix(
        "Add a termination condition", "Stop the team after a bounded number of messages.",
        "from autogen_agentchat.conditions import MaxMessageTermination\n\n"
        "team = RoundRobinGroupChat(agents, termination_condition=MaxMessageTermination(10))\n"),
    ("max_iterations", "google_adk"): Fix(
        "Bound the model calls of a run", "RunConfig(max_llm_calls=...) stops a runaway agent.",
        "from google.adk.agents.run_config import RunConfig\n\n"
        "runner.run(user_id=user, session_id=session, new_message=message, run_config=RunConfig(max_llm_calls=20))\n"),
    ("tool_error", "generic"): Fix(
        "Return {tool}'s errors to the model",
        "Catch {tool}'s exception, retry when transient, and give the model the error so it can recover.",
        "def safe(tool):\n    def run(**kwargs):\n        try:\n            return tool(**kwargs)\n"
        "        except Exception as exc:  # the model sees the error and can try another way\n"
        "            return f\"Tool error: {exc}\"\n    return run\n\n\n{tool} = safe({tool})\n", target="tool"),
    ("tool_error", "langchain"): Fix(
        "Let {tool} report errors instead of raising",
        "handle_tool_error=True returns {tool}'s ToolException message to the agent.",
        "from langchain_core.tools import tool\n\n\n@tool\ndef {tool}(order_id: str) -> str:\n    ...\n\n\n"
        "{tool}.handle_tool_error = True\n", target="tool"),
    ("tool_error", "pydantic_ai"): Fix(
        "Let {tool} ask the model to retry",
        "Raise ModelRetry from {tool} with what went wrong: the model gets the message and tries again.",
        "from pydantic_ai import ModelRetry\n\n\n@agent.tool_plain(retries=2)\ndef {tool}(order_id: str) -> str:\n"
        "    try:\n        return lookup(order_id)\n    except LookupError as exc:\n"
        "        raise ModelRetry(f\"{tool} failed: {exc}\") from exc\n", target="tool"),
    ("llm_error", "generic"): Fix(
        "Fall back to another model",
        "Retry with backoff and fall back to a second model when the first keeps failing.",
        "llm = ChatOpenAI(model=\"gpt-4o\", max_retries=2).with_fallbacks([ChatAnthropic(model=\"claude-3-5-haiku-latest\")])\n",
        target="llm"),
    ("agent_error", "generic"): Fix(
        "Catch and report unexpected exceptions in the agent's own code",
        "The agent's own code raised outside any tool or model call: handle the error where it is raised, record "
        "it with the trace and answer with a graceful message.",
        "try:\n    answer = agent.run(task)\nexcept Exception:\n    logger.exception(\"agent failed\")\n"
        "    answer = \"Sorry, something went wrong; a human will follow up.\"\n"),
    ("compliance_violation", "generic"): Fix(
        "Mask sensitive data before it leaves",
        "Run an output guardrail that masks personal data and refuses to return secrets.",
        "from evaluations.engine.compliance import mask_pii  # or your own masking\n\nanswer = mask_pii(answer)\n",
        target="data"),
    ("compliance_violation", "openai_agents"): Fix(
        "Add an output guardrail", "An output_guardrail blocks answers that contain secrets or personal data.",
        "@output_guardrail\nasync def no_pii(ctx, agent, output):\n"
        "    return GuardrailFunctionOutput(output_info=None, tripwire_triggered=contains_pii(output))\n\n"
        "agent = Agent(name=\"support\", output_guardrails=[no_pii])\n", target="data"),
    ("empty_output", "generic"): Fix(
        "Never return an empty answer", "Check the final answer and retry once or return a fallback message.",
        "answer = agent.run(task)\nif not answer or not str(answer).strip():\n    answer = agent.run(task + \"\\nAnswer in one sentence.\")\n"),
    ("wrong_answer", "generic"): Fix(
        "Turn reviewer-labelled failures into regression tests",
        "Export the generated scenarios and run them in CI before each release.",
        "pytest test_arc_eval_scenarios.py\n"),
}
FIXES[("tool_timeout", "langgraph")] = FIXES[("tool_timeout", "langchain")]
FIXES[("llm_timeout", "openai")] = FIXES[("llm_timeout", "generic")]
FIXES[("rate_limit", "openai")] = FIXES[("rate_limit", "generic")]
FIXES[("infinite_loop", "generic")] = FIXES[("max_iterations", "generic")]
for _framework in ("langchain", "crewai", "smolagents", "openai_agents", "langgraph", "autogen", "pydantic_ai",
                   "google_adk"):
    FIXES[("infinite_loop", _framework)] = FIXES[("max_iterations", _framework)]

# A rate limit, a refused key or a dropped connection at a tool is the tool's to handle, not the model client's.
TOOL_FIXES: dict[str, Fix] = {
    "rate_limit": Fix(
        "Back off when {tool} is rate-limited",
        "{tool} answered HTTP 429: retry it with exponential backoff honouring Retry-After, and cache its answers.",
        "import httpx\nfrom tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential\n\n\n"
        "def _rate_limited(exc):\n    return isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code == 429\n\n\n"
        "@retry(retry=retry_if_exception(_rate_limited), stop=stop_after_attempt(5), wait=wait_exponential(max=30))\n"
        "def {tool}(**arguments):\n    response = httpx.post(TOOL_URL, json=arguments, timeout=10.0)\n"
        "    response.raise_for_status()\n    return response.json()\n", target="tool"),
    "network_error": Fix(
        "Retry {tool} on connection errors",
        "{tool} could not be reached: retry transient connection errors with backoff, then report the outage.",
        "import httpx\n\ntransport = httpx.HTTPTransport(retries=3)  # retries failed connections\n"
        "http = httpx.Client(transport=transport, timeout=10.0)\n\n\ndef {tool}(**arguments):\n"
        "    return http.post(TOOL_URL, json=arguments).json()\n", target="tool"),
    "auth_error": Fix(
        "Check {tool}'s credentials at start-up",
        "{tool} refused its credentials: verify them when the agent starts instead of inside a run.",
        "import os\n\nif not os.environ.get(\"TOOL_API_KEY\"):\n    raise RuntimeError(\"TOOL_API_KEY is not set\")\n",
        target="tool"),
}

# Frameworks that share another's fixes.
FAMILY = {"langgraph": "langchain", "openai_responses": "openai", "openai_agents": "openai", "pydantic_ai": "generic"}
_NOT_IDENTIFIER = re.compile(r"\W+")


def fix_for(category: str, framework: str, component: str = "") -> Fix | None:
    if component in ("tool", "retrieval") and category in TOOL_FIXES:
        return TOOL_FIXES[category]
    for key in ((category, framework), (category, FAMILY.get(framework, "generic")), (category, "generic")):
        if key in FIXES:
            return FIXES[key]
    return None


def aimed(fix: Fix, step: str) -> Fix:
    """The fix with `{tool}` naming the failing step (an identifier in code)."""
    name = step.strip()[:80] or "the tool"
    identifier = _NOT_IDENTIFIER.sub("_", step.strip()[:80]).strip("_") or "my_tool"
    if identifier[0].isdigit():
        identifier = f"tool_{identifier}"
    klass = "".join(part[:1].upper() + part[1:] for part in identifier.split("_")) or "Tool"

    def fill(text: str, name: str) -> str:
        return text.replace("{tool_class}", klass).replace("{tool}", name)

    return replace(fix, title=fill(fix.title, name), description=fill(fix.description, name),
                   code=fill(fix.code, identifier))


def _item(fix: Fix, *, category: str, fingerprint: str, framework: str, step: str, component: str,
          impact: dict[str, Any] | None, source: dict[str, Any] | None) -> dict[str, Any]:
    fix = aimed(fix, step)
    return {"category": category, "fingerprint": fingerprint, "framework": framework, "title": fix.title,
            "description": fix.description, "code": fix.code, "target": {"component": fix.target,
                                                                       "name": step or None,
                                                                       "failed_in": component},
            "impact": impact, "diff": source_diff(source, fix) if source else None}


def for_failure(failure: Failure, *, framework: str, source: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The fix for one failed run. Its impact over the agent's runs is not known from one run: the pattern the
    run belongs to carries it (`suggest`)."""
    fix = fix_for(failure.category, framework, failure.component)
    if fix is None:
        return []
    return [_item(fix, category=failure.category, fingerprint=failure.fingerprint, framework=framework,
                  step=failure.step, component=failure.component, impact=None, source=source)]


def suggest(patterns: Iterable[PatternStats], *, framework: str, failing_runs: int,
            source: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """A fix per pattern with its impact estimated from the data: the share of failing runs it addresses
    and the percentage points of reliability the agent would gain if the fix removed the pattern."""
    fixes = []
    for pattern in patterns:
        fix = fix_for(pattern.category, framework, pattern.component)
        if fix is None:
            continue
        impact = {"runs_addressed": pattern.occurrences,
                  "share_of_failures": round(pattern.occurrences / failing_runs, 4) if failing_runs else 0.0,
                  "reliability_pp": round(pattern.reliability_cost_pp, 2)}
        fixes.append(_item(fix, category=pattern.category, fingerprint=pattern.fingerprint, framework=framework,
                           step=pattern.step, component=pattern.component, impact=impact, source=source))
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
