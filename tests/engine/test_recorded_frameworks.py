"""The engine on what real libraries returned or raised (tests/fixtures/frameworks/recorded, made by record.py
against a scripted model): framework, tools, tokens, cost and verdict, against values written by hand.

The scripts (record.py): the n-th model request of a run uses 120 + 40n input and 25 output tokens. A clean run
makes two requests (280 in, 50 out); a run stopped at 3 steps makes three (480 in, 75 out); a run whose only
object is the last response carries that request's usage alone (160 in, 25 out). gpt-4o-mini costs $0.15 / $0.60
and claude-3-5-haiku $0.80 / $4 per million input / output tokens (genai-prices).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, NamedTuple

import pytest

from evaluations.engine import evaluate, to_trace

from .conftest import RECORDED


class Want(NamedTuple):
    framework: str
    category: str  # "" for a success
    tools: dict[str, tuple[int, int]]  # name -> (calls, failures)
    tokens: tuple[int, int]  # input, output
    cost: str | None  # USD, None when the object names no model or carries no usage


def usd(tokens_in: int, tokens_out: int, per_million_in: str = "0.15", per_million_out: str = "0.60") -> str:
    return str((Decimal(per_million_in) * tokens_in + Decimal(per_million_out) * tokens_out) / 1_000_000)


CLEAN, TWO, THREE, ONE, LAST = (280, 50), (280, 50), (480, 75), (120, 25), (160, 25)
NONE = (0, 0)
WEATHER, WEATHER_FAILED = {"get_weather": (1, 0)}, {"get_weather": (1, 1)}
FORECAST_UNKNOWN, WEATHER_3 = {"get_forecast": (1, 1)}, {"get_weather": (3, 0)}


def hand_loop(framework: str, rate_limit_framework: str) -> dict[str, Want]:
    """The team's own loop over a client, serialised as its message / item list (no usage in it)."""
    return {
        "clean": Want(framework, "", WEATHER, NONE, None),
        "tool_error": Want(framework, "tool_error", WEATHER_FAILED, NONE, None),
        "unknown_tool": Want(framework, "unknown_tool", FORECAST_UNKNOWN, NONE, None),
        "bad_arguments": Want(framework, "invalid_tool_arguments", WEATHER_FAILED, NONE, None),
        # the loop raised "agent loop stopped after 3 iterations"
        "max_iterations": Want(framework, "max_iterations", WEATHER_3, NONE, None),
        # only the user message was sent; the client library shows in the traceback
        "rate_limit": Want(rate_limit_framework, "rate_limit", {}, NONE, None),
    }


EXPECTED: dict[str, Want] = {}
for library in ("openai", "anthropic", "openai_responses"):
    EXPECTED |= {f"{library}__{s}": w for s, w in hand_loop(library, library).items()}
EXPECTED |= {
    "openai__clean__completion": Want("openai", "", {}, LAST, usd(*LAST)),
    "openai_responses__clean__response": Want("openai_responses", "", {}, LAST, usd(*LAST)),
    "anthropic__clean__message": Want("anthropic", "", {}, LAST, usd(*LAST, "0.80", "4")),
}

# LangChain's classic AgentExecutor: intermediate steps name the model (streamed, so no usage); a tool's
# exception or a validation error is raised, with the tool in the traceback.
EXPECTED |= {
    "langchain__clean": Want("langchain", "", WEATHER, NONE, None),
    "langchain__clean__dumpd": Want("langchain", "", WEATHER, NONE, None),
    "langchain__tool_error": Want("langchain", "tool_error", {}, NONE, None),
    "langchain__unknown_tool": Want("langchain", "unknown_tool", FORECAST_UNKNOWN, NONE, None),
    "langchain__unknown_tool__dumpd": Want("langchain", "unknown_tool", FORECAST_UNKNOWN, NONE, None),
    "langchain__bad_arguments": Want("langchain", "invalid_tool_arguments", {}, NONE, None),
    # "Agent stopped due to max iterations." after three get_weather steps
    "langchain__max_iterations": Want("langchain", "max_iterations", WEATHER_3, NONE, None),
    "langchain__max_iterations__dumpd": Want("langchain", "max_iterations", WEATHER_3, NONE, None),
    "langchain__rate_limit": Want("langchain", "rate_limit", {}, NONE, None),
}
# A tool-calling chat model in the team's loop: LangChain messages with usage_metadata.
for suffix in ("", "__model_dump"):
    EXPECTED |= {
        f"langchain_chat__clean{suffix}": Want("langchain", "", WEATHER, TWO, usd(*TWO)),
        f"langchain_chat__tool_error{suffix}": Want("langchain", "tool_error", WEATHER_FAILED, TWO, usd(*TWO)),
        f"langchain_chat__unknown_tool{suffix}": Want("langchain", "unknown_tool", FORECAST_UNKNOWN, TWO, usd(*TWO)),
        f"langchain_chat__bad_arguments{suffix}": Want("langchain", "invalid_tool_arguments", WEATHER_FAILED, TWO,
                                                       usd(*TWO)),
        f"langchain_chat__max_iterations{suffix}": Want("langchain", "max_iterations", WEATHER_3, THREE, usd(*THREE)),
        f"langchain_chat__rate_limit{suffix}": Want("langchain", "rate_limit", {}, NONE, None),
    }
