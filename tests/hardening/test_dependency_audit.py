"""Known vulnerabilities in the installed dependencies, from PyPI's advisory data (the PyPA/OSV database).

pip-audit asks PyPI for each installed release (`/pypi/NAME/VERSION/json`). Some package mirrors (this
workplace's among them) answer that with 404 but serve the project's document (`/pypi/NAME/json`), which
carries the advisories of the newest release. So: pip-audit first, and for every dependency it had to
skip, the project document when the installed release is the newest. A dependency neither can see is
named in the skip message when too many are left; one with a known vulnerability fails the test.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import distributions
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.processes import ROOT

PYPI_PROJECT_URL = "https://pypi.org/pypi/{name}/json"
# Below this share of audited dependencies the run says it was not an audit, rather than pass.
MIN_AUDITED_SHARE = 0.9


def own_distributions() -> set[str]:
    """This repository's packages (the server and the SDK): not on PyPI, nothing to look up."""
    return {canonicalize_name(tomllib.loads((ROOT / folder / "pyproject.toml").read_text())["project"]["name"])
            for folder in (".", "sdk")}


def pip_audit_report() -> list[dict]:
    """pip-audit's JSON report of this environment, our own packages left out."""
    pip_audit = Path(sys.executable).parent / "pip-audit"
    if not pip_audit.exists():
        pytest.skip("pip-audit is not installed (pip install -e .[dev])")
    result = subprocess.run([str(pip_audit), "--local", "--format", "json",
                             "--progress-spinner", "off", "--timeout", "20"],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    try:  # exit status 1 also means "vulnerabilities found": the report tells
        dependencies = json.loads(result.stdout)["dependencies"]
    except (ValueError, KeyError):
        pytest.skip(f"pip-audit could not run: {result.stderr.strip()[-500:]}")
    own = own_distributions()
    return [dep for dep in dependencies if canonicalize_name(dep["name"]) not in own]


def newest_release_advisories(name: str) -> tuple[str, list[str]] | None:
    """(newest version, ids of its live advisories) from PyPI's project document; None if unreachable."""
    try:
        with urllib.request.urlopen(PYPI_PROJECT_URL.format(name=name), timeout=20) as response:  # noqa: S310
            project = json.load(response)
    except (urllib.error.URLError, TimeoutError, ValueError):
        return None
    advisories = [v["id"] for v in project.get("vulnerabilities") or [] if not v.get("withdrawn")]
    return project["info"]["version"], advisories


def test_no_installed_dependency_has_a_known_vulnerability():
    report = pip_audit_report()
    vulnerable = {dep["name"]: [v["id"] for v in dep["vulns"]] for dep in report if dep.get("vulns")}
    audited = sum(1 for dep in report if "skip_reason" not in dep)

    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in distributions()}
    skipped = [canonicalize_name(dep["name"]) for dep in report if "skip_reason" in dep]
    with ThreadPoolExecutor(max_workers=16) as pool:
        newest = dict(zip(skipped, pool.map(newest_release_advisories, skipped), strict=True))
    unaudited = []
    for name, found in newest.items():
        if found is None or Version(found[0]) != Version(installed[name]):
            unaudited.append(f"{name} {installed[name]}")
            continue
        audited += 1
        if found[1]:
            vulnerable[name] = found[1]

    assert not vulnerable, f"dependencies with known vulnerabilities: {vulnerable}"
    if audited < MIN_AUDITED_SHARE * len(report):
        pytest.skip(f"advisory data reached for only {audited} of {len(report)} dependencies; "
                    f"not audited: {', '.join(sorted(unaudited))}")
