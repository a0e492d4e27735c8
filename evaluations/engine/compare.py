"""Two windows side by side (a baseline and now, or two agent versions): each delta and whether it is real.

Proportions use the two-proportion z-test; means (cost per run, latency) use Welch's z from the stored
sums and sums of squares (normal approximation, so a mean delta is only called significant with at
least `MIN_RUNS_FOR_MEANS` runs on each side).
"""

from __future__ import annotations

import math
from typing import Any

from .reliability import WindowCounts, two_proportion_test

ALPHA = 0.05
MIN_RUNS_FOR_MEANS = 30


def _proportion(label: str, s1: int, n1: int, s2: int, n2: int, *, higher_is_better: bool = True) -> dict[str, Any]:
    a = s1 / n1 if n1 else None
    b = s2 / n2 if n2 else None
    z, p = two_proportion_test(s1, n1, s2, n2)
    delta = None if a is None or b is None else b - a
    return {"metric": label, "before": a, "after": b, "delta": delta, "p_value": round(p, 4),
            "significant": p < ALPHA and delta is not None,
            "better": None if not delta else (delta > 0) == higher_is_better}


def _mean(label: str, sum1: float, sq1: float, n1: int, sum2: float, sq2: float, n2: int) -> dict[str, Any]:
    if not n1 or not n2:
        return {"metric": label, "before": sum1 / n1 if n1 else None, "after": sum2 / n2 if n2 else None,
                "delta": None, "p_value": None, "significant": False, "better": None}
    m1, m2 = sum1 / n1, sum2 / n2
    var1 = max(sq1 / n1 - m1 * m1, 0.0) * n1 / max(n1 - 1, 1)
    var2 = max(sq2 / n2 - m2 * m2, 0.0) * n2 / max(n2 - 1, 1)
    se = math.sqrt(var1 / n1 + var2 / n2)
    p = 1.0 if se == 0 else math.erfc(abs(m2 - m1) / se / math.sqrt(2))
    enough = min(n1, n2) >= MIN_RUNS_FOR_MEANS
    return {"metric": label, "before": m1, "after": m2, "delta": m2 - m1, "p_value": round(p, 4),
            "significant": enough and p < ALPHA, "better": None if m1 == m2 else m2 < m1}


def compare(before: WindowCounts, after: WindowCounts) -> list[dict[str, Any]]:
    """Deltas for reliability, cost per run, tool success, latency and compliance passes."""
    return [
        _proportion("reliability", before.successes, before.runs, after.successes, after.runs),
        _mean("cost_per_run_usd", float(before.cost_usd_sum), float(before.cost_usd_sq_sum), before.priced_runs,
              float(after.cost_usd_sum), float(after.cost_usd_sq_sum), after.priced_runs),
        _proportion("tool_success", before.tool_calls - before.tool_errors, before.tool_calls,
                    after.tool_calls - after.tool_errors, after.tool_calls),
        _mean("latency_ms", before.duration_ms_sum, before.duration_ms_sq_sum, before.timed_runs,
              after.duration_ms_sum, after.duration_ms_sq_sum, after.timed_runs),
        _proportion("compliance_passed", before.compliance_passed, before.runs, after.compliance_passed, after.runs),
    ]
