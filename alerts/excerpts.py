"""What of a run may appear in an alert: short, masked, escaped excerpts (trace content is untrusted)."""

from __future__ import annotations

import html
import re
from typing import Any

from evaluations.engine.compliance import mask_pii

EXCERPT_CHARS = 160


def excerpt(value: Any, limit: int = EXCERPT_CHARS) -> str:
    """Personal data and secrets masked, whitespace collapsed, cut to `limit` characters, and &, < and > escaped,
    so a chat tool, an e-mail client or a page renders it as text."""
    text = re.sub(r"\s+", " ", str(mask_pii(value if isinstance(value, str) else str(value or "")))).strip()
    if len(text) > limit:
        text = text[:limit - 1].rstrip() + "…"
    return html.escape(text, quote=False)
