from __future__ import annotations

import pytest

pytest.importorskip("langchain_core")
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel  # noqa: E402
from langchain_core.messages import AIMessage  # noqa: E402
from langchain_core.prompts import ChatPromptTemplate  # noqa: E402
from langchain_core.runnables import RunnableLambda  # noqa: E402
from langchain_core.tools import tool  # noqa: E402

from arc_eval.integrations.langchain import ArcCallbackHandler  # noqa: E402


@tool
def lookup_order(order_id: str) -> str:
    """Find an order by id."""
    return f"order {order_id}: shipped"


def model() -> FakeMessagesListChatModel:
    return FakeMessagesListChatModel(responses=[
        AIMessage(content="", tool_calls=[{"name": "lookup_order", "args": {"order_id": "A1"}, "id": "c1"}],
                  usage_metadata={"input_tokens": 30, "output_tokens": 5, "total_tokens": 35}),
        AIMessage(content="Your order shipped.",
                  usage_metadata={"input_tokens": 50, "output_tokens": 6, "total_tokens": 56}),
    ])


def agent_chain():
    llm = model()
    prompt = ChatPromptTemplate.from_messages([("human", "{question}")])

    def run(inputs: dict) -> str:
        first = (prompt | llm).invoke(inputs)
        result = lookup_order.invoke(first.tool_calls[0]["args"])
        return llm.invoke(f"Tool said: {result}").content

    return RunnableLambda(run, name="order_agent")


def test_a_langchain_run_becomes_one_trace_with_llm_tool_and_chain_spans(tracer, arc):
    handler = ArcCallbackHandler(tracer=tracer, agent_id="order-bot")
    answer = agent_chain().invoke({"question": "Where is A1?"}, config={"callbacks": [handler]})
    assert answer == "Your order shipped."
    assert tracer.flush(5)
    [trace] = arc.received
    assert trace["agent_id"] == "order-bot" and trace["framework"] == "langchain"
    assert trace["input"] == {"question": "Where is A1?"} and trace["output"] == "Your order shipped."
    kinds = [(s["kind"], s["name"]) for s in trace["spans"]]
    assert ("tool", "lookup_order") in kinds and ("chain", "ChatPromptTemplate") in kinds
    llms = [s for s in trace["spans"] if s["kind"] == "llm"]
    assert [s["usage"]["input_tokens"] for s in llms] == [30, 50]
    assert llms[0]["output"]["tool_calls"][0]["name"] == "lookup_order"
    tool_span = next(s for s in trace["spans"] if s["kind"] == "tool")
    assert tool_span["output"] == "order A1: shipped"
    sequence = next(s for s in trace["spans"] if s["name"] == "RunnableSequence")
    assert llms[0]["parent_id"] == sequence["span_id"]


def test_inside_trace_agent_the_handler_joins_the_run(tracer, arc):
    handler = ArcCallbackHandler()

    @tracer.trace_agent
    def support(question: str) -> str:
        return agent_chain().invoke({"question": question}, config={"callbacks": [handler]})

    support("Where is A1?")
    assert tracer.flush(5)
    [trace] = arc.received
    assert trace["agent_id"] == "support"
    assert trace["spans"][0]["name"] == "order_agent" and trace["spans"][0]["parent_id"] is None


def test_chain_error_marks_the_trace(tracer, arc):
    def fail(_: dict) -> None:
        raise KeyError("missing")

    with pytest.raises(KeyError):
        RunnableLambda(fail, name="broken").invoke({}, config={"callbacks": [ArcCallbackHandler(tracer=tracer)]})
    assert tracer.flush(5)
    [trace] = arc.received
    assert trace["agent_id"] == "broken" and trace["error"]["type"] == "KeyError"
