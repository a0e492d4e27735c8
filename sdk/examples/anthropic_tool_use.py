"""Anthropic tool use, streaming the final answer; every Messages call becomes an llm span.

Offline: the Anthropic client talks to a local fake model server (_fake_llm.py).
    python anthropic_tool_use.py
"""

import _fake_llm
from anthropic import Anthropic

import arc_eval
from arc_eval import ArcTracer, tool

arc_eval.instrument(anthropic=True)
tracer = ArcTracer(domain="security")

TOOLS = [{"name": "search", "description": "Search the knowledge base",
          "input_schema": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}}]


@tool
def search(query: str) -> str:
    return "Refunds are accepted within 30 days of purchase."


@tracer.trace_agent(agent_id="anthropic-support")
def answer(client: Anthropic, question: str) -> str:
    messages: list = [{"role": "user", "content": question}]
    reply = client.messages.create(model="claude-example", max_tokens=512, messages=messages, tools=TOOLS)
    while reply.stop_reason == "tool_use":
        results = [{"type": "tool_result", "tool_use_id": block.id, "content": search(**block.input)}
                   for block in reply.content if block.type == "tool_use"]
        messages += [{"role": "assistant", "content": reply.content}, {"role": "user", "content": results}]
        with client.messages.stream(model="claude-example", max_tokens=512, messages=messages,
                                    tools=TOOLS) as stream:
            text = "".join(stream.text_stream)
            reply = stream.get_final_message()
        return text
    return "".join(block.text for block in reply.content if block.type == "text")


if __name__ == "__main__":
    server, fake_url = _fake_llm.start()
    print(answer(Anthropic(base_url=fake_url, api_key="fake-key"), "Can I get a refund?"))
    tracer.flush()
    server.shutdown()
    print(f"sent {tracer.stats.sent} trace(s), failed {tracer.stats.failed}")
