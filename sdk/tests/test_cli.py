"""The CLI against a local server speaking the API contract."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import fake_arc
import pytest

from arc_eval.cli import main


@pytest.fixture
def env(arc, monkeypatch):
    monkeypatch.setenv("ARC_API_KEY", fake_arc.KEY)
    monkeypatch.setenv("ARC_BASE_URL", arc.url)
    return arc


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def trace(agent: str = "bot", **extra: Any) -> dict[str, Any]:
    return {"agent_id": agent, "input": {"q": "hi"}, "output": {"a": "ok"}, **extra}


def test_login_stores_key_and_url_with_0600(arc, capsys, tmp_path):
    code, out, _ = run(capsys, "login", "--key", fake_arc.KEY, "--url", arc.url)
    assert code == 0 and "Logged in" in out
    path = tmp_path / "config" / "config.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"api_key": fake_arc.KEY, "base_url": arc.url}
    code, out, _ = run(capsys, "agents", "--json")  # the stored login is used
    assert code == 0 and json.loads(out) == []


def test_login_with_a_bad_key_fails_with_4_and_stores_nothing(arc, capsys, tmp_path):
    code, _, err = run(capsys, "login", "--key", "nope", "--url", arc.url)
    assert code == 4 and "401" in err and "arc-eval login" in err
    assert not (tmp_path / "config" / "config.json").exists()


def test_unreachable_server_says_so(capsys, dead_url):
    code, _, err = run(capsys, "agents", "--key", "k", "--url", dead_url)
    assert code == 3
    assert f"cannot reach {dead_url}: connection refused" in err


def test_json_error_output(capsys, dead_url):
    code, out, _ = run(capsys, "debug", "--live", "--json", "--key", "k", "--url", dead_url)
    assert code == 3 and json.loads(out)["exit_code"] == 3


def test_trace_prints_the_integration_code(capsys, tmp_path):
    agent = tmp_path / "agent.py"
    agent.write_text("import os\n\nasync def answer_ticket(ticket):\n    return ticket\n")
    code, out, _ = run(capsys, "trace", "--agent-file", str(agent), "--function", "answer_ticket")
    assert code == 0
    assert "from arc_eval import trace_agent" in out and '@trace_agent(agent_id="answer-ticket")' in out
    assert "async def answer_ticket" in out and "line 3" in out
    code, _, err = run(capsys, "trace", "--agent-file", str(agent), "--function", "missing")
    assert code == 2 and "no function named 'missing'" in err


def test_upload_json_jsonl_and_folders_with_errors_and_resume(env, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "traces"
    folder.mkdir()
    (folder / "one.json").write_text(json.dumps(trace("a")))
    (folder / "many.json").write_text(json.dumps({"traces": [trace("b"), trace("c")]}))
    lines = [json.dumps(trace("d")), "{not json", json.dumps({"input": "no agent"}), "", json.dumps(trace("e"))]
    (folder / "log.jsonl").write_text("\n".join(lines))
    (folder / "notes.txt").write_text("ignored")

    code, out, err = run(capsys, "upload", str(folder), "--json")
    result = json.loads(out)
    assert code == 1  # problems in some files
    assert result["sent"] == 5 and result["rejected"] == 1
    assert any("log.jsonl:2: invalid JSON" in e for e in result["errors"])
    assert any("log.jsonl: line 3: $.agent_id" in e for e in result["errors"])
    assert sorted(t["agent_id"] for t in env.received) == ["a", "b", "c", "d", "e"]

    code, out, err = run(capsys, "upload", str(folder))  # resumed: nothing is sent twice
    assert "Uploaded 0 trace(s), skipped 6 already sent" in out
    assert len(env.received) == 5

    with (folder / "log.jsonl").open("a") as f:  # a changed file is sent again from the start
        f.write("\n" + json.dumps(trace("f")))
    run(capsys, "upload", str(folder), "--no-progress")
    assert sorted(t["agent_id"] for t in env.received).count("f") == 1


def test_upload_splits_into_batches_of_at_most_1000_and_draws_progress(env, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "big.jsonl"
    path.write_text("\n".join(json.dumps(trace(f"a{i % 3}")) for i in range(2500)))
    code, out, err = run(capsys, "upload", str(path))
    assert code == 0 and "Uploaded 2500 trace(s)" in out
    assert [len(b) for b in env.batches] == [1000, 1000, 500]
    assert "2500/2500" in err and "[####" in err


def test_upload_stops_resumably_when_the_server_goes_away(env, capsys, tmp_path, monkeypatch, dead_url):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(json.dumps(trace()) for _ in range(3)))
    code, _, err = run(capsys, "upload", str(path), "--url", dead_url)
    assert code == 3 and "connection refused" in err
    code, out, _ = run(capsys, "upload", str(path))
    assert code == 0 and "Uploaded 3" in out


def test_debug_input_uploads_and_prints_the_analysis(env, capsys, tmp_path):
    path = tmp_path / "failing.json"
    path.write_text(json.dumps(trace(error={"type": "TimeoutError", "message": "search"}, success=False)))
    code, out, _ = run(capsys, "debug", "--input", str(path))
    assert code == 1
    assert "FAILURE" in out and "tool_timeout at search: search timed out after 30s" in out
    assert "0/1 run(s) succeeded" in out and "grade F" in out
    assert out.count("search timed out after 30s") == 1  # the failure is not repeated as an issue
    assert "  cost: $0.0012/run, 20% reduction possible" in out
    assert "  tool search: 2 call(s), 1 failed, p50 0.81s" in out


def test_debug_live_json(env, capsys):
    env.traces["t1"] = {**trace(), "id": "t1"}
    code, out, _ = run(capsys, "debug", "--live", "--json")
    assert code == 0 and json.loads(out)["analyses"]["t1"]["success"] is True


def test_compliance_counts_violations(env, capsys):
    env.traces["ok"] = {**trace(), "id": "ok"}
    env.traces["bad"] = {**trace(success=False), "id": "bad"}
    code, out, _ = run(capsys, "compliance", "--domain", "finance")
    assert code == 1
    assert "email" in out and "j***@example.com" in out and "1 run(s) with violations" in out


def test_improve_and_scenarios_from_failures(env, capsys, tmp_path):
    env.traces["bad"] = {**trace(success=False), "id": "bad"}
    code, out, _ = run(capsys, "improve", "--live")
    assert code == 0 and "Retry the search tool [+12.5 pts reliability]" in out and "│ @retry(tries=3)" in out
    out_file = tmp_path / "scenarios.json"
    code, out, _ = run(capsys, "scenarios", "--from-last-failure", "--out", str(out_file))
    assert code == 0 and "Search tool times out" in out
    assert json.loads(out_file.read_text())[0]["expected_behaviour"] == "answers after one retry"


def test_scenarios_without_failures_is_an_error(env, capsys):
    code, _, err = run(capsys, "scenarios", "--from-last-failure")
    assert code == 1 and "no failed run" in err


def test_compare_and_report_pdf(env, capsys, tmp_path):
    code, out, _ = run(capsys, "compare", "--baseline", "v1", "--current", "v2")
    assert code == 0 and "reliability" in out and "(significant)" in out and "no significant regression" in out
    pdf = tmp_path / "out.pdf"
    code, out, _ = run(capsys, "report", "--agent", "bot", "--pdf", str(pdf))
    assert code == 0 and pdf.read_bytes().startswith(b"%PDF") and "share:" in out


def test_console_entry_point_runs(env):
    result = subprocess.run([sys.executable, "-m", "arc_eval", "agents", "--json"], capture_output=True, text=True,
                            env={**os.environ}, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


def test_no_key_is_a_clear_error(capsys, arc):
    code, _, err = run(capsys, "agents", "--url", arc.url)
    assert code == 4 and "no API key" in err


def test_missing_file_is_a_per_file_error(env, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "good.json").write_text(json.dumps(trace()))
    code, out, _ = run(capsys, "upload", "missing.json", "good.json")
    assert code == 1 and "missing.json: No such file or directory" in out and "Uploaded 1" in out
    assert Path(".arc-upload-state.json").exists()
