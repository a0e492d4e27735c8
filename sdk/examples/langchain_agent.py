"""LangChain: one callback handler turns a chain run into a trace (llm, tool and chain spans).

Offline: a fake chat model (langchain-core's FakeMessagesListChatModel) plays the LLM.
    pip install ./sdk langchain-core
    ARC_API_KEY=... ARC_BASE_URL=http://127.0.0.1:8000 python langchain_agent.py
"""

from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import tool

from arc_eval import ArcTracer
from arc_eval.integrations.langchain import ArcCallbackHandler


@tool
def order_status(order_id: str) -> str:
    """Look up the shipping status of an order."""
    return f"Order {order_id} shipped on Monday"


llm = FakeMessagesListChatModel(responses=[
    AIMessage(content="", tool_calls=[{"name": "order_status", "args": {"order_id": "A-17"}, "id": "call_1"}],
              usage_metadata={"input_tokens": 120, "output_tokens": 18, "total_tokens": 138}),
    AIMessage(content="Your order A-17 shipped on Monday.",
              usage_metadata={"input_tokens": 160, "output_tokens": 12, "total_tokens": 172}),
])  # a real model would be .bind_tools([order_status])


def agent(inputs: dict) -> str:
    messages = [HumanMessage(inputs["question"])]
    while True:
        reply = llm.invoke(messages)
        messages.append(reply)
        if not reply.tool_calls:
            return reply.content
        for call in reply.tool_calls:
            messages.append(ToolMessage(order_status.invoke(call["args"]), tool_call_id=call["id"]))


if __name__ == "__main__":
    tracer = ArcTracer(domain="general")
    handler = ArcCallbackHandler(tracer=tracer, agent_id="langchain-support-bot")
    answer = RunnableLambda(agent, name="support_agent").invoke({"question": "Where is order A-17?"},
                                                                config={"callbacks": [handler]})
    print(answer)
    tracer.flush()
    print(f"sent {tracer.stats.sent} trace(s), failed {tracer.stats.failed}")
