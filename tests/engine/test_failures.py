from __future__ import annotations

from evaluations.engine import to_trace
from evaluations.engine.failures import classify, fingerprint, normalise_message


def failed(**fields):
    return classify(to_trace({"agent_id": "a", **fields}), success=False)


def tool(name, error=None, **extra):
    return {"span_id": name, "kind": "tool", "name": name, "error": error, **extra}


def test_tool_timeout_by_message_or_type():
    by_message = failed(output="x", spans=[tool("search", {"type": "ToolError", "message": "search timed out after 30s"})])
    by_type = failed(output="x", spans=[tool("search", {"type": "TimeoutError", "message": ""})])
    assert by_message.category == by_type.category == "tool_timeout"
    assert by_message.step == "search" and by_message.span_id == "search"


def test_fingerprint_groups_messages_differing_only_by_ids():
    a = "Order 8812 (req 3f2a9c1e-0d4b-4c1e-9a7b-2b6c0e1f9a10) timed out after 30s at 0xdeadbeef01"
    b = "Order 19 (req 5e1b7a2c-9f3d-4a8e-b1c2-7d6e5f4a3b21) timed out after 45s at 0xfeedface02"
    assert normalise_message(a) == normalise_message(b)
    assert fingerprint("tool_timeout", a, "search") == fingerprint("tool_timeout", b, "search")
    assert fingerprint("tool_timeout", a, "search") != fingerprint("tool_timeout", a, "lookup")
    assert fingerprint("tool_timeout", a, "search") != fingerprint("rate_limit", a, "search")


def test_categories():
    assert failed(error={"type": "RateLimitError", "message": "Error code: 429 - Rate limit reached"}).category == "rate_limit"
    assert failed(error={"type": "AuthenticationError", "message": "Incorrect API key provided"}).category == "auth_error"
    assert failed(error={"type": "BadRequestError",
                         "message": "This model's maximum context length is 128000 tokens"}).category == "context_length_exceeded"
    assert failed(output="x", spans=[tool("calc", {"message": "calc is not a valid tool, try one of [search]."})]).category == "unknown_tool"
    assert failed(output="x", spans=[tool("refund", {"type": "ValidationError", "message": "1 validation error"})]).category == "invalid_tool_arguments"
    assert failed(error={"type": "OutputParserException", "message": "Could not parse LLM output"}).category == "output_parse_error"
    assert failed(output={"output": "Agent stopped due to iteration limit or time limit."}).category == "max_iterations"
    assert failed(output="x", spans=[tool("db", {"type": "KeyError", "message": "'id'"})]).category == "tool_error"
    assert failed(error={"type": "KeyError", "message": "'id'"}).category == "agent_error"
    assert failed(output="").category == "empty_output"
    assert failed(output="fine").category == "wrong_answer"


def test_compliance_and_success():
    trace = to_trace({"agent_id": "a", "output": "x"})
    assert classify(trace, success=False, compliance_failed=True).category == "compliance_violation"
    assert classify(trace, success=True) is None


def test_failures_are_placed_where_they_happened():
    own_code = failed(output=None, error={"type": "RuntimeError", "message": "payment gateway timeout"},
                      spans=[tool("get_cart", output={"items": 3})])
    assert (own_code.category, own_code.component) == ("agent_error", "agent")
    model = failed(output=None, error={"type": "APITimeoutError", "message": "Request timed out."},
                   spans=[{"span_id": "l1", "kind": "llm", "name": "plan",
                           "error": {"type": "APITimeoutError", "message": "Request timed out."}}])
    assert (model.category, model.step) == ("llm_timeout", "plan")
    in_tool = failed(output=None, error={"type": "TimeoutError", "message": "read timed out"},
                     spans=[tool("get_quote", {"type": "TimeoutError", "message": "read timed out"})])
    assert (in_tool.category, in_tool.step, in_tool.component) == ("tool_timeout", "get_quote", "tool")


def test_framework_give_up_texts_and_types():
    assert failed(output={"messages": [{"type": "ai", "content": "x"}],
                          "output": "Sorry, need more steps to process this request."}).category == "max_iterations"
    usage = failed(error={"type": "UsageLimitExceeded", "message": "The next request would exceed the request_limit of 3"})
    assert usage.category == "max_iterations"  # not infinite_loop
    assert failed(error={"type": "RuntimeError",
                         "message": "Reflect on tool use produced no valid text response."}).category == "max_iterations"


def test_a_traceback_through_a_tool_runner_names_the_tool():
    traceback = ('Traceback (most recent call last):\n'
                 '  File "/venv/lib/python3.12/site-packages/langchain_core/tools/base.py", line 1099, in run\n'
                 '  File "/app/tools.py", line 12, in lookup_order\n'
                 'TimeoutError: order service timed out\n')
    found = failed(error={"type": "TimeoutError", "message": "order service timed out", "traceback": traceback})
    assert (found.category, found.component, found.step) == ("tool_timeout", "tool", "lookup_order")
