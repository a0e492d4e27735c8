"""`arc-eval judges` and `arc-eval scores` against the real server: the figures the API gives, one source."""

from __future__ import annotations

import json

import pytest
from arc_eval.cli import main

from tests.judges.test_judges import connect, make_judge, run, send, settled
from tests.processes import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def cli(capsys, live_server, key, *args) -> dict | list:
    assert main([*args, "--url", live_server.url, "--key", key, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_cli_lists_judges_their_figures_and_a_runs_scores(acme, acme_api, openai_server, live_server, capsys):
    judge = make_judge(acme_api, connect(acme_api, openai_server))
    (trace,) = send(acme_api, run("cli"))
    assert wait_until(settled([trace]))
    listed = cli(capsys, live_server, acme.key, "judges")
    assert [j["id"] for j in listed] == [judge["id"]]
    detail = cli(capsys, live_server, acme.key, "judges", judge["id"])
    assert detail == acme_api.get(f"/api/v1/judges/{judge['id']}").json() and detail["judged"] == 1
    cli(capsys, live_server, acme.key, "scores", trace, "--add", "helpful", "--value", "0.5")
    scores = cli(capsys, live_server, acme.key, "scores", trace)
    assert sorted((s["name"], s["source"]) for s in scores) == [("completion judge", "judge"), ("helpful", "api")]
    assert main(["scores", trace, "--url", live_server.url, "--key", acme.key, "--add", "x"]) != 0


def test_the_cli_says_the_organisation_budget_and_todays_spend(acme, acme_api, openai_server, live_server, capsys):
    from tests.experiments.conftest import api_call

    make_judge(acme_api, connect(acme_api, openai_server))
    (trace,) = send(acme_api, run("cli-budget"))
    assert wait_until(settled([trace]))
    assert api_call(acme_api, "put", "/api/v1/judging-budget", {"daily_budget_usd": "2.5"}).status_code == 200
    assert main(["judges", "--url", live_server.url, "--key", acme.key]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first == "1 judge(s) · organisation budget $2.5000 a day · spent today $0.00021000", first
