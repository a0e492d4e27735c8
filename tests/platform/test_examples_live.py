"""sdk/examples, each run as a developer would, offline against the real server: the traces land with the
right agent and span kinds, and are evaluated."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from evaluations.models import Evaluation
from tests.processes import ROOT, wait_until, web_server
from traces.models import Trace

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

EXAMPLES = ROOT / "sdk" / "examples"


def run_example(base: str, key: str, *command: str) -> str:
    env = {**os.environ, "ARC_API_KEY": key, "ARC_BASE_URL": base, "PYTHONPATH": str(EXAMPLES)}
    result = subprocess.run(command, cwd=EXAMPLES, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.fixture(scope="module")
def needs_examples():
    for module in ("langchain_core", "openai", "anthropic", "opentelemetry.exporter.otlp.proto.http"):
        pytest.importorskip(module)


def test_every_example_lands_through_the_real_api(acme, needs_examples):
    expected = {"langchain_agent.py": ("langchain-support-bot", {"llm", "tool"}),
                "crewai_style.py": ("research-crew", {"agent", "tool", "llm"}),
                "openai_agents_style.py": ("openai-agents-banker", {"llm", "tool"}),
                "anthropic_tool_use.py": ("anthropic-support", {"llm", "tool"}),
                "opentelemetry_export.py": ("otel-support-bot", {"llm", "tool"})}
    with web_server(REDIS_URL="") as (base, _):
        for script in expected:
            run_example(base, acme.key, sys.executable, script)
        if shutil.which("curl"):
            assert '"accepted":1' in run_example(base, acme.key, "sh", "plain_http.sh").replace(" ", "")
            expected["plain_http.sh"] = ("curl-support-bot", set())
        assert wait_until(lambda: Evaluation.objects.filter(status="pending").count() == 0, timeout=30)
    for script, (agent, kinds) in expected.items():
        trace = Trace.objects.filter(organisation=acme.organisation, agent__name=agent).first()
        assert trace is not None, f"{script}: no trace for {agent}"
        assert kinds <= {span["kind"] for span in trace.spans}, script
        assert Evaluation.objects.get(trace=trace).status == "done", script
