"""The commands the Dockerfile and docker-compose.yml run, started here without Docker: collectstatic,
gunicorn with production settings, the Celery beat scheduler; /healthz answers for each database state."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.processes import ROOT, free_port, process_env, running, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = process_env(DJANGO_DEBUG="0", SECRET_KEY="compose-like-" + "k" * 50, ALLOWED_HOSTS="127.0.0.1",
                      SECURE_SSL_REDIRECT="false", STATIC_ROOT=str(tmp_path / "static"), **overrides)
    env.pop("DEBUG", None)
    return env


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def gunicorn(env: dict[str, str], tmp_path: Path):
    port = free_port()
    args = [str(Path(sys.executable).parent / "gunicorn"), "arcweb.wsgi:application", "--bind",
            f"127.0.0.1:{port}", "--workers", "2"]
    return port, running(args, env, "test-gunicorn")


def test_gunicorn_with_production_settings_serves_pages_static_files_and_health(tmp_path):
    env = production_env(tmp_path)
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env,
                   check=True, timeout=120)
    port, server = gunicorn(env, tmp_path)
    with server:
        base = f"http://127.0.0.1:{port}"
        assert wait_until(lambda: get_or_none(f"{base}/healthz") == 200, timeout=30)
        status, body = get(f"{base}/healthz")
        assert json.loads(body) == {"database": "ok", "broker": "ok"}
        status, page = get(f"{base}/accounts/login/")
        assert status == 200
        css = page.decode().split('href="/static/css/')[1].split('"')[0]
        assert get(f"{base}/static/css/{css}")[0] == 200  # hashed by the manifest, served by WhiteNoise


def test_healthz_is_503_when_the_database_is_down(tmp_path):
    env = production_env(tmp_path, DATABASE_URL="postgres://postgres@127.0.0.1:9/nothing")
    port, server = gunicorn(env, tmp_path)
    with server:
        assert wait_until(lambda: get_or_none(f"http://127.0.0.1:{port}/healthz") == 503, timeout=30)
        status, body = get(f"http://127.0.0.1:{port}/healthz")
    assert json.loads(body)["database"] == "down"


def test_celery_beat_starts(tmp_path):
    args = [sys.executable, "-m", "celery", "-A", "arcweb", "beat", "--loglevel=INFO",
            "--schedule", str(tmp_path / "beat-schedule")]
    with running(args, process_env(), "test-beat") as beat:
        time.sleep(4)
        assert beat.poll() is None, "beat exited"


def get_or_none(url: str) -> int | None:
    try:
        return get(url)[0]
    except OSError:
        return None


def test_every_long_running_process_is_supervised():
    """A process that exits (a crash, a broker retry given up) is started again with nobody at the console: in
    docker-compose.yml, and in the systemd units docs/deploy.md gives."""
    import re

    import yaml

    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert {name: service.get("restart") for name, service in services.items()} == dict.fromkeys(
        ("web", "worker", "beat", "postgres", "redis"), "unless-stopped")
    units = re.findall(r"```ini\n(# /etc/systemd/system/(arc-\w+)\.service.*?)```", (ROOT / "docs" / "deploy.md")
                       .read_text(), flags=re.S)
    assert sorted(name for _, name in units) == ["arc-beat", "arc-web", "arc-worker"]
    assert all("\nRestart=always\n" in unit for unit, _ in units)