# LangGraph's prebuilt ReAct agent: the state dict; messages_to_dict(state["messages"]) is a bare LangChain list.
# An invalid tool call ends the graph after the first model call.
for suffix, framework in (("", "langgraph"), ("__messages_to_dict", "langchain")):
    EXPECTED |= {
        f"langgraph__clean{suffix}": Want(framework, "", WEATHER, TWO, usd(*TWO)),
        f"langgraph__unknown_tool{suffix}": Want(framework, "unknown_tool", FORECAST_UNKNOWN, TWO, usd(*TWO)),
        f"langgraph__bad_arguments{suffix}": Want(framework, "invalid_tool_arguments", WEATHER_FAILED, ONE, usd(*ONE)),
    }
EXPECTED |= {
    "langgraph__tool_error": Want("langgraph", "tool_error", {}, NONE, None),
    "langgraph__max_iterations": Want("langgraph", "max_iterations", {}, NONE, None),  # GraphRecursionError
    "langgraph__rate_limit": Want("langgraph", "rate_limit", {}, NONE, None),
}

# OpenAI Agents SDK: RunResult keeps the agent (its model); RunState.to_json() keeps usage but no model;
# to_input_list() is the Responses API's own item format. A failed tool answers "An error occurred while
# running the tool"; malformed arguments stay in the function call item.
for scenario, category, tools in (("clean", "", WEATHER), ("tool_error", "tool_error", WEATHER_FAILED),
                                  ("bad_arguments", "invalid_tool_arguments", WEATHER_FAILED)):
    EXPECTED |= {
        f"openai_agents__{scenario}__run_result": Want("openai_agents", category, tools, TWO, usd(*TWO)),
        f"openai_agents__{scenario}__run_state": Want("openai_agents", category, tools, TWO, None),
        f"openai_agents__{scenario}__input_list": Want("openai_responses", category, tools, NONE, None),
    }
EXPECTED |= {
    # MaxTurnsExceeded carries the run so far
    "openai_agents__max_iterations": Want("openai_agents", "max_iterations", WEATHER_3, THREE, usd(*THREE)),
    # ModelBehaviorError("Tool get_forecast not found in agent ..."), its run data empty
    "openai_agents__unknown_tool": Want("openai_agents", "unknown_tool", {}, NONE, None),
    "openai_agents__rate_limit": Want("openai_agents", "rate_limit", {}, NONE, None),
}

# pydantic-ai 2.x: unknown tools and invalid arguments come back as tool-return parts with outcome "retried";
# a tool's own exception and UsageLimitExceeded are raised.
for suffix in ("", "__adapter"):
    EXPECTED |= {
        f"pydantic_ai__clean{suffix}": Want("pydantic_ai", "", WEATHER, TWO, usd(*TWO)),
        f"pydantic_ai__unknown_tool{suffix}": Want("pydantic_ai", "unknown_tool", FORECAST_UNKNOWN, TWO, usd(*TWO)),
        f"pydantic_ai__bad_arguments{suffix}": Want("pydantic_ai", "invalid_tool_arguments", WEATHER_FAILED, TWO,
                                                    usd(*TWO)),
    }
