"""bandit over the server's code, with the project's reviewed exceptions (pyproject [tool.bandit])."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import ROOT


def test_bandit_finds_nothing():
    bandit = shutil.which("bandit") or str(Path(sys.executable).parent / "bandit")
    if not Path(bandit).exists():
        pytest.skip("bandit is not installed (pip install -e .[dev])")
    result = subprocess.run([bandit, "-q", "-c", "pyproject.toml", "-r", "arcweb", "traces", "evaluations", "reports",
                             "-x", "*/migrations/*", "-f", "custom", "--msg-template", "{relpath}:{line} {test_id} {msg}"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout
