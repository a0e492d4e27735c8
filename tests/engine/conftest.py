"""Engine tests are plain unit tests: no Django, no database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RECORDED = Path(__file__).resolve().parent.parent / "fixtures" / "frameworks" / "recorded"


def recorded(name: str) -> dict[str, Any]:
    """A run recorded from a real library (tests/fixtures/frameworks/record.py)."""
    return json.loads((RECORDED / f"{name}.json").read_text())


def recorded_output(name: str) -> Any:
    return recorded(name)["output"]


def all_recorded() -> list[str]:
    return sorted(p.stem for p in RECORDED.glob("*.json"))
