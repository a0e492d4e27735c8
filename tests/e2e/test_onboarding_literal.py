"""A newcomer follows the onboarding page literally: signs up naming the organisation, creates a key, then copies
each snippet the page shows and runs it as it is — the pip command and the decorator (in a fresh virtualenv),
curl, the OpenTelemetry and the Langfuse settings — and each run arrives.

Chromium (Playwright) drives a real `runserver` on the test database; screenshots land in artifacts/.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.processes import wait_until, web_server

from .test_workbench_flow import ARTIFACTS, browser, signed_up  # noqa: F401 - the fixture

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

OTEL_APP = """
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

provider = TracerProvider(resource=Resource.create({"service.name": "otel-newcomer"}))
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))  # endpoint and headers from the environment
with provider.get_tracer("newcomer").start_as_current_span("answer") as span:
    span.set_attribute("gen_ai.operation.name", "chat")
    span.set_attribute("gen_ai.request.model", "gpt-4o-mini")
provider.shutdown()
"""

LANGFUSE_APP = """
import sys
from langfuse import get_client, observe

@observe(name=sys.argv[1])
def answer(question):
    return {"answer": "Order 1042 shipped"}

answer("Where is order 1042?")
get_client().shutdown()
"""


def clean_env(**extra: str) -> dict[str, str]:
    """The newcomer's shell: none of our test settings, nothing of Arc, OpenTelemetry or Langfuse set yet."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ARC_", "OTEL_", "LANGFUSE_", "DATABASE_URL", "REDIS_URL", "DJANGO", "PYTHONPATH"))}
    return {**env, "PIP_DISABLE_PIP_VERSION_CHECK": "1", **extra}


def bash(script: str, cwd: Path, env: dict[str, str], timeout: int = 180) -> subprocess.CompletedProcess:
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, f"{script}\n--- exit {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done


def snippet(blocks: list[str], marker: str) -> str:
    found = [b for b in blocks if marker in b]
    assert len(found) == 1, f"one snippet with {marker!r} expected, the page shows {len(found)}: {blocks}"
    return found[0]


def api(base: str, key: str, path: str) -> dict:
    request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def arrives(base: str, key: str, agent: str) -> dict:
    """The run of this agent, read back through the API (the ORM stays out of Playwright's event loop)."""
    query = "/api/v1/traces?" + urllib.parse.urlencode({"agent": agent})
    assert wait_until(lambda: api(base, key, query)["results"], timeout=30), f"no trace of {agent} arrived"
    return api(base, key, f"/api/v1/traces/{api(base, key, query)['results'][0]['id']}")


def test_every_snippet_of_the_onboarding_page_works_verbatim(transactional_db, browser, tmp_path):  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    with web_server(REDIS_URL="") as (base, _process):
        page, problems, slug = signed_up(browser, base, "newbie@northwind.test", "Northwind Agents")
        assert "Northwind Agents" in page.locator("header").inner_text()
        page.click("#create-key")
        key = page.locator("#new-key").inner_text(timeout=10_000).strip()
        blocks = page.eval_on_selector_all("main pre", "els => els.map(e => e.innerText)")
        page.screenshot(path=str(ARTIFACTS / "onboarding-1-snippets.png"), full_page=True)

        # our SDK: the pip command in a fresh virtualenv, then the decorator saved as first_trace.py, as the page says
        install = snippet(blocks, "pip install")
        assert f"ARC_API_KEY={key}" in install and f"ARC_BASE_URL={base}" in install
        (tmp_path / "first_trace.py").write_text(snippet(blocks, "from arc_eval import trace_agent"))
        subprocess.run([sys.executable, "-m", "venv", str(tmp_path / "venv")], check=True, timeout=120)
        newcomer = clean_env(PATH=f"{tmp_path / 'venv' / 'bin'}:{os.environ['PATH']}")
        bash(f"{install}\npython first_trace.py\n", tmp_path, newcomer)
        page.wait_for_selector("text=Your first trace arrived", timeout=20_000)
        assert "Where is order 1042?" in json.dumps(arrives(base, key, "support-bot")["input"])
        page.screenshot(path=str(ARTIFACTS / "onboarding-2-first-trace.png"), full_page=True)
        assert "site-packages" in subprocess.run(  # the SDK ran from the virtualenv, not from this checkout
            [str(tmp_path / "venv" / "bin" / "python"), "-c", "import arc_eval; print(arc_eval.__file__)"],
            capture_output=True, text=True, cwd=tmp_path, env=newcomer).stdout

        # curl, as it is (its run is the second of support-bot)
        bash(snippet(blocks, "curl"), tmp_path, clean_env())
        query = "/api/v1/traces?agent=support-bot"
        assert wait_until(lambda: len(api(base, key, query)["results"]) == 2, timeout=30)

        # OpenTelemetry: the page's settings, an app exporting with the standard OTLP exporter
        (tmp_path / "otel_app.py").write_text(OTEL_APP)
        bash(f"{snippet(blocks, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT')}\n{sys.executable} otel_app.py\n", tmp_path,
             clean_env())
        assert arrives(base, key, "otel-newcomer")["spans"][0]["model"] == "gpt-4o-mini"

        # Langfuse: the page's settings with @observe unchanged; and the host given with the path, as people do
        (tmp_path / "langfuse_app.py").write_text(LANGFUSE_APP)
        settings = snippet(blocks, "LANGFUSE_")
        for name, host in (("lf-as-shown", None), ("lf-with-path", f"{base}/api/public/otel")):
            override = f"\nexport LANGFUSE_BASE_URL={host} LANGFUSE_HOST={host}" if host else ""
            bash(f"{settings}{override}\n{sys.executable} langfuse_app.py {name}\n", tmp_path, clean_env())
            assert arrives(base, key, name)["output"] == {"answer": "Order 1042 shipped"}

        page.goto(f"{base}/o/{slug}/traces/")
        page.screenshot(path=str(ARTIFACTS / "onboarding-3-explorer.png"), full_page=True)
        assert not problems, problems

