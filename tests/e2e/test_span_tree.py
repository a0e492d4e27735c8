"""The span tree in Chromium: a span's toggle hides and shows its children, its name opens its detail beside the
tree, and message lists read as a chat — with no script and no console error."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from tests.conftest import PASSWORD
from tests.firsthour.test_trace_page import NESTED
from tests.processes import web_server
from traces.models import Trace

from .test_workbench_flow import ARTIFACTS, browser  # noqa: F401 - the fixture

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def trace_path(acme, acme_api) -> str:
    """Made before the browser starts (the ORM refuses to run inside Playwright's event loop)."""
    assert acme_api.post("/api/v1/traces", NESTED).status_code == 202
    hasher = PBKDF2PasswordHasher()  # one the server knows (the tests hash with MD5 for speed)
    acme.owner.password = hasher.encode(PASSWORD, hasher.salt())
    acme.owner.save(update_fields=["password"])
    return f"/o/acme/traces/{Trace.objects.get(trace_id='tree').id}/"


def test_collapse_a_span_open_its_detail_and_read_the_chat(transactional_db, acme, trace_path, browser):  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    with web_server(REDIS_URL="") as (base, _process):
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.goto(f"{base}/accounts/login/")
        page.fill("input[name=login]", acme.owner.email)
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.press("input[name=password]", "Enter")
        page.goto(base + trace_path)
        tree = page.locator("#spans .span-tree")
        lookup = tree.get_by_role("link", name="lookup")
        assert lookup.is_visible() and tree.get_by_role("link", name="notify").is_visible()

        page.locator("summary.span-row", has_text="answer").click()  # collapse "answer"
        assert not lookup.is_visible() and tree.get_by_role("link", name="answer").is_visible()
        assert tree.get_by_role("link", name="notify").is_visible()  # route's other child stays
        page.screenshot(path=str(ARTIFACTS / "span-tree-collapsed.png"), full_page=True)
        page.locator("summary.span-row", has_text="answer").click()
        assert lookup.is_visible()

        assert page.locator("#span-panel").inner_text().startswith("Pick a span")
        page.evaluate("window.__same_page = true")
        tree.get_by_role("link", name="answer").click()
        detail = page.locator("#span-panel section.span-detail", has_text="gpt-4o-mini")
        detail.wait_for()
        assert page.evaluate("window.__same_page") is True and page.url.endswith("?span=2")  # swapped, not loaded
        assert detail.locator(".msg-user").inner_text().endswith("<script>window.__pwned = 1</script>")
        page.screenshot(path=str(ARTIFACTS / "span-tree-detail.png"), full_page=True)
        assert page.evaluate("window.__pwned") is None and not problems, problems
