"""Where the key and the server URL come from: arguments, then the environment, then `arc-eval login`'s file."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Optional

DEFAULT_BASE_URL = "http://127.0.0.1:8000"


def config_dir() -> Path:
    explicit = os.environ.get("ARC_CONFIG_DIR")
    if explicit:
        return Path(explicit)
    root = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(root) / "arc-eval"


def config_path() -> Path:
    return config_dir() / "config.json"


def load_config() -> dict[str, Any]:
    try:
        data = json.loads(config_path().read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_config(data: dict[str, Any]) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # created 0600 from the start: the key is never readable by others, not even for a moment
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=2)
    os.chmod(path, 0o600)
    return path


def resolve(api_key: Optional[str] = None, base_url: Optional[str] = None) -> tuple[Optional[str], str]:
    """The key and base URL to use: explicit values win, then ARC_API_KEY / ARC_BASE_URL, then the config file."""
    stored: Optional[dict[str, Any]] = None
    if api_key is None:
        api_key = os.environ.get("ARC_API_KEY")
        if not api_key:
            stored = load_config()
            api_key = stored.get("api_key")
    if base_url is None:
        base_url = os.environ.get("ARC_BASE_URL")
        if not base_url:
            stored = stored if stored is not None else load_config()
            base_url = stored.get("base_url") or DEFAULT_BASE_URL
    return api_key or None, base_url.rstrip("/")
