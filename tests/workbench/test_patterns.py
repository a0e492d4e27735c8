"""Failure patterns: the list, a pattern's page, its scenarios and fixes."""

from __future__ import annotations

import json

import pytest

from evaluations.models import FailurePattern

from .conftest import logged_in

pytestmark = pytest.mark.django_db


def test_patterns_list_and_detail(acme, pattern):
    owner = logged_in(acme.owner)
    html = owner.get("/o/acme/patterns/").content.decode()
    assert "tool_timeout" in html and "▲ 3" in html  # three this week, none the week before
    detail = owner.get(f"/o/acme/patterns/{pattern.id}/").content.decode()
    assert "Mark fix applied" in detail and "Download JSONL" in detail and "Example runs" in detail
    assert detail.count("/o/acme/traces/") >= 3


def test_pattern_scenarios_download(acme, pattern):
    owner = logged_in(acme.owner)
    jsonl = owner.get(f"/o/acme/patterns/{pattern.id}/scenarios.jsonl")
    assert jsonl["Content-Disposition"].startswith("attachment") and json.loads(jsonl.content.splitlines()[0])
    pytest_file = owner.get(f"/o/acme/patterns/{pattern.id}/scenarios.py?module=bot&function=run")
    compile(pytest_file.content.decode(), "test_file.py", "exec")
    assert b"from bot import run" in pytest_file.content
    assert owner.get(f"/o/acme/patterns/{pattern.id}/scenarios.py?module=1bad;rm").status_code == 400


def test_mark_fix_applied(acme, pattern):
    logged_in(acme.owner).post(f"/o/acme/patterns/{pattern.id}/fix-applied/")
    assert FailurePattern.objects.get(pk=pattern.pk).status == "fix_applied"
