"""CrewAI-style: a crew of agents working through tasks; each agent is a nested traced agent.

The pattern fits CrewAI itself: wrap `crew.kickoff` with `tracer.trace_agent(crew.kickoff)`.
Offline: the OpenAI client talks to a local fake model server (_fake_llm.py).
    python crewai_style.py
"""

from dataclasses import dataclass

import _fake_llm
from openai import OpenAI

import arc_eval
from arc_eval import ArcTracer, tool

arc_eval.instrument(openai=True)
server, fake_url = _fake_llm.start()
client = OpenAI(base_url=fake_url + "/v1", api_key="fake-key")
tracer = ArcTracer(domain="general", agent_id="research-crew")


@tool
def web_search(query: str) -> list:
    return [f"https://example.com/{query.replace(' ', '-')}"]


@dataclass
class Agent:
    role: str
    goal: str

    def execute(self, task: str) -> str:
        @tracer.trace_agent(agent_id=self.role)
        def run(task: str) -> str:
            sources = web_search(task)
            reply = client.chat.completions.create(model="gpt-4o-mini", messages=[
                {"role": "system", "content": f"You are a {self.role}. {self.goal}"},
                {"role": "user", "content": f"{task}\nSources: {sources}"}])
            return reply.choices[0].message.content

        return run(task)


class Crew:
    def __init__(self, agents: list, tasks: list) -> None:
        self.agents, self.tasks = agents, tasks

    def kickoff(self, inputs: dict) -> str:
        result = inputs["topic"]
        for agent, task in zip(self.agents, self.tasks):
            result = agent.execute(task.format(topic=inputs["topic"], previous=result))
        return result


if __name__ == "__main__":
    crew = Crew([Agent("researcher", "Find facts."), Agent("writer", "Write a short answer.")],
                ["Research {topic}", "Summarise: {previous}"])
    kickoff = tracer.trace_agent(crew.kickoff)
    print(kickoff({"topic": "refund policy"}))
    tracer.flush()
    server.shutdown()
    print(f"sent {tracer.stats.sent} trace(s), failed {tracer.stats.failed}")
