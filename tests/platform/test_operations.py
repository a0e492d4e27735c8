"""What operators rely on: health, the API schema, production settings, the demo loader."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.test import Client

from arcweb.celery import app as celery_app
from arcweb.models import ApiKey
from tests.processes import ROOT, free_port
from traces.models import Trace

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_broker(settings):
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok" if settings.REDIS_URL else "in-process"}


def test_healthz_reports_a_broker_that_is_down_and_stays_200(settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(celery_app.conf, "broker_url", f"redis://127.0.0.1:{free_port()}/0")  # nothing listens
    response = Client().get("/healthz")
    assert (response.status_code, response.json()) == (200, {"database": "ok", "broker": "down"})


def test_openapi_schema_documents_every_endpoint_with_examples():
    response = Client().get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json() if response["Content-Type"].startswith("application/json") else None
    if schema is None:
        import yaml

        schema = yaml.safe_load(response.content)
    paths = schema["paths"]
    assert {"/api/v1/traces", "/api/v1/traces/{trace_id}", "/api/v1/traces/{trace_id}/analysis", "/api/trace"} \
        <= set(paths)
    ingest = paths["/api/v1/traces"]["post"]
    assert ingest["requestBody"]["content"]["application/json"]["examples"]
    assert Client().get("/api/docs/").status_code == 200


def test_deploy_check_is_clean_with_production_settings():
    env = {**os.environ, "DJANGO_DEBUG": "0", "SECRET_KEY": "x" * 60 + "prod-like-secret-key-for-the-check",
           "ALLOWED_HOSTS": "arc.example.com", "DATABASE_URL": "sqlite:///:memory:"}
    env.pop("DEBUG", None)
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_seed_demo_twice_loads_once(capsys):
    call_command("seed_demo", traces=40)
    first = capsys.readouterr().out
    call_command("seed_demo", traces=40)
    second = capsys.readouterr().out
    assert Trace.objects.count() == 40
    assert ApiKey.objects.filter(name="demo").count() == 1
    assert "demo API key (shown once):" in first and "already loaded" in second
    assert len({t.agent_id for t in Trace.objects.all()}) >= 4


def test_create_api_key_command_prints_the_key_last(capsys):
    call_command("create_org", "initech", owner="boss@initech.test")
    call_command("create_api_key", "initech", scope="ingest")
    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert key.startswith("arc_") and ApiKey.objects.get(organisation__slug="initech").scope == "ingest"
