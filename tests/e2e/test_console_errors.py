"""No page logs a console error — Content-Security-Policy violations included — in Chromium: every page of an
organisation (walked from the URL patterns, ids filled), the public report pages, the account pages and the API
docs. A label given from the keyboard counts too (the swapped-in form).
"""

from __future__ import annotations

import re
import urllib.parse

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from arcweb.services import get_or_create_user, invite
from reports.services import create_report
from tests.conftest import PASSWORD
from tests.hardening.conftest import acme_objects  # noqa: F401 - the fixture
from tests.processes import web_server
from tests.routes import fill, routes
from traces.models import Agent

from .test_workbench_flow import ARTIFACTS, browser  # noqa: F401 - the fixture

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CSP_LISTENER = """document.addEventListener('securitypolicyviolation', e => (window.__csp = window.__csp || [])
  .push(`CSP ${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`));"""
DOWNLOADS = re.compile(r"\.(csv|jsonl|py|pdf|svg)$|/pdf/")


def organisation_pages(objects: dict) -> list[str]:
    prefix = "o/<slug:org_slug>/"
    return [fill(route, objects, "acme") for route in routes() if route.startswith(prefix)]


class Walker:
    """Opens pages in one browser context and keeps what each page logged as an error."""

    def __init__(self, context, base: str):
        self.base, self.errors, self.current = base, {}, ""
        context.add_init_script(CSP_LISTENER)
        self.page = context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.errors[self.current].append(m.text[:300]))
        self.page.on("pageerror", lambda e: self.errors[self.current].append(f"uncaught: {e}"[:300]))
        self.page.on("response", lambda r: r.status >= 400 and self.errors[self.current].append(f"{r.status} {r.url}"))

    def log_in(self, email: str) -> None:
        self.page.goto(f"{self.base}/accounts/login/")
        self.page.fill("input[name=login]", email)
        self.page.fill("input[name=password]", PASSWORD)
        with self.page.expect_navigation():
            self.page.press("input[name=password]", "Enter")

    def is_page(self, path: str) -> bool:
        if DOWNLOADS.search(path):
            return False
        answer = self.page.request.get(self.base + path, max_redirects=0)
        # a whole page: not a POST-only route (405), a download or an htmx fragment (polled by a page)
        return answer.status == 200 and answer.headers.get("content-type", "").startswith("text/html") \
            and answer.text().lstrip().lower().startswith("<!doctype html")

    def visit(self, path: str, then=None) -> None:
        self.current = path
        self.errors[path] = []
        self.page.goto(self.base + path, wait_until="load")
        self.page.wait_for_load_state("networkidle")
        if then:
            then(self.page)
        self.errors[path] += [c for c in self.page.evaluate("window.__csp || []")
                              if not any("Content Security Policy" in e for e in self.errors[path])]
        name = re.sub(r"[^a-z0-9]+", "-", re.sub(r"[\w-]{20,}", "id", path).lower()).strip("-") or "home"
        self.page.screenshot(path=str(ARTIFACTS / f"console-{name}.png"), full_page=True)


def label_from_the_keyboard(page) -> None:
    page.wait_for_function("() => window.htmx !== undefined")
    page.keyboard.press("3")
    page.keyboard.press("c")
    page.wait_for_selector("text=Labelled correct")


@pytest.fixture
def tokens(acme, acme_objects) -> tuple[str, str]:  # noqa: F811
    """A shared report's public token and an open invitation's token, the owner's password for the server (all made before the browser starts: the ORM
    refuses to run inside Playwright's event loop)."""
    shared = create_report(organisation=acme.organisation, agents=list(Agent.objects.for_org(acme.organisation)),
                           window="7d", share=True)
    invitation = invite(organisation=acme.organisation, email="guest@acme.test", role="viewer",
                        invited_by=acme.owner)
    guest = get_or_create_user("guest@acme.test")  # an invitation opens for the address it was sent to
    EmailAddress.objects.create(user=guest, email=guest.email, verified=True, primary=True)
    hasher = PBKDF2PasswordHasher()  # one the server knows (the tests hash with MD5 for speed)
    for user in (acme.owner, guest):
        user.password = hasher.encode(PASSWORD, hasher.salt())
        user.save(update_fields=["password"])
    return shared.links.get().token, invitation.token


def test_no_page_logs_a_console_error(transactional_db, acme, acme_objects, tokens, browser):  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    token, invitation_token = tokens
    with web_server(REDIS_URL="") as (base, _process):
        visitor = Walker(browser.new_context(), base)
        for path in ("/accounts/login/", "/accounts/signup/", "/accounts/password/reset/", f"/r/{token}",
                     f"/r/{token}/embed", "/api/docs/"):
            visitor.visit(path)

        member = Walker(browser.new_context(), base)
        member.log_in(acme.owner.email)
        pages = [p for p in organisation_pages(acme_objects) if member.is_page(p)]
        for path in pages:
            member.visit(path, then=label_from_the_keyboard if path.endswith("/labelling/") else None)
        guest = Walker(browser.new_context(), base)
        guest.log_in("guest@acme.test")
        guest.visit(f"/invitations/{urllib.parse.quote(invitation_token)}/")

    walked = set(visitor.errors) | set(member.errors) | set(guest.errors)
    assert {"/o/acme/", "/o/acme/labelling/", f"/o/acme/traces/{acme_objects['trace_id']}/",
            f"/o/acme/agents/{acme_objects['agent_id']}/", "/o/acme/settings/", "/api/docs/"} <= walked, walked
    assert len(pages) >= 12, pages
    failing = {path: errors for path, errors in {**visitor.errors, **member.errors, **guest.errors}.items() if errors}
    assert not failing, failing
