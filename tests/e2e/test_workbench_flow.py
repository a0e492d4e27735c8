"""The browser path of a new team: sign up, create a key, send traces, see them, label with the keyboard.

Runs Debian's Chromium (headless) through Playwright against a real `runserver` on the test database;
screenshots land in artifacts/ (gitignored) for a human to look at.
"""

from __future__ import annotations

import json
import re
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.processes import ROOT, web_server

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ARTIFACTS = ROOT / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
EVIL = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 1">'


def send(base: str, key: str, traces: list[dict]) -> None:
    request = urllib.request.Request(f"{base}/api/v1/traces", data=json.dumps(traces).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 202


def runs() -> list[dict]:
    traces = []
    now = datetime.now(UTC)
    for i in range(8):
        failing = i % 4 == 3
        traces.append({
            "trace_id": f"e2e-{i}", "agent_id": "support-bot", "duration_ms": 1500 + 100 * i,
            "started_at": (now - timedelta(minutes=10 - i)).isoformat(),  # e2e-0, the hostile one, is oldest
            "input": {"question": f"Where is order {1000 + i}?" if i else EVIL},
            "output": None if failing else {"answer": "Shipped" if i else EVIL},
            "success": not failing,
            "error": {"type": "TimeoutError", "message": "Tool order_status timed out after 30s"} if failing else None,
            "spans": [
                {"span_id": "s1", "kind": "llm", "name": "chat", "model": "gpt-4o-mini", "provider": "openai",
                 "duration_ms": 700, "usage": {"input_tokens": 500, "output_tokens": 40}},
                {"span_id": "s2", "parent_id": "s1", "kind": "tool", "name": "order_status", "duration_ms": 300,
                 "input": {"order": 1000 + i}, "output": {"status": "shipped"},
                 "error": {"type": "TimeoutError", "message": "timed out"} if failing else None},
            ],
        })
    return traces


def reliability_of(page) -> float:
    text = page.locator("#headline").inner_text()
    return float(re.search(r"Reliability: (\d+(?:\.\d+)?)%", text).group(1))


@pytest.fixture
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def signed_up(browser, base: str, email: str, organisation: str):
    """A page of a newcomer who just signed up, the console errors it logs from now on, and their
    organisation's slug. The new organisation has no traces, so the overview is the onboarding page."""
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{base}/accounts/signup/")
    page.fill("input[name=email]", email)
    page.fill("input[name=organisation]", organisation)
    page.fill("input[name=password1]", "a-long-e2e-password-77")
    page.fill("input[name=password2]", "a-long-e2e-password-77")
    page.click("form [type=submit]")
    page.wait_for_selector("text=Send your first trace")
    return page, problems, re.search(r"/o/([^/]+)/", page.url).group(1)


def test_sign_up_send_traces_and_label_with_the_keyboard(transactional_db, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    with web_server(REDIS_URL="") as (base, _process):
        page, problems, slug = signed_up(browser, base, "grace@hopper.test", "Hopper Labs")

        # create a key from the onboarding page (htmx swap, shown once)
        page.click("#create-key")
        key = page.locator("#new-key").inner_text(timeout=10_000).strip()
        assert key.startswith("arc_")
        page.screenshot(path=str(ARTIFACTS / "e2e-1-onboarding-key.png"), full_page=True)

        # send traces through the API; the page notices the first one by itself
        send(base, key, runs())
        page.wait_for_selector("text=Your first trace arrived", timeout=15_000)
        page.screenshot(path=str(ARTIFACTS / "e2e-2-first-trace.png"), full_page=True)

        # the overview lists the agent with its figures
        page.goto(f"{base}/o/{slug}/")
        page.wait_for_selector("table.overview >> text=support-bot")
        assert "75.0%" in page.locator("table.overview").inner_text()  # 6 of 8 runs succeeded
        page.screenshot(path=str(ARTIFACTS / "e2e-3-overview.png"), full_page=True)

        # open a trace from the explorer: the hostile run renders as text
        page.goto(f"{base}/o/{slug}/traces/")
        page.screenshot(path=str(ARTIFACTS / "e2e-4-explorer.png"), full_page=True)
        page.locator("#rows a").last.click()
        page.wait_for_selector("text=Spans")
        assert "<script>window.__pwned" in page.locator("pre").first.inner_text()
        assert page.evaluate("window.__pwned") is None
        page.screenshot(path=str(ARTIFACTS / "e2e-5-trace.png"), full_page=True)

        # the agent's figures before labelling
        page.goto(f"{base}/o/{slug}/")
        page.click("table.overview >> text=support-bot")
        page.wait_for_selector("#headline")
        before = reliability_of(page)
        agent_url = page.url

        # label two successful runs incorrect with the keyboard; the next run loads without a page load
        page.goto(f"{base}/o/{slug}/labelling/?auto=pass")
        page.wait_for_selector("#label-form")
        # htmx is loaded with `defer`: a key pressed before it runs submits the form the plain way (a page load)
        page.wait_for_load_state("load")
        page.wait_for_function("() => window.htmx !== undefined")
        page.evaluate("window.__same_page = true")
        for _ in range(2):
            current = page.locator("#labeller").get_attribute("data-trace")
            page.keyboard.press("2")
            page.keyboard.press("n")
            page.keyboard.type("wrong answer")
            page.keyboard.press("Escape")
            page.keyboard.press("x")
            page.wait_for_function(
                "prev => { const el = document.getElementById('labeller');"
                " return !el || el.dataset.trace !== prev; }", arg=current)
        assert page.evaluate("window.__same_page") is True  # no full page load happened
        page.wait_for_selector("text=Labelled incorrect")
        page.screenshot(path=str(ARTIFACTS / "e2e-6-labelling.png"), full_page=True)

        # the agent's reliability now reflects the team's labels
        page.goto(agent_url)
        page.wait_for_selector("#headline")
        after = reliability_of(page)
        assert after < before, (before, after)
        assert round(after) == 50  # 4 of 8 runs succeeded once two were labelled incorrect
        page.screenshot(path=str(ARTIFACTS / "e2e-7-agent-after-labels.png"), full_page=True)

        page.goto(f"{base}/o/{slug}/labelling/")
        assert "grace@hopper.test: 2" in page.content()
        assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
