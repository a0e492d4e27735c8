"""Render a report to PDF with WeasyPrint — the same figures and SVG charts as the public page.

WeasyPrint fetches every URL a document names (stylesheets, images, fonts). `StaticOnlyFetcher` answers only
URLs under the app's own static URL, read through the staticfiles finders, and the one URL of the report's
logo, served from the snapshot; anything else — file://, http(s)://, data:, a path climbing out with `..` — is
refused without touching the disk or the network. The snapshot holds no trace contents anyway; this is the
second wall.
"""

from __future__ import annotations

import mimetypes
import posixpath
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from weasyprint import CSS, HTML, URLFetcher
from weasyprint.urls import URLFetcherResponse

from arcweb.branding import logo_png

from .models import Paper, Report
from .presentation import report_context

# A fixed origin for resolving the document's relative URLs: nothing is ever fetched from it over the network.
BASE_URL = "https://arc-eval.internal/"
LOGO_URL = BASE_URL + "organisation-logo.png"
PAGE_SIZES = {Paper.A4: "A4", Paper.LETTER: "Letter"}


class FetchRefused(ValueError):
    pass


class StaticOnlyFetcher(URLFetcher):
    """Serves `<BASE_URL><STATIC_URL><path>` from the static files and `LOGO_URL` from the given PNG; refuses
    every other URL."""

    def __init__(self, logo: bytes | None = None) -> None:
        super().__init__(timeout=1, allowed_protocols=(), allow_redirects=False, fail_on_errors=False)
        self.refused: list[str] = []
        self.logo = logo

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        if url == LOGO_URL and self.logo:
            return URLFetcherResponse(url, self.logo, {"Content-Type": "image/png"})
        path = static_path(url)
        if path is None:
            self.refused.append(url[:200])
            raise FetchRefused(f"refused to fetch {url[:80]!r}: only the app's static files are served")
        mime, _ = mimetypes.guess_type(path.name)
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime or "application/octet-stream"})


def static_path(url: str) -> Path | None:
    """The file behind a static URL of this app, or None for anything else."""
    parts = urlsplit(url)
    base = urlsplit(BASE_URL)
    if (parts.scheme, parts.netloc) != (base.scheme, base.netloc) or parts.query:
        return None
    prefix = "/" + settings.STATIC_URL.strip("/") + "/"
    if not parts.path.startswith(prefix):
        return None
    relative = unquote(parts.path[len(prefix):])
    normalised = posixpath.normpath(relative)
    if not relative or normalised != relative or normalised.startswith(("/", "..")) or "\\" in relative:
        return None
    found = finders.find(normalised)
    if not found or isinstance(found, list):
        return None
    return Path(found) if Path(found).is_file() else None


def report_html(report: Report, *, paper: str = Paper.A4) -> str:
    context = report_context(report.snapshot, chart_width=720, chart_height=150)
    context.update({"report": report, "paper": paper, "static_base": BASE_URL + settings.STATIC_URL.lstrip("/")})
    if context["org_logo_src"]:
        context["org_logo_src"] = LOGO_URL  # the fetcher serves it; it refuses data: URLs
    return render_to_string("reports/pdf/report.html", context)


def render_pdf(report: Report, *, paper: str = Paper.A4,
               progress: Callable[[int], None] | None = None) -> bytes:
    progress = progress or (lambda _: None)
    html = report_html(report, paper=paper)
    progress(30)
    fetcher = StaticOnlyFetcher(logo=logo_png(report.snapshot.get("organisation_logo")))
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).render(
        stylesheets=[CSS(string=f"@page {{ size: {PAGE_SIZES.get(paper, 'A4')}; }}", url_fetcher=fetcher)])
    progress(80)
    return document.write_pdf()
