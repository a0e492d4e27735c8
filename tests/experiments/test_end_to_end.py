"""From a failure pattern to a green comparison, through the real SDK and CLI against a live server.

A dataset is made from a pattern's scenarios in one click; a broken agent and its fix run on it with repeats
through `arc_eval.run_experiment`; the comparison names the fixed items with McNemar's p checked by hand; the
CLI's exit code is the CI gate. Then the SDK's other promises: async agents, timeouts, an agent that raises,
and an experiment interrupted with Ctrl-C and resumed from the CLI.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import signal
import subprocess
import sys
import time
import urllib.request

import arc_eval
import pytest

from evaluations.models import FailurePattern
from experiments.models import Dataset, ItemRun
from tests.experiments.conftest import make_dataset
from tests.processes import wait_until, web_server
from tests.workbench.conftest import failing_trace, logged_in

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server():
    with web_server(REDIS_URL="") as (base, _):
        yield base


def get(base: str, key: str, path: str) -> dict:
    request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {key}"})
    return json.loads(urllib.request.urlopen(request, timeout=30).read())


def cli(base: str, key: str, tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ARC_BASE_URL": base, "ARC_API_KEY": key, "ARC_CONFIG_DIR": str(tmp_path / "cfg"), **env}
    return subprocess.run([sys.executable, "-m", "arc_eval", *args], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=120)


def test_from_a_failure_pattern_to_a_green_comparison(server, acme, acme_api, tmp_path):
    acme_api.post("/api/v1/traces", [failing_trace(f"bad-{i}", input={"q": f"order {i}"}) for i in range(5)])
    pattern = FailurePattern.objects.get(organisation=acme.organisation)
    logged_in(acme.owner).post(f"/o/acme/experiments/datasets/from-pattern/{pattern.id}/")
    dataset = Dataset.objects.get(organisation=acme.organisation)
    assert dataset.items.count() == 10  # five inputs replayed, and the same five with the timeout injected

    def broken(scenario: dict) -> str:
        if arc_eval.current_item().metadata["fault"]:
            raise TimeoutError("order_status timed out after 30s")
        return ""  # no answer: the engine's verdict fails the run

    def fixed(scenario: dict) -> dict:
        return {"answer": f"{scenario['q']} has shipped"}

    options = {"repeats": 2, "api_key": acme.key, "base_url": server, "progress": False}
    before = arc_eval.run_experiment(dataset.name, broken, name="before-fix", **options)
    after = arc_eval.run_experiment(arc_eval.get_dataset(dataset.name, api_key=acme.key, base_url=server), fixed,
                                    name="after-fix", concurrency=2, **options)
    assert (before.success_rate, after.success_rate) == (0.0, 1.0)
    assert (before.pass_k, after.pass_k) == (0.0, 1.0) and after.summary["runs"] == 20
    assert before.dataset_version == after.dataset_version == dataset.version
    runs = ItemRun.objects.filter(experiment_id=after.id).select_related("trace")
    assert runs.count() == 20 and all(r.trace is not None for r in runs)
    linked = runs.first().trace.metadata
    assert linked["arc_experiment"] == after.id and linked["arc_dataset_item"] == str(runs.first().item_id)
    assert runs.first().trace.agent.name == "fixed (experiments)"  # out of the production agent's figures

    comparison = get(server, acme.key, f"/api/v1/experiments/compare?a={before.id}&b={after.id}")
    assert len(comparison["fixed"]) == 10 and comparison["broke"] == [] and comparison["still_failing"] == []
    assert {str(p["item"]["id"]) for p in comparison["fixed"]} == {str(i) for i in dataset.items.values_list("id", flat=True)}
    # by hand: b = 10 fixed, c = 0 broke; exact 2 * (1/2)^10; chi-square (|10 - 0| - 1)^2 / 10 = 8.1
    assert comparison["mcnemar"]["p_value"] == 2 / 2**10
    assert comparison["mcnemar"]["p_value_chi_square"] == pytest.approx(math.erfc(math.sqrt(8.1 / 2)))
    assert comparison["improved"] and comparison["progress"][0]["text"] == "Reliability 0% → 100% (+100pp, significant)"

    green = cli(server, acme.key, tmp_path, "experiment", "compare", "before-fix", "after-fix")
    assert green.returncode == 0, green.stderr
    assert "Reliability 0% → 100%" in green.stdout and "no significant regression" in green.stdout
    regression = cli(server, acme.key, tmp_path, "experiment", "compare", after.id, before.id)
    assert regression.returncode == 1 and "regressed significantly" in regression.stdout


def test_async_agents_timeouts_and_errors_fail_items_not_the_experiment(server, acme, acme_api):
    dataset = make_dataset(acme_api, "cases", [{"input": {"case": i}, "expected_output": f"a{i}"} for i in range(6)])

    async def slow_on_five(item: dict) -> str:
        await asyncio.sleep(30 if item["case"] == 5 else 0.01)
        return f"a{item['case']}"

    def raises_on_three(item: dict) -> str:
        if item["case"] == 3:
            raise ValueError("no such case")
        return f"a{item['case']}"

    options = {"api_key": acme.key, "base_url": server, "progress": False}
    started = time.monotonic()
    async_run = arc_eval.run_experiment(dataset["name"], slow_on_five, timeout=1.0, name="async", **options)
    assert time.monotonic() - started < 20
    sync_run = arc_eval.run_experiment(dataset["name"], raises_on_three, name="sync", concurrency=3, **options)
    assert async_run.summary["passed"] == 5 and async_run.summary["errors"] == 1
    assert sync_run.summary["passed"] == 5 and sync_run.summary["errors"] == 1
    items = get(server, acme.key, f"/api/v1/experiments/{async_run.id}/items")["results"]
    assert items[5]["runs"][0]["error"] == {"type": "TimeoutError", "message": "no answer within 1 s"}
    items = get(server, acme.key, f"/api/v1/experiments/{sync_run.id}/items")["results"]
    assert items[3]["runs"][0]["error"]["message"] == "no such case"


AGENT_FILE = '''
import os, time

def answer(item):
    with open(os.environ["CALLS_LOG"], "a") as log:
        log.write(f"{item['case']}\\n")
    time.sleep(0.5)
    return f"a{item['case']}"
'''


def test_an_interrupted_experiment_is_resumed_from_the_cli(server, acme, acme_api, tmp_path):
    make_dataset(acme_api, "resumable", [{"input": {"case": i}, "expected_output": f"a{i}"} for i in range(6)])
    (tmp_path / "agent.py").write_text(AGENT_FILE)
    calls = tmp_path / "calls.log"
    env = {**os.environ, "ARC_BASE_URL": server, "ARC_API_KEY": acme.key, "ARC_CONFIG_DIR": str(tmp_path / "cfg"),
           "CALLS_LOG": str(calls)}
    command = [sys.executable, "-m", "arc_eval", "experiment", "run", "--dataset", "resumable", "--agent-file",
               "agent.py", "--function", "answer", "--repeats", "2", "--concurrency", "1", "--name", "nightly"]
    # a suite started in the background inherits SIGINT ignored, and Python then never raises KeyboardInterrupt:
    # the CLI gets the terminal's default, as when a person runs it
    process = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    # interrupted a few runs in: 12 runs take 6 s, so a loaded machine still leaves time to press Ctrl-C
    assert wait_until(lambda: calls.exists() and len(calls.read_text().split()) >= 3, timeout=30, interval=0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130 and "resume" in stderr
    reported = ItemRun.objects.filter(experiment__name="nightly").count()
    assert 2 <= reported < 12
    first_calls = len(calls.read_text().split())

    resumed = cli(server, acme.key, tmp_path, "experiment", "run", "--dataset", "resumable", "--agent-file",
                  "agent.py", "--function", "answer", "--repeats", "2", "--name", "nightly", "--resume",
                  CALLS_LOG=str(calls))
    assert resumed.returncode == 0, resumed.stderr
    assert len(calls.read_text().split()) - first_calls == 12 - reported  # only the missing runs
    assert "success 100% (12/12 runs)" in resumed.stdout
