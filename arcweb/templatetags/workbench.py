"""Template filters of every page and report: the figures formatted by `arcweb.formatting`, and lookups."""

from __future__ import annotations

from typing import Any

from django import template

from arcweb import formatting

register = template.Library()

for _name in ("usd", "duration", "share", "percent", "humanise", "grade_class", "category_label", "rule_label",
              "metric_label"):
    register.filter(_name, getattr(formatting, _name))


@register.filter
def get(mapping: Any, key: Any) -> Any:
    try:
        return mapping.get(key) if hasattr(mapping, "get") else mapping[key]
    except (KeyError, IndexError, TypeError):
        return None