EXPECTED |= {
    "pydantic_ai__tool_error": Want("pydantic_ai", "tool_error", {}, NONE, None),
    "pydantic_ai__max_iterations": Want("pydantic_ai", "max_iterations", {}, NONE, None),
    "pydantic_ai__rate_limit": Want("pydantic_ai", "rate_limit", {}, NONE, None),
}

# smolagents' ToolCallingAgent: memory steps (and RunResult); final_answer is how it answers, not a tool use.
# At max_steps it asks the model once more for an answer: four requests, the fourth 240 in / 25 out.
for suffix in ("", "__run_result"):
    EXPECTED |= {
        f"smolagents__clean{suffix}": Want("smolagents", "", WEATHER, TWO, usd(*TWO)),
        f"smolagents__tool_error{suffix}": Want("smolagents", "tool_error", WEATHER_FAILED, TWO, usd(*TWO)),
        f"smolagents__unknown_tool{suffix}": Want("smolagents", "unknown_tool", FORECAST_UNKNOWN, TWO, usd(*TWO)),
        f"smolagents__bad_arguments{suffix}": Want("smolagents", "invalid_tool_arguments", WEATHER_FAILED, TWO,
                                                   usd(*TWO)),
        f"smolagents__max_iterations{suffix}": Want("smolagents", "max_iterations", WEATHER_3, (720, 100),
                                                    usd(720, 100)),
    }
EXPECTED["smolagents__rate_limit"] = Want("smolagents", "rate_limit", {}, NONE, None)

# AutoGen AgentChat TaskResult: models_usage names no model. Asked to reflect after its tool iterations, the
# scripted model called a tool again: "Reflect on tool use produced no valid text response."
EXPECTED |= {
    "autogen__clean": Want("autogen", "", WEATHER, TWO, None),
    "autogen__tool_error": Want("autogen", "tool_error", WEATHER_FAILED, TWO, None),
    "autogen__unknown_tool": Want("autogen", "unknown_tool", FORECAST_UNKNOWN, TWO, None),
    "autogen__bad_arguments": Want("autogen", "invalid_tool_arguments", WEATHER_FAILED, TWO, None),
    "autogen__max_iterations": Want("autogen", "max_iterations", {}, NONE, None),
    "autogen__rate_limit": Want("autogen", "rate_limit", {}, NONE, None),
}

# CrewAI 1.x CrewOutput: tasks_output[].messages and tool_failures; token_usage names no model. At max_iter
# it took the model's tool calls for the task's output and raised a ValidationError for TaskOutput.raw.
EXPECTED |= {
    "crewai__clean": Want("crewai", "", WEATHER, TWO, None),
    "crewai__tool_error": Want("crewai", "tool_error", WEATHER_FAILED, TWO, None),
    "crewai__unknown_tool": Want("crewai", "unknown_tool", FORECAST_UNKNOWN, TWO, None),
    "crewai__bad_arguments": Want("crewai", "invalid_tool_arguments", WEATHER_FAILED, TWO, None),
    "crewai__max_iterations": Want("crewai", "max_iterations", {}, NONE, None),
    "crewai__rate_limit": Want("crewai", "rate_limit", {}, NONE, None),
}

# LlamaIndex 0.14 FunctionAgent. AgentOutput keeps the calls the model asked for but not their results, so
# a failed, unknown or mis-called tool does not show in it: the runs read as answered (the events do show it;
# with malformed JSON the library called get_weather(city=None), which answered). No usage in either.
EXPECTED |= {
    "llamaindex__clean": Want("llamaindex", "", WEATHER, NONE, None),
    "llamaindex__tool_error": Want("llamaindex", "", WEATHER, NONE, None),
    "llamaindex__unknown_tool": Want("llamaindex", "", {"get_forecast": (1, 0)}, NONE, None),
    "llamaindex__bad_arguments": Want("llamaindex", "", WEATHER, NONE, None),
    "llamaindex__clean__events": Want("llamaindex", "", WEATHER, NONE, None),
    "llamaindex__tool_error__events": Want("llamaindex", "tool_error", WEATHER_FAILED, NONE, None),
    "llamaindex__unknown_tool__events": Want("llamaindex", "unknown_tool", FORECAST_UNKNOWN, NONE, None),
    "llamaindex__bad_arguments__events": Want("llamaindex", "", WEATHER, NONE, None),
    # WorkflowRuntimeError "Max iterations of 3 reached!" after two tool results
    "llamaindex__max_iterations": Want("llamaindex", "max_iterations", {}, NONE, None),
    "llamaindex__max_iterations__events": Want("llamaindex", "max_iterations", {"get_weather": (2, 0)}, NONE, None),
    "llamaindex__rate_limit": Want("llamaindex", "rate_limit", {}, NONE, None),
    "llamaindex__rate_limit__events": Want("llamaindex", "rate_limit", {}, NONE, None),
}

