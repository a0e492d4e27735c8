"""The CLI of the roadmap's demo against a live server: what docs/cli.md promises a newcomer."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from tests.conftest import sample_trace
from tests.firsthour.test_compare import baselines  # noqa: F401 - the fixture
from tests.processes import ROOT, web_server

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server(acme, acme_api):
    assert acme_api.post("/api/v1/traces", [sample_trace(f"ok-{i}") for i in range(3)]).status_code == 202
    with web_server(REDIS_URL="") as (base, _):
        yield base


def arc_eval(*args: str, key: str = "", base: str = "", cwd=ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "ARC_API_KEY": key, "ARC_BASE_URL": base, "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "arc_eval", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def test_trace_finds_a_method_written_class_dot_method(tmp_path):
    bot = tmp_path / "bot.py"
    bot.write_text("class Bot:\n    def helper(self):\n        pass\n\n    async def answer(self, question):\n"
                   "        return 'Order 1042 shipped'\n")
    done = arc_eval("trace", "--agent-file", str(bot), "--function", "Bot.answer")
    assert done.returncode == 0, done.stderr
    assert "line 5" in done.stdout and '    @trace_agent(agent_id="bot-answer")' in done.stdout
    assert "class Bot:\n    @trace_agent" in done.stdout and "    async def answer(self, ...):" in done.stdout
    missing = arc_eval("trace", "--agent-file", str(bot), "--function", "Bot.nope")
    assert missing.returncode == 2 and "no function or method named 'Bot.nope'" in missing.stderr


def test_report_prints_its_page_and_its_share_link(acme, server):
    private = arc_eval("report", "--agent", "support-bot", "--window", "7d", key=acme.key, base=server)
    assert private.returncode == 0, private.stderr
    page = re.search(r"page:\s+(\S+)", private.stdout).group(1)
    assert page.startswith(f"{server}/o/acme/reports/")
    assert "not shared yet: run again with --share" in private.stdout

    shared = arc_eval("report", "--agent", "support-bot", "--share", key=acme.key, base=server)
    link = re.search(r"share:\s+(\S+)", shared.stdout).group(1)
    assert link.startswith(f"{server}/r/")
    import urllib.request

    with urllib.request.urlopen(link, timeout=10) as public:  # the link opens for anyone, without a login
        assert public.status == 200 and "support-bot" in public.read().decode()


def test_upload_reports_every_problem_as_file_position_reason(acme, server, tmp_path):
    folder = tmp_path / "traces"
    folder.mkdir()
    (folder / "good.json").write_text(json.dumps([sample_trace("a"), {"input": "no agent"}]))
    (folder / "broken.json").write_text('{"agent_id": "x",\n  "input": }')
    (folder / "runs.jsonl").write_text("\n".join([json.dumps(sample_trace("b")), "{not json",
                                                  json.dumps({"agent_id": "x", "spans": "nope"})]))
    done = arc_eval("upload", "traces", "missing.jsonl", "--no-progress", key=acme.key, base=server, cwd=tmp_path)
    assert done.returncode == 1
    problems = [line.strip() for line in done.stdout.splitlines() if line.startswith("  ")]
    assert sorted(problems) == sorted([
        "traces/broken.json: line 2: invalid JSON: Expecting value",
        "traces/good.json: item 1: $: Object missing required field `agent_id`",
        "traces/runs.jsonl: line 2: invalid JSON: Expecting property name enclosed in double quotes",
        next(p for p in problems if p.startswith("traces/runs.jsonl: line 3: $.spans: ")),
        "missing.jsonl: No such file or directory",
    ]), done.stdout
    assert "✓ Uploaded 2 trace(s)" in done.stdout


def test_compare_by_name_prints_labelled_figures_and_refuses_an_overlap(acme, acme_api, baselines):  # noqa: F811
    with web_server(REDIS_URL="") as (base, _):
        done = arc_eval("compare", "--baseline", "v1.0", "--current", "7d", key=acme.key, base=base)
        refused = arc_eval("compare", "--baseline", "last-30-days", "--current", "7d", key=acme.key, base=base)
    assert done.returncode == 0, done.stderr
    lines = {line.split()[0]: line for line in done.stdout.splitlines()[1:] if line.startswith("  ")}
    assert re.search(r"100\.0% → 77\.8%\s+↓ -22\.2 pp", lines["Reliability"]), done.stdout
    assert re.search(r"\$0\.000100 → \$0\.000146\s+↑ \+\$0\.0000463", lines["Cost"]), done.stdout
    assert done.stdout.startswith("support-bot: baseline “v1.0” (")
    assert not re.search(r"\d[eE][-+]?\d|\b[a-z]+_[a-z_]+\b", done.stdout), done.stdout  # no 4.6e-05, no metric keys
    assert refused.returncode == 1 and "the windows overlap" in refused.stderr


def test_agents_prints_the_overviews_figures_as_the_server_writes_them(acme, acme_api, server):
    done = arc_eval("agents", key=acme.key, base=server)
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stdout.splitlines() if line.strip().startswith("support-bot:"))
    shown = acme_api.get("/api/v1/agents").json()["results"][0]["display"]
    for label, key in (("reliability", "reliability"), ("grade", "grade"), ("pass^k", "pass_k_best"),
                       ("cost/run", "cost_per_run"), ("tools", "tool_success"), ("p95", "latency_p95")):
        assert f"{label} {shown[key]}" in line, (label, line)
    assert line.endswith("3 runs")
