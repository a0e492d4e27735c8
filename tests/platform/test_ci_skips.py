"""CI cannot pass with the real-process tests skipped: under CI=true a skipped browser, worker,
PostgreSQL-restart or Redis test fails with its reason; elsewhere it skips and says why (-rs)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.processes import ROOT

SKIPPING = '''
import pytest

@pytest.mark.worker
def test_needs_a_worker():
    pytest.skip("no broker here")

@pytest.mark.skipif(True, reason="no chromium here")
@pytest.mark.e2e
def test_needs_a_browser():
    pass

@pytest.mark.slow
def test_may_skip():
    pytest.skip("optional tool missing")
'''


@pytest.mark.parametrize("ci", ["true", ""])
def test_a_must_run_test_that_skips_fails_in_ci_only(tmp_path, ci):
    (tmp_path / "test_skipping.py").write_text(SKIPPING)
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    worker\n    e2e\n    slow\n")
    env = {**os.environ, "CI": ci, "PYTHONPATH": str(ROOT), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "tests.ci_skips",
                             "-rfEs", "-q", str(tmp_path)],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    out = result.stdout
    if ci:
        assert result.returncode == 1, out
        assert "1 failed, 1 skipped, 1 error" in out  # a skipif skips in setup: its failure shows as an error
        assert "this worker test must run in CI, but it skipped: no broker here" in out
        assert "this e2e test must run in CI, but it skipped: no chromium here" in out
    else:
        assert result.returncode == 0, out
        assert "3 skipped" in out and "no broker here" in out and "optional tool missing" in out