# Google ADK events (snake_case model_dump and the API server's camelCase), with its LiteLLM model: the tool's
# exception is an error event and is raised; malformed arguments are a MALFORMED_FUNCTION_CALL model event.
for suffix in ("", "__camel"):
    EXPECTED |= {
        f"google_adk__clean{suffix}": Want("google_adk", "", WEATHER, TWO, usd(*TWO)),
        f"google_adk__tool_error{suffix}": Want("google_adk", "tool_error", WEATHER_FAILED, ONE, usd(*ONE)),
        f"google_adk__unknown_tool{suffix}": Want("google_adk", "unknown_tool", FORECAST_UNKNOWN, TWO, usd(*TWO)),
        f"google_adk__bad_arguments{suffix}": Want("google_adk", "invalid_tool_arguments", WEATHER_FAILED, ONE,
                                                   usd(*ONE)),
        # LlmCallsLimitExceededError after three model calls
        f"google_adk__max_iterations{suffix}": Want("google_adk", "max_iterations", WEATHER_3, THREE, usd(*THREE)),
        f"google_adk__rate_limit{suffix}": Want("google_adk", "rate_limit", {}, NONE, None),
    }


def recorded_trace(name: str) -> dict[str, Any]:
    """The trace a team sends for a run: what the library returned as output, what it raised as error."""
    record = json.loads((RECORDED / f"{name}.json").read_text())
    trace = {"agent_id": record["library"], "input": record["input"]}
    if record["output"] is not None:
        trace["output"] = record["output"]
    if record["error"] is not None:
        trace["error"] = record["error"]
    return trace


def test_every_recorded_file_has_expected_values():
    assert sorted(p.stem for p in RECORDED.glob("*.json")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_recorded_run(name):
    want = EXPECTED[name]
    result = evaluate(to_trace(recorded_trace(name)))
    tools = {t["name"]: (t["calls"], t["failures"]) for t in result.details["tools"]}
    got = Want(result.framework, result.failure_category, tools, (result.input_tokens, result.output_tokens),
               None if result.cost_usd is None else str(result.cost_usd.normalize()))
    expected = want._replace(cost=None if want.cost is None else str(Decimal(want.cost).normalize()))
    assert got == expected
    assert result.success is (want.category == "")


def test_grades_separate_the_recorded_runs():
    results = [evaluate(to_trace(recorded_trace(name))) for name in EXPECTED]
    grades = {r.grade for r in results}
    assert len(grades) >= 4, grades  # not every success A+ and every failure F
    assert min(r.score for r in results if r.success) > max(r.score for r in results if not r.success)
    # a clean run, a run stopped at its step limit with every tool working, a run whose tool failed
    by_name = dict(zip(EXPECTED, results, strict=True))
    clean, stopped, broken = (by_name[n] for n in ("langgraph__clean", "langchain__max_iterations",
                                                    "openai__tool_error"))
    assert clean.score > stopped.score > broken.score
    assert len({clean.grade, stopped.grade, broken.grade}) == 3


def test_a_non_answer_is_not_a_hundred_points():
    answered = evaluate(to_trace({"agent_id": "a", "input": "What is the refund policy for damaged kettles?",
                                  "output": "Damaged kettles are refunded in full within 30 days."}))
    echoed = evaluate(to_trace({"agent_id": "a", "input": "What is the refund policy for damaged kettles?",
                                "output": "Here is what I found about: refund policy for damaged kettles"}))
    gave_up = evaluate(to_trace({"agent_id": "a", "input": "Where is order 8812?", "output": "I don't know."}))
    assert answered.score == 100
    for result in (echoed, gave_up):
        assert result.success and result.score < 100
        assert [i["category"] for i in result.details["issues"]] == ["non_answer"]
