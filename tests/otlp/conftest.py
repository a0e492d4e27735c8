"""Fixtures for the OTLP decoder tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .builders import Otel


@pytest.fixture
def otel() -> Iterator[Otel]:
    otel = Otel("support-service")
    yield otel
    otel.provider.shutdown()
