"""Every operation of the OpenAPI schema fuzzed by schemathesis with a real key: no 5xx, no response
that breaks the schema. Bounded for CI; `ARC_FUZZ_EXAMPLES` raises the count for a longer run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import sample_trace
from tests.evaluations.test_engine_api import failing
from tests.processes import ROOT, web_server

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

EXAMPLES = os.environ.get("ARC_FUZZ_EXAMPLES", "8")


def test_schemathesis_finds_no_server_error_and_no_schema_violation(acme, acme_api):
    cli = shutil.which("schemathesis") or str(Path(sys.executable).parent / "schemathesis")
    if not Path(cli).exists():
        pytest.skip("schemathesis is not installed (pip install -e .[dev])")
    acme_api.post("/api/v1/traces", [failing("seed-fail"), sample_trace("seed-ok")])
    with web_server(REDIS_URL="") as (base, _):
        result = subprocess.run(
            [cli, "run", f"{base}/api/schema/", "-H", f"Authorization: Bearer {acme.key}", "-n", EXAMPLES,
             "--checks", "not_a_server_error,response_schema_conformance", "--phases", "examples,fuzzing",
             "--seed", "7", "--generation-allow-x00", "false", "--request-timeout", "30"],
            cwd=ROOT, capture_output=True, text=True, timeout=600)
    summary = result.stdout[-4000:]
    assert result.returncode == 0, summary
    assert "500" not in summary.split("SUMMARY")[-1]
