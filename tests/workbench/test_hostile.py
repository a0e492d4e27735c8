"""Trace content is attacker-controlled: on every page it renders as text, never as markup."""

from __future__ import annotations

import csv
import io

import pytest

from evaluations.models import FailurePattern
from tests.conftest import sample_trace
from tests.html import parse
from traces.models import Trace

from .conftest import logged_in

pytestmark = pytest.mark.django_db

RAW = ("<script>alert(", "<img src=x onerror", "onerror=alert(1)>")


def assert_text_only(html: str, where: str) -> None:
    for raw in RAW:
        assert raw not in html, f"{where}: {raw!r} rendered raw"


def test_hostile_content_is_text_on_every_page(acme, hostile, runs):
    owner = logged_in(acme.owner)
    pattern = FailurePattern.objects.get(organisation=acme.organisation, agent=hostile.agent)
    pages = ["/o/acme/", "/o/acme/?window=30d", f"/o/acme/agents/{hostile.agent_id}/", "/o/acme/traces/",
             "/o/acme/traces/?q=script", f"/o/acme/traces/{hostile.id}/", "/o/acme/labelling/",
             "/o/acme/labelling/?auto=fail", "/o/acme/patterns/", f"/o/acme/patterns/{pattern.id}/", "/o/acme/compare/",
             "/o/acme/onboarding/status/"]
    for page in pages:
        response = owner.get(page)
        assert response.status_code == 200, page
        assert_text_only(response.content.decode(), page)
    detail = owner.get(f"/o/acme/traces/{hostile.id}/").content.decode()
    assert "&lt;script&gt;alert(" in detail and "&lt;img src=x onerror=alert(1)&gt;" in detail
    for page in ("/o/acme/", "/o/acme/traces/", "/o/acme/labelling/"):
        assert_text_only(owner.get(page, HTTP_HX_REQUEST="true").content.decode(), page + " (htmx)")


def test_hostile_content_in_feedback_notes_is_text(acme, hostile):
    owner = logged_in(acme.owner)
    evil = '<script>alert("n")</script><img src=x onerror=alert(1)>'
    owner.post(f"/o/acme/traces/{hostile.id}/feedback/", {"correct": "false", "notes": evil})
    for page in (f"/o/acme/traces/{hostile.id}/", "/o/acme/labelling/"):
        assert_text_only(owner.get(page).content.decode(), page)


def test_hostile_content_never_reaches_a_url(acme, hostile):
    """Links carry ids and the user's own filters, never trace text."""
    owner = logged_in(acme.owner)
    for page in ("/o/acme/traces/", "/o/acme/labelling/", f"/o/acme/traces/{hostile.id}/",
                 f"/o/acme/traces/?session_of={hostile.id}&user_of={hostile.id}"):
        urls = [element.attrs[name] for element in parse(owner.get(page).content).iter()
                for name in ("href", "hx-get", "hx-post", "action", "src") if name in element.attrs]
        assert urls, page
        for url in urls:
            assert "script" not in url.lower() and "onerror" not in url.lower(), (page, url)


def test_exports_keep_hostile_text_inert(acme, hostile):
    owner = logged_in(acme.owner)
    owner.post(f"/o/acme/traces/{hostile.id}/feedback/", {"correct": "false", "notes": "=HYPERLINK(\"http://x\")"})
    csv_text = b"".join(owner.get("/o/acme/labelling/export.csv").streaming_content).decode()
    assert "'=HYPERLINK" in csv_text  # a formula is quoted, so a spreadsheet shows it instead of running it


# Cells a spreadsheet would run: = + - @ (or their full-width forms) after any blanks or line breaks.
FORMULAS = ["=1+1", "+1+1", "-1+1", "@SUM(1)", " =1+1", "  +1+1", "\n=1+1", "\r\n-1+1", "\t@SUM(1)",
            " \n @SUM(1)", "\uff1d1+1", "\uff0b1+1", "\uff0d1+1", "\uff20SUM(1)", " \uff1d1+1", "\u3000=1+1",
            "\u00a0=1+1"]


def runs_as_formula(cell: str) -> bool:
    return cell.lstrip()[:1] in "=+-@\uff1d\uff0b\uff0d\uff20" and cell.lstrip() != ""


def test_no_exported_cell_can_run_as_a_formula(acme, acme_api):
    """Formulas in the notes and in agent names (client text) come out quoted, whatever blanks precede them."""
    traces = [sample_trace(f"f{i}", agent_id=f"{formula} agent") for i, formula in enumerate(FORMULAS)]
    assert acme_api.post("/api/v1/traces", traces).status_code == 202
    owner = logged_in(acme.owner)
    for i, formula in enumerate(FORMULAS):
        trace = Trace.objects.get(organisation=acme.organisation, trace_id=f"f{i}")
        owner.post(f"/o/acme/traces/{trace.id}/feedback/", {"correct": "false", "notes": formula})
    body = b"".join(owner.get("/o/acme/labelling/export.csv").streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body, newline="")))
    assert len(rows) == len(FORMULAS)
    assert [cell for row in rows for cell in row.values() if runs_as_formula(cell)] == []
    by_trace = {row["trace_id"]: row for row in rows}
    for i, formula in enumerate(FORMULAS):  # quoted, not altered (the notes form trims blanks, as it always has)
        assert (by_trace[f"f{i}"]["notes"], by_trace[f"f{i}"]["agent"]) == ("'" + formula.strip(), f"'{formula} agent")
