"""Every example runs offline against a local server and its traces land."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import fake_arc
import pytest

EXAMPLES = Path(__file__).parent.parent / "examples"


def run_example(arc: fake_arc.FakeArc, *command: str) -> str:
    env = {**os.environ, "ARC_API_KEY": fake_arc.KEY, "ARC_BASE_URL": arc.url, "PYTHONPATH": str(EXAMPLES)}
    result = subprocess.run(command, cwd=EXAMPLES, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("script, agent, kinds, needs", [
    ("langchain_agent.py", "langchain-support-bot", {"llm", "tool"}, "langchain_core"),
    ("crewai_style.py", "research-crew", {"agent", "tool", "llm"}, "openai"),
    ("openai_agents_style.py", "openai-agents-banker", {"llm", "tool"}, "openai"),
    ("anthropic_tool_use.py", "anthropic-support", {"llm", "tool"}, "anthropic"),
])
def test_python_examples(arc, script, agent, kinds, needs):
    pytest.importorskip(needs)
    out = run_example(arc, sys.executable, script)
    assert "sent 1 trace(s), failed 0" in out
    [trace] = arc.received
    assert trace["agent_id"] == agent
    assert kinds <= {s["kind"] for s in trace["spans"]}
    assert any(s.get("usage", {}).get("input_tokens") for s in trace["spans"] if s["kind"] == "llm")


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
def test_curl_example(arc):
    out = run_example(arc, "sh", "plain_http.sh")
    assert '"accepted": 1' in out
    assert arc.received[0]["agent_id"] == "curl-support-bot"


def test_opentelemetry_example(arc):
    pytest.importorskip("opentelemetry.exporter.otlp.proto.http")
    run_example(arc, sys.executable, "opentelemetry_export.py")
    [(content_type, body)] = arc.otlp
    assert content_type == "application/x-protobuf" and b"otel-support-bot" in body
