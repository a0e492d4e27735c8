"""How far the automatic verdicts agree with human labels: accuracy and Cohen's kappa."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Agreement:
    n: int
    accuracy: float | None
    kappa: float | None
    both_pass: int
    both_fail: int
    auto_pass_human_fail: int
    auto_fail_human_pass: int

    def as_dict(self) -> dict[str, Any]:
        return {"n": self.n, "accuracy": self.accuracy, "kappa": self.kappa, "both_pass": self.both_pass,
                "both_fail": self.both_fail, "auto_pass_human_fail": self.auto_pass_human_fail,
                "auto_fail_human_pass": self.auto_fail_human_pass}


def from_counts(*, both_pass: int, both_fail: int, auto_pass_human_fail: int, auto_fail_human_pass: int) -> Agreement:
    """Accuracy and Cohen's kappa from the 2x2 confusion counts (stored aggregates are enough)."""
    n = both_pass + both_fail + auto_pass_human_fail + auto_fail_human_pass
    if n == 0:
        return Agreement(0, None, None, 0, 0, 0, 0)
    observed = (both_pass + both_fail) / n
    auto_pass = (both_pass + auto_pass_human_fail) / n
    human_pass = (both_pass + auto_fail_human_pass) / n
    expected = auto_pass * human_pass + (1 - auto_pass) * (1 - human_pass)
    kappa = 1.0 if expected == 1 else (observed - expected) / (1 - expected)
    return Agreement(n, round(observed, 4), round(kappa, 4), both_pass, both_fail,
                     auto_pass_human_fail, auto_fail_human_pass)


def agreement(pairs: Iterable[tuple[bool, bool]]) -> Agreement:
    """From (automatic verdict, human label) pairs, True meaning the run succeeded."""
    counts = {(True, True): 0, (False, False): 0, (True, False): 0, (False, True): 0}
    for auto, human in pairs:
        counts[(bool(auto), bool(human))] += 1
    return from_counts(both_pass=counts[(True, True)], both_fail=counts[(False, False)],
                       auto_pass_human_fail=counts[(True, False)], auto_fail_human_pass=counts[(False, True)])
