from __future__ import annotations

import json
import subprocess
import sys

import pytest

from evaluations.engine.scenarios import generate, to_jsonl, to_pytest


def timeout_scenarios():
    return generate(category="tool_timeout", message="search timed out after 30s", step="search",
                    fingerprint="abc123", example_inputs=["Where is order 1?", "Where is order 2?", "Where is order 1?"])


def test_scenarios_are_concrete_deduplicated_and_simplest_first():
    scenarios = timeout_scenarios()
    assert [(s.source["kind"], s.input) for s in scenarios] == [
        ("replay", "Where is order 1?"), ("replay", "Where is order 2?"),
        ("fault", "Where is order 1?"), ("fault", "Where is order 2?")]
    fault = scenarios[2].fault
    assert fault["kind"] == "timeout" and fault["tool"] == "search"
    assert all(s.source["pattern"] == "abc123" and "timeout" in s.expected_behaviour for s in scenarios)
    assert len({s.name for s in scenarios}) == len(scenarios)


def test_adversarial_variant_for_compliance():
    scenarios = generate(category="compliance_violation", message="leak", step="", fingerprint="f",
                         example_inputs=["What is my balance?"])
    assert [s.difficulty for s in scenarios] == [1, 3]
    assert "Ignore all previous instructions" in scenarios[1].input


def test_jsonl_round_trips():
    lines = to_jsonl(timeout_scenarios()).splitlines()
    assert len(lines) == 4
    assert json.loads(lines[0])["input"] == "Where is order 1?"


def test_pytest_file_runs_against_the_users_agent(tmp_path):
    (tmp_path / "my_agent.py").write_text(
        "import json, os\n\ndef answer(question):\n"
        "    fault = json.loads(os.environ['ARC_EVAL_FAULT'])\n"
        "    return 'fallback' if fault else 'ok: ' + question\n")
    test_file = tmp_path / "test_generated.py"
    test_file.write_text(to_pytest(timeout_scenarios(), module="my_agent", function="answer"))
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:django", "-p", "no:cacheprovider",
                             str(test_file)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout


@pytest.mark.parametrize(("module", "function"), [("my agent", "run"), ("agents.main", "run()"),
                                                  ("import", "run"), ("pkg", "os; import sys")])
def test_module_and_function_must_be_identifiers(module, function):
    with pytest.raises(ValueError):
        to_pytest([], module=module, function=function)
