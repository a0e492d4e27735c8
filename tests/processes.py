"""Real processes for the tests: a Celery worker and a web server on the test database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from evaluations.tasks import WAKE_KEY

ROOT = Path(__file__).resolve().parent.parent


def test_database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def process_env(**overrides: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": test_database_url(), "REDIS_URL": settings.REDIS_URL,
           "DJANGO_DEBUG": "1", "PYTHONUNBUFFERED": "1"}
    env.update(overrides)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {port}")


def log_path(name: str) -> Path:
    """A log file of this test process's own (several test runs may share the machine)."""
    return ROOT / "var" / f"{name}-{os.getpid()}.log"


@contextmanager
def running(args: list[str], env: dict[str, str], log_name: str):
    log = open(log_path(log_name), "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@contextmanager
def celery_worker(queue_purge: bool = True, pool: str = "solo", log_name: str = "test-worker", **env: str):
    args = [sys.executable, "-m", "celery", "-A", "arcweb", "worker", f"--pool={pool}", "--concurrency=1",
            "--loglevel=INFO", "--without-heartbeat", "--without-gossip", "--without-mingle"]
    if queue_purge:
        args.append("--purge")
        cache.delete(WAKE_KEY)  # the purged wake-up is no longer queued
    with running(args, process_env(**env), log_name) as process:
        log = log_path(log_name)
        if not wait_until(lambda: b" ready." in log.read_bytes(), timeout=30):
            raise TimeoutError(f"the worker did not start: {log.read_text()[-2000:]}")
        yield process


@contextmanager
def web_server(port: int | None = None, **env: str):
    port = port or free_port()
    args = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
    with running(args, process_env(**env), "test-web") as process:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}", process


class PrivateRedis:
    """A redis-server of the test's own on a free port (never the shared one), keeping nothing on disk: stopped and
    started again, it comes back empty, as a broker restarted without persistence does."""

    def __init__(self, directory: Path):
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@contextmanager
def private_redis(directory: Path):
    server = PrivateRedis(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def wait_until(predicate, timeout: float = 30, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
