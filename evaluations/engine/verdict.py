"""A run's verdict from its three sources: a human label wins, then the deciding judge, then the rules."""

from __future__ import annotations

HUMAN, JUDGE, RULES = "human", "judge", "rules"


def verdict_of(label: bool | None, judge: bool | None, rules: bool | None) -> bool | None:
    if label is not None:
        return label
    return judge if judge is not None else rules


def verdict_source(label: bool | None, judge: bool | None) -> str:
    if label is not None:
        return HUMAN
    return JUDGE if judge is not None else RULES
