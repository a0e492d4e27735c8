"""A judge's calibration in the browser: its page, one click to the queue of the runs where it and the team
disagree, relabelled with the keyboard. Screenshots land in artifacts/ (gitignored) for a human to look at."""

from __future__ import annotations

import pytest
from django.test import Client

from judges.models import Score
from tests.e2e.test_workbench_flow import ARTIFACTS, browser  # noqa: F401 (a fixture)
from tests.judges.test_judges import connect, make_judge, run, send, settled
from tests.processes import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_judge_page_opens_its_disagreements_in_the_queue_and_the_keyboard_labels_them(
        acme, acme_api, openai_server, live_server, browser, monkeypatch):  # noqa: F811
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API keeps a loop in this thread
    judge = make_judge(acme_api, connect(acme_api, openai_server))
    traces = send(acme_api, *[run(f"cal{i}", wrong=i % 2 == 1, started_at=f"2026-11-2{i}T10:00:00Z")
                              for i in range(4)])
    assert wait_until(settled(traces))
    acme_api.post(f"/api/v1/traces/{traces[0]}/feedback", {"correct": False})  # the judge passed it
    acme_api.post(f"/api/v1/traces/{traces[1]}/feedback", {"correct": False})  # both fail: agreed, not queued
    client = Client()
    client.force_login(acme.owner)
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    page = context.new_page()
    page.goto(f"{live_server.url}/o/acme/settings/judges/{judge['id']}/")
    page.screenshot(path=str(ARTIFACTS / "judge-calibration.png"), full_page=True)
    page.click("#calibration-queue")
    page.wait_for_selector("#label-form")
    assert page.locator("#labeller").get_attribute("data-trace") == traces[0]  # the disagreement first
    page.wait_for_function("() => window.htmx !== undefined")
    page.screenshot(path=str(ARTIFACTS / "judge-calibration-queue.png"), full_page=True)
    page.evaluate("window.__same_page = true")
    page.keyboard.press("c")  # the team was wrong: the run passes, as the judge said
    page.wait_for_function(f"() => document.getElementById('labeller').dataset.trace === '{traces[3]}'")
    assert page.evaluate("window.__same_page") is True
    assert Score.objects.get(trace_id=traces[0]).passed is True
    context.close()
