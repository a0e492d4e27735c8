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
    return {
        "two_tools": Truth(framework, "", {LOOKUP: (1, 0), REFUND: (1, 0)}),
        "tool_timeout": Truth(framework, "tool_timeout", {LOOKUP: (1, 1)}),
        "recovered": Truth(framework, "tool_error", {LOOKUP: (1, 1)}) if raises
        else Truth(framework, "", {LOOKUP: (2, 1)}),
        "missing_argument": Truth(framework, "invalid_tool_arguments", {REFUND: (1, 1)}),
        "rate_limit_midway": Truth(framework, "rate_limit", {LOOKUP: (1, 0)}),
        "gives_up": Truth(framework, "", {}),
    }[scenario]
