"""The arc-eval CLI against the real server, as a developer runs it from the terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request

import pytest

from tests.conftest import sample_trace
from tests.evaluations.test_engine_api import failing
from tests.processes import free_port, web_server
from traces.models import Trace

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def cli(base: str, key: str, *args: str, tmp_path) -> subprocess.CompletedProcess:
    env = {**os.environ, "ARC_BASE_URL": base, "ARC_API_KEY": key, "ARC_CONFIG_DIR": str(tmp_path / "cfg")}
    return subprocess.run([sys.executable, "-m", "arc_eval", *args], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=120)


@pytest.fixture
def server():
    with web_server(REDIS_URL="") as (base, _):
        yield base


def test_upload_debug_improve_scenarios_and_report(server, acme, tmp_path):
    folder = tmp_path / "runs"
    folder.mkdir()
    (folder / "good.json").write_text(json.dumps([sample_trace("cli-1"), sample_trace("cli-2")]))
    (folder / "mixed.jsonl").write_text(json.dumps(failing("cli-3")) + "\n{not json}\n"
                                        + json.dumps({"agent_id": 7}) + "\n")
    upload = cli(server, acme.key, "upload", str(folder), "--no-progress", tmp_path=tmp_path)
    assert upload.returncode == 1, upload.stderr  # problems were found, the rest was kept
    output = upload.stdout + upload.stderr
    assert "mixed.jsonl: line 3: $.agent_id" in output and "2 problem(s)" in output
    assert set(Trace.objects.values_list("trace_id", flat=True)) == {"cli-1", "cli-2", "cli-3"}

    again = cli(server, acme.key, "upload", str(folder / "good.json"), "--no-progress", tmp_path=tmp_path)
    assert again.returncode == 0 and Trace.objects.count() == 3  # resumable and idempotent

    bad_run = tmp_path / "bad.json"
    bad_run.write_text(json.dumps(failing("cli-4")))
    debug = cli(server, acme.key, "debug", "--input", str(bad_run), tmp_path=tmp_path)
    assert debug.returncode == 1 and "tool_timeout" in debug.stdout and "FAILURE" in debug.stdout

    improve = cli(server, acme.key, "improve", "--live", tmp_path=tmp_path)
    assert improve.returncode == 0 and "timeout" in improve.stdout.lower()
    scenarios = cli(server, acme.key, "scenarios", "--from-last-failure", "--json", tmp_path=tmp_path)
    assert scenarios.returncode == 0 and json.loads(scenarios.stdout)["scenarios"]

    agents = cli(server, acme.key, "agents", "--json", tmp_path=tmp_path)
    assert [a["name"] for a in json.loads(agents.stdout)] == ["support-bot"]

    pdf = tmp_path / "out.pdf"
    report = cli(server, acme.key, "report", "--agent", "support-bot", "--pdf", str(pdf), tmp_path=tmp_path)
    assert report.returncode == 0, report.stderr
    assert pdf.read_bytes().startswith(b"%PDF")


def test_compare_against_a_baseline(server, acme, acme_api, tmp_path):
    acme_api.post("/api/v1/traces", [sample_trace(f"c{i}") for i in range(4)])
    before = {"agent": "support-bot", "name": "v1", "start": "2026-01-01T00:00:00Z", "end": "2026-01-08T00:00:00Z"}
    request = urllib.request.Request(f"{server}/api/v1/baselines", method="POST", data=json.dumps(before).encode(),
                                     headers={"Authorization": f"Bearer {acme.key}",
                                              "Content-Type": "application/json"})
    baseline = json.loads(urllib.request.urlopen(request, timeout=30).read())["id"]
    result = cli(server, acme.key, "compare", "--baseline", baseline, "--current", "7d", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Reliability" in result.stdout and "no significant regression" in result.stdout


def test_clear_errors_for_a_bad_key_and_an_unreachable_server(server, acme, tmp_path):
    bad_key = cli(server, "arc_nope_" + "x" * 40, "agents", tmp_path=tmp_path)
    assert bad_key.returncode == 4 and "key" in bad_key.stderr.lower()
    nowhere = cli(f"http://127.0.0.1:{free_port()}", acme.key, "agents", tmp_path=tmp_path)
    assert nowhere.returncode == 3 and "cannot reach" in nowhere.stderr
