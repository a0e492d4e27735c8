"""The improvement plan: where each failure pattern stands, which to fix first, which scenario to try first."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

ALPHA = 0.05
OPEN, FIX_APPLIED, RESOLVED, REGRESSED = "open", "fix_applied", "resolved", "regressed"


def required_clean_runs(prior_rate: float, alpha: float = ALPHA) -> int:
    """Smallest N with (1 - p)^N < alpha: N clean runs in a row would then be unlikely by chance alone."""
    if prior_rate >= 1:
        return 1
    if prior_rate <= 0:
        raise ValueError("a pattern that never occurred has no prior rate")
    return math.floor(math.log(alpha) / math.log(1 - prior_rate)) + 1


def pattern_status(*, fix_applied: bool, runs_since_fix: int, occurrences_since_fix: int, prior_rate: float,
                   alpha: float = ALPHA) -> str:
    """open → fix_applied → resolved once enough clean runs make the absence significant; a recurrence
    after a fix is a regression."""
    if not fix_applied:
        return OPEN
    if occurrences_since_fix > 0:
        return REGRESSED
    if prior_rate > 0 and runs_since_fix >= required_clean_runs(prior_rate, alpha):
        return RESOLVED
    return FIX_APPLIED


@dataclass(frozen=True, slots=True)
class PatternStats:
    fingerprint: str
    category: str
    occurrences: int
    total_runs: int
    step: str = ""  # the failing step (a tool's name), which the fixes name
    component: str = ""  # where it failed (tool, llm, agent, ...) when known

    @property
    def reliability_cost_pp(self) -> float:
        """Percentage points of reliability this pattern costs the agent over the window."""
        return 100 * self.occurrences / self.total_runs if self.total_runs else 0.0


def rank_patterns(patterns: Iterable[PatternStats]) -> list[dict[str, Any]]:
    ranked = sorted(patterns, key=lambda p: (-p.reliability_cost_pp, -p.occurrences, p.fingerprint))
    return [{"rank": n, "fingerprint": p.fingerprint, "category": p.category, "occurrences": p.occurrences,
             "reliability_cost_pp": round(p.reliability_cost_pp, 2)} for n, p in enumerate(ranked, start=1)]


def order_scenarios(scenarios: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Simplest first: replayed real inputs before injected faults before adversarial variants."""
    return sorted(scenarios, key=lambda s: (s.get("difficulty", 0), s.get("name", "")))
