"""What really happened in each run of the second held-out suite (tests/fixtures/frameworks/holdout2, record.py
--holdout2), written from the scripts and each library's documented behaviour before the engine saw these runs.

A travel agent with three tools — search_flights(origin, destination, date), check_calendar(date) and
book_seat(flight_number, seat) — asked "Find me a flight from Oslo to Lisbon on 4 December and book a seat.":

    parallel        search_flights and check_calendar asked for in one model turn, both work, then the answer  success
    error_result    book_seat(seat="14C") returns {"status": "error", ...} as its result (nothing raised);
                    the model reports that the seat is taken                                             tool_error
    auth_error      the model endpoint answers 401 invalid_api_key to the first request                  auth_error
    context_length  search_flights works, then the endpoint answers 400 context_length_exceeded          context_length_exceeded
    multi_turn      turn 1: search_flights, an answer; turn 2 "Book seat 12A on TP753": book_seat works   success
    streamed        search_flights, then the answer, with the model's replies streamed                   success
    handoff         the triage agent hands over to booking_agent (a handoff, not a tool of the team's),
                    which calls book_seat, then answers                                                  success

The n-th model request of a script uses 120 + 40n input and 25 output tokens (scripted_model.py); gpt-4o-mini
costs $0.15 / $0.60 per million. `tokens` is the usage of the model responses the recorded object carries, where
it carries both a model name and usage (None where it lacks either: a hand loop's message list, LangChain's
AgentExecutor result, AutoGen's and CrewAI's usage without a model, RunState.to_json(), LlamaIndex, a run that
raised and returned nothing).
"""

from __future__ import annotations

from typing import NamedTuple


class Truth(NamedTuple):
    framework: str
    category: str  # "" for a success
    tools: dict[str, tuple[int, int]]  # name -> (calls, failures) that happened
    tokens: tuple[int, int] | None  # input, output carried with a model name; None when model or usage is missing


SEARCH, CALENDAR, BOOK = "search_flights", "check_calendar", "book_seat"

# Serialisations that carry the model's name beside each response's usage.
MODEL_AND_USAGE = {"langchain_chat", "langchain_chat/model_dump", "langgraph", "langgraph/messages_to_dict",
                   "openai_agents/run_result", "pydantic_ai", "pydantic_ai/adapter", "smolagents",
                   "smolagents/run_result", "google_adk", "google_adk/camel"}
# Libraries that raise a model error out of the run and return nothing (the others' objects keep the run so far).
RAISE_MODEL_ERRORS = {"langchain", "langgraph", "pydantic_ai", "openai_agents", "autogen", "crewai", "llamaindex"}


def requests_tokens(*ns: int) -> tuple[int, int]:
    return sum(120 + 40 * n for n in ns), 25 * len(ns)


def truth(name: str) -> Truth:
    library, scenario, *variant = name.split("__")
    framework = {"langchain_chat": "langchain"}.get(library, library)
    if variant == ["messages_to_dict"]:
        framework = "langchain"  # a bare list of LangChain messages
    if variant == ["input_list"]:
        framework = "openai_responses"  # to_input_list() is the Responses API's item format
    serialisation = "/".join([library, *variant])
    category, tools, requests = {
        "parallel": ("", {SEARCH: (1, 0), CALENDAR: (1, 0)}, (0, 1)),
        "error_result": ("tool_error", {BOOK: (1, 1)}, (0, 1)),
        "auth_error": ("auth_error", {}, ()),
        "context_length": ("context_length_exceeded", {SEARCH: (1, 0)}, (0,)),
        "multi_turn": ("", {SEARCH: (1, 0), BOOK: (1, 0)}, (0, 1, 2, 3)),
        "streamed": ("", {SEARCH: (1, 0)}, (0, 1)),
        "handoff": ("", {BOOK: (1, 0)}, (0, 1, 2)),
    }[scenario]
    if serialisation == "openai_agents/run_result" and scenario == "multi_turn":
        requests = (2, 3)  # the second turn's RunResult: its raw_responses are that run's alone
    if serialisation == "openai_agents/run_result" and scenario == "streamed":
        # Corrected after recording (the first table expected the usage): the SDK streams Chat Completions
        # without asking for usage, so its raw_responses carry 0 tokens.
        requests = ()
    raised = scenario in ("auth_error", "context_length") and library in RAISE_MODEL_ERRORS
    carried = serialisation in MODEL_AND_USAGE and requests and not raised
    return Truth(framework, category, tools, requests_tokens(*requests) if carried else None)


# What the serialised object cannot show, so no engine can: filled in after recording, each checked against the
# recorded object (see docs/engine.md).
NOT_IN_THE_OBJECT: dict[str, tuple[str, str]] = {
    **{f"{lib}__context_length": ("tools", "the run raised and returned nothing: the call made before is not in it")
       for lib in ("autogen", "crewai", "langchain", "langgraph", "llamaindex", "openai_agents", "pydantic_ai")},
    "llamaindex__error_result": ("category", "AgentOutput keeps the calls asked for, not their results"),
}
