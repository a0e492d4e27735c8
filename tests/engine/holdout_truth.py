"""What really happened in each held-out recorded run (tests/fixtures/frameworks/holdout, record.py --holdout),
written from the script and each library's documented behaviour before the engine saw these runs.

A support agent with two tools, lookup_order and refund_order, asked "Please refund order 7700.":

    two_tools          lookup_order, then refund_order, then the answer                       success
    tool_timeout       lookup_order raises TimeoutError                                       tool_timeout
    recovered          lookup_order("77") raises LookupError, lookup_order("7700") works     success, where the
                       library hands tool errors to the model; tool_error where it raises them
    missing_argument   refund_order without its amount                                        invalid_tool_arguments
    rate_limit_midway  lookup_order works, then the model endpoint answers 429                rate_limit
    gives_up           the model answers "I don't know." and calls nothing                    success (a non-answer)
"""

from __future__ import annotations

from typing import NamedTuple


class Truth(NamedTuple):
    framework: str
    category: str  # "" for a success
    tools: dict[str, tuple[int, int]]  # name -> (calls, failures) that happened


# Libraries that raise a tool's exception out of the run (the others hand it to the model as the tool's result).
RAISE_TOOL_ERRORS = {"langchain", "langgraph", "pydantic_ai", "google_adk"}
LOOKUP, REFUND = "lookup_order", "refund_order"


def truth(name: str) -> Truth:
    library, scenario, *variant = name.split("__")
    framework = {"langchain_chat": "langchain"}.get(library, library)
    if variant == ["messages_to_dict"]:
        framework = "langchain"  # a bare list of LangChain messages
    if variant == ["input_list"]:
        framework = "openai_responses"  # to_input_list() is the Responses API's item format
    raises = library in RAISE_TOOL_ERRORS
    if library == "llamaindex" and scenario in ("two_tools", "recovered"):
        # Corrected after recording (the first table said success): LlamaIndex's max_iterations=3 raises
        # "Max iterations of 3 reached!" at the third model call even when that call answers.
        return Truth(framework, "max_iterations",
                     {LOOKUP: (1, 0), REFUND: (1, 0)} if scenario == "two_tools" else {LOOKUP: (2, 1)})
    return {
        "two_tools": Truth(framework, "", {LOOKUP: (1, 0), REFUND: (1, 0)}),
        "tool_timeout": Truth(framework, "tool_timeout", {LOOKUP: (1, 1)}),
        "recovered": Truth(framework, "tool_error", {LOOKUP: (1, 1)}) if raises
        else Truth(framework, "", {LOOKUP: (2, 1)}),
        "missing_argument": Truth(framework, "invalid_tool_arguments", {REFUND: (1, 1)}),
        "rate_limit_midway": Truth(framework, "rate_limit", {LOOKUP: (1, 0)}),
        "gives_up": Truth(framework, "", {}),
    }[scenario]


# What the serialised object cannot show, so no engine can: each case's observable verdict and why.
NOT_IN_THE_OBJECT: dict[str, tuple[str, str]] = {
    **{f"{lib}__gives_up": ("framework", "a plain [user, assistant] message list names no library")
       for lib in ("openai", "anthropic", "openai_responses")},
    "openai_agents__gives_up__input_list": ("framework", "a plain [user, assistant] item list names no library"),
    **{f"openai_agents__{s}__{v}": ("category", "the SDK's tool failure text is 'An error occurred while running "
                                                "the tool. Please try again.', whatever the cause")
       for s in ("tool_timeout", "missing_argument") for v in ("run_result", "run_state", "input_list")
       # RunResult keeps the agent's tool schemas: a call without a required parameter shows (found later)
       if (s, v) != ("missing_argument", "run_result")},
    **{f"llamaindex__{s}": ("category", "AgentOutput keeps the calls asked for, not their results")
       for s in ("tool_timeout", "missing_argument")},
    **{f"{lib}__rate_limit_midway": ("tools", "the run raised and returned nothing: the call made before is not in it")
       for lib in ("autogen", "crewai", "langchain", "langgraph", "llamaindex", "openai_agents", "pydantic_ai")},
    **{f"llamaindex__{s}": ("tools", "the run raised and returned nothing") for s in ("two_tools", "recovered")},
    "langchain__missing_argument": ("tools", "the ValidationError's traceback runs through no tool function"),
}
