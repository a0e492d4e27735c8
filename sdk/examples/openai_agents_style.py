"""OpenAI Agents SDK-style loop on the Responses API: model → tool call → tool result → answer.

`arc_eval.instrument(openai=True)` records every Responses / Chat Completions call (model, tokens,
tool calls) as an llm span; `@tool` records the tools. Offline: a local fake model server.
    python openai_agents_style.py
"""

import json

import _fake_llm
from openai import OpenAI

import arc_eval
from arc_eval import ArcTracer, tool

arc_eval.instrument(openai=True)
tracer = ArcTracer(domain="finance")

TOOLS = [{"type": "function", "name": "get_balance", "description": "Balance of an account",
          "parameters": {"type": "object", "properties": {"query": {"type": "string"}}}}]


@tool
def get_balance(query: str) -> dict:
    return {"account": "ACC-1", "balance_eur": 1200}


@tracer.trace_agent(agent_id="openai-agents-banker")
def run_agent(client: OpenAI, question: str) -> str:
    history: list = [{"role": "user", "content": question}]
    for _ in range(5):
        response = client.responses.create(model="gpt-4.1-mini", input=history, tools=TOOLS)
        calls = [item for item in response.output if item.type == "function_call"]
        if not calls:
            return response.output_text
        for call in calls:
            result = get_balance(**json.loads(call.arguments))
            history.append({"type": "function_call", "call_id": call.call_id, "name": call.name,
                            "arguments": call.arguments})
            history.append({"type": "function_call_output", "call_id": call.call_id, "output": json.dumps(result)})
    raise RuntimeError("too many turns")


if __name__ == "__main__":
    server, fake_url = _fake_llm.start()
    print(run_agent(OpenAI(base_url=fake_url + "/v1", api_key="fake-key"), "What is my balance?"))
    tracer.flush()
    server.shutdown()
    print(f"sent {tracer.stats.sent} trace(s), failed {tracer.stats.failed}")
