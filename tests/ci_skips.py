"""In CI the tests that prove the product against real processes must run: there, a skipped browser, worker,
PostgreSQL-restart or Redis test is a failure that gives the skip's reason (CI=true; `.ci/run` sets it).
Elsewhere they may skip, and `-rfEs` (pyproject.toml) prints every skip's reason."""

from __future__ import annotations

import os

import pytest

MUST_RUN_IN_CI = ("e2e", "worker", "postgres_restart", "redis")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.skipped or hasattr(report, "wasxfail") or not in_ci():
        return
    kinds = [name for name in MUST_RUN_IN_CI if item.get_closest_marker(name)]
    if kinds:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        report.outcome = "failed"
        report.longrepr = f"this {kinds[0]} test must run in CI, but it skipped: {reason}"
