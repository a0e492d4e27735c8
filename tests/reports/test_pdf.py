"""The PDF: the page's figures, A4 or Letter, page numbers, and a fetcher that reads only our static files (how fast
it renders: bench/pdf.py)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from reports import services
from reports.models import Paper
from reports.pdf import BASE_URL, StaticOnlyFetcher, render_pdf

from .conftest import AGENT, runs

ARTIFACTS = Path(settings.BASE_DIR) / "artifacts"
STATIC = BASE_URL + settings.STATIC_URL.lstrip("/")


def pdftotext(content: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(content)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def pdfinfo(content: bytes, tmp_path: Path) -> str:
    path = tmp_path / "info.pdf"
    path.write_bytes(content)
    return subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout


def test_pdf_text_holds_the_figures_of_the_page(report, anon, tmp_path):
    page = anon.get(f"/r/{report.links.get().token}").content.decode()
    text = pdftotext(render_pdf(report), tmp_path)
    # The headline: the reliability and its grade, side by side, on the page and in the PDF.
    assert re.search(r'rp-big">75% <span class="rp-grade rp-grade-C">C</span>', page)
    assert re.search(r"OVERALL RELIABILITY.*\n\s*\n\s*75% C\n", text)
    for figure in (AGENT, "Acme", "95% confidence interval 53.1% – 88.8% · 20 runs"):
        assert figure in page and figure in text, figure
    assert re.search(r"Page 1 of \d", text)


def test_a4_and_letter(report, tmp_path):
    a4 = pdfinfo(render_pdf(report, paper=Paper.A4), tmp_path)
    letter = pdfinfo(render_pdf(report, paper=Paper.LETTER), tmp_path)
    assert "595.28 x 841.89" in a4 or "(A4)" in a4
    assert "612 x 792" in letter or "(letter)" in letter


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "http://169.254.169.254/latest/meta-data/", "https://example.com/x.png",
    "data:image/svg+xml,<svg/>", "ftp://example.com/x", BASE_URL + "etc/passwd",
    STATIC + "../../etc/passwd", STATIC + "reports/../../../etc/passwd", STATIC + "%2e%2e/%2e%2e/etc/passwd",
    "https://arc-eval.internal.evil.com" + settings.STATIC_URL + "reports/report.css",
])
def test_the_fetcher_refuses_everything_but_our_static_files(url):
    fetcher = StaticOnlyFetcher()
    with pytest.raises(ValueError):
        fetcher.fetch(url)


def test_the_fetcher_serves_our_own_stylesheet():
    response = StaticOnlyFetcher().fetch(STATIC + "reports/report.css")
    assert b".rp-page" in response.read()


def test_hostile_trace_content_does_not_make_weasyprint_fetch(seeded, acme_api, monkeypatch):
    hostile = '<img src="file:///etc/passwd"><img src="http://attacker.example/x.png"><link rel=stylesheet href="http://attacker.example/a.css">'
    acme_api.post("/api/v1/traces", [dict(t, output={"answer": hostile}, error=None)
                                     for t in runs(n=3, prefix="hostile")])
    seen: list[str] = []
    real_fetch = StaticOnlyFetcher.fetch

    def spy(self, url, headers=None):
        seen.append(url)
        return real_fetch(self, url, headers)

    monkeypatch.setattr(StaticOnlyFetcher, "fetch", spy)
    report = services.create_report(organisation=seeded.organisation,
                                    agents=services.resolve_agents(seeded.organisation, [AGENT]))
    assert "attacker" not in str(report.snapshot) and "passwd" not in str(report.snapshot)
    render_pdf(report)
    assert seen and all(u.startswith(STATIC) for u in seen), seen


def test_pdf_page_as_a_picture(report, tmp_path):
    """Renders page 1 to PNG in artifacts/ (gitignored) to be looked at."""
    ARTIFACTS.mkdir(exist_ok=True)
    source = ARTIFACTS / "report.pdf"
    source.write_bytes(render_pdf(report))
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(source),
                    str(ARTIFACTS / "report-page1")], check=True)
    assert (ARTIFACTS / "report-page1.png").stat().st_size > 10_000

