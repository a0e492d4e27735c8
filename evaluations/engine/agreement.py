"""How far the automatic verdicts agree with human labels: accuracy and Cohen's kappa (with its interval)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

Z95 = 1.959964


@dataclass(frozen=True, slots=True)
class Agreement:
    n: int
    accuracy: float | None
    kappa: float | None
    kappa_low: float | None
    kappa_high: float | None
    both_pass: int
    both_fail: int
    auto_pass_human_fail: int
    auto_fail_human_pass: int

    def as_dict(self) -> dict[str, Any]:
        return {"n": self.n, "accuracy": self.accuracy, "kappa": self.kappa, "kappa_low": self.kappa_low,
                "kappa_high": self.kappa_high, "both_pass": self.both_pass,
                "both_fail": self.both_fail, "auto_pass_human_fail": self.auto_pass_human_fail,
                "auto_fail_human_pass": self.auto_fail_human_pass}


def from_counts(*, both_pass: int, both_fail: int, auto_pass_human_fail: int, auto_fail_human_pass: int) -> Agreement:
    """Accuracy and Cohen's kappa from the 2x2 confusion counts (stored aggregates are enough), with kappa's 95%
    interval from Cohen's large-sample standard error, sqrt(po (1 - po) / (n (1 - pe)^2)), clipped to [-1, 1]."""
    n = both_pass + both_fail + auto_pass_human_fail + auto_fail_human_pass
    if n == 0:
        return Agreement(0, None, None, None, None, 0, 0, 0, 0)
    observed = (both_pass + both_fail) / n
    auto_pass = (both_pass + auto_pass_human_fail) / n
    human_pass = (both_pass + auto_fail_human_pass) / n
    expected = auto_pass * human_pass + (1 - auto_pass) * (1 - human_pass)
    if expected == 1:
        kappa, margin = 1.0, 0.0
    else:
        kappa = (observed - expected) / (1 - expected)
        margin = Z95 * math.sqrt(observed * (1 - observed) / (n * (1 - expected) ** 2))
    return Agreement(n, round(observed, 4), round(kappa, 4), round(max(-1.0, kappa - margin), 4),
                     round(min(1.0, kappa + margin), 4), both_pass, both_fail, auto_pass_human_fail,
                     auto_fail_human_pass)


def agreement(pairs: Iterable[tuple[bool, bool]]) -> Agreement:
    """From (automatic verdict, human label) pairs, True meaning the run succeeded."""
    counts = {(True, True): 0, (False, False): 0, (True, False): 0, (False, True): 0}
    for auto, human in pairs:
        counts[(bool(auto), bool(human))] += 1
    return from_counts(both_pass=counts[(True, True)], both_fail=counts[(False, False)],
                       auto_pass_human_fail=counts[(True, False)], auto_fail_human_pass=counts[(False, True)])
