"""How fast a report's PDF renders: a one-agent report of 20 runs (two A4 pages), rendered warm, as a worker
that has rendered before renders it.

    .venv/bin/python bench/pdf.py [--repeat 20]

Self-contained: a scratch SQLite database in a temporary directory, tasks in-process. Prints the first (cold)
render and the best and median of the warm ones, on A4 and on Letter.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup(directory: str) -> None:
    os.environ.update({"DJANGO_SETTINGS_MODULE": "arcweb.settings", "REDIS_URL": "",
                       "DATABASE_URL": f"sqlite:///{directory}/bench-pdf.sqlite3"})
    import django
    from django.core.management import call_command

    django.setup()
    logging.disable(logging.INFO)  # the tasks' and WeasyPrint's progress lines
    call_command("migrate", verbosity=0)


def make_report():
    from arcweb.services import create_organisation, get_or_create_user
    from reports import services
    from tests.reports.conftest import AGENT, runs
    from traces.ingest import ingest_traces

    organisation = create_organisation(name="Acme", owner=get_or_create_user("owner@acme.test"), slug="acme")
    ingest_traces(organisation=organisation, payloads=runs())  # evaluated in-process once committed
    return services.create_report(organisation=organisation, agents=services.resolve_agents(organisation, [AGENT]),
                                  window="30d")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-pdf-") as directory:
        setup(directory)
        from reports.models import Paper
        from reports.pdf import render_pdf

        report = make_report()
        for paper in (Paper.A4, Paper.LETTER):
            started = time.perf_counter()
            render_pdf(report, paper=paper)
            cold = (time.perf_counter() - started) * 1000
            timings = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                content = render_pdf(report, paper=paper)
                timings.append((time.perf_counter() - started) * 1000)
            print(f"PDF, 20-run report, {paper} ({len(content):,} bytes): first {cold:.0f} ms, warm best "
                  f"{min(timings):.0f} ms, median {statistics.median(timings):.0f} ms over {args.repeat}")


if __name__ == "__main__":
    main()
