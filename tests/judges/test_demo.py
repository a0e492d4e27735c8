"""`make run` explains how to connect a judge, and with ARC_DEMO_JUDGE_URL set configures one (twice is once)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from judges.models import Judge, ModelConnection
from tests.conftest import make_tenant

pytestmark = pytest.mark.django_db


def demo_judge() -> str:
    out = StringIO()
    call_command("demo_judge", stdout=out)
    return out.getvalue()


def test_the_demo_explains_then_connects_a_judge(openai_server, monkeypatch):
    make_tenant("demo")
    monkeypatch.delenv("ARC_DEMO_JUDGE_URL", raising=False)
    assert "ARC_DEMO_JUDGE_URL=http://localhost:11434/v1" in demo_judge() and not Judge.objects.exists()
    monkeypatch.setenv("ARC_DEMO_JUDGE_URL", openai_server.url)
    monkeypatch.setenv("ARC_DEMO_JUDGE_MODEL", "gpt-4o-mini")
    assert "Task completion (demo)" in demo_judge()
    demo_judge()
    judge = Judge.objects.get()
    assert (judge.mode, judge.daily_budget_usd, judge.connection.default_model) == ("uncertain", 1, "gpt-4o-mini")
    assert ModelConnection.objects.count() == 1


def test_rotate_secrets_re_encrypts_connection_keys(settings):
    from cryptography.fernet import Fernet

    from arcweb.encryption import sealed_fields, unseal
    from judges.services import save_connection

    tenant = make_tenant("rot")
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.ARC_ENCRYPTION_KEYS = [old]
    settings.ARC_MODEL_ENDPOINTS_ALLOW_PRIVATE = True
    connection = save_connection(organisation=tenant.organisation, name="c", provider="openai",
                                 base_url="http://127.0.0.1:9/v1", api_key="sk-rotate-12345678", default_model="m")
    assert (ModelConnection, "api_key") in sealed_fields()
    settings.ARC_ENCRYPTION_KEYS = [new, old]
    call_command("rotate_secrets", stdout=StringIO())
    settings.ARC_ENCRYPTION_KEYS = [new]
    assert unseal(ModelConnection.objects.get(pk=connection.pk).api_key) == "sk-rotate-12345678"


def test_make_runs_block_says_how_to_connect_a_judge_before_it_ends(monkeypatch):
    monkeypatch.delenv("ARC_DEMO_JUDGE_URL", raising=False)
    out = StringIO()
    call_command("seed_demo", traces=3, url="http://127.0.0.1:8000", stdout=out)
    block = out.getvalue()
    assert block.index("Judges:") < block.index("Stop with Ctrl-C.") and "Settings → Model connections" in block
