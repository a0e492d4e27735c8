from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).parent
sys.path[:0] = [str(HERE), str(HERE.parent / "examples")]  # fake_arc, _fake_llm

import fake_arc  # noqa: E402

from arc_eval import ArcTracer  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("ARC_API_KEY", "ARC_BASE_URL", "ARC_SAMPLE_RATE", "ARC_TRACING"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ARC_CONFIG_DIR", str(tmp_path / "config"))


@pytest.fixture
def arc() -> Iterator[fake_arc.FakeArc]:
    server = fake_arc.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def tracer(arc: fake_arc.FakeArc) -> Iterator[ArcTracer]:
    t = ArcTracer(api_key=fake_arc.KEY, base_url=arc.url, flush_interval=0.05, flush_at_exit=False)
    yield t
    t.shutdown(2)


@pytest.fixture
def dead_url() -> str:
    """A local port nothing listens on: connections are refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"
