"""Two experiments on the same items, compared pair by pair.

McNemar's test asks whether the items that changed outcome changed more one way than the other: of the
n = b + c discordant items (b failed before and pass now, c passed before and fail now), under "no
difference" each is equally likely to go either way, so b ~ Binomial(n, 1/2). The exact two-sided p is
2·P(X <= min(b, c)), capped at 1; the chi-square form with Edwards' continuity correction is
(|b - c| - 1)^2 / n on one degree of freedom. Per-item means (score, cost) get a paired bootstrap
interval on their mean difference: items are resampled with their two values together, so what varies
between items does not widen the interval.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

ALPHA = 0.05
RESAMPLES = 2000


@dataclass(frozen=True, slots=True)
class McNemar:
    fixed: int  # b: failed in the first, passes in the second
    broke: int  # c: passed in the first, fails in the second
    p_value: float  # exact (binomial), two-sided
    chi_square: float
    p_value_chi_square: float

    @property
    def discordant(self) -> int:
        return self.fixed + self.broke

    def significant(self, alpha: float = ALPHA) -> bool:
        return self.discordant > 0 and self.p_value < alpha

    def as_dict(self) -> dict[str, float | int]:
        return {"fixed": self.fixed, "broke": self.broke, "discordant": self.discordant,
                "p_value": self.p_value, "chi_square": self.chi_square,
                "p_value_chi_square": self.p_value_chi_square}


def mcnemar(fixed: int, broke: int) -> McNemar:
    """McNemar's test on the discordant pair counts (exact binomial and continuity-corrected chi-square)."""
    if fixed < 0 or broke < 0:
        raise ValueError("counts cannot be negative")
    n = fixed + broke
    if n == 0:
        return McNemar(fixed, broke, 1.0, 0.0, 1.0)
    # Sum C(n, x) for x <= min(b, c) with exact integers: the division below is correctly rounded.
    term = tail = 1
    for x in range(min(fixed, broke)):
        term = term * (n - x) // (x + 1)
        tail += term
    exact = min(1.0, 2 * tail / 2**n)
    chi_square = max(abs(fixed - broke) - 1, 0) ** 2 / n
    return McNemar(fixed, broke, exact, chi_square, math.erfc(math.sqrt(chi_square / 2)))


@dataclass(frozen=True, slots=True)
class PairedInterval:
    pairs: int
    mean_before: float
    mean_after: float
    delta: float  # mean of (after - before)
    low: float
    high: float

    @property
    def significant(self) -> bool:
        """The interval leaves out no change."""
        return self.pairs > 1 and (self.low > 0 or self.high < 0)

    def as_dict(self) -> dict[str, float | int | bool]:
        return {"pairs": self.pairs, "before": self.mean_before, "after": self.mean_after, "delta": self.delta,
                "low": self.low, "high": self.high, "significant": self.significant}


def paired_bootstrap(pairs: Sequence[tuple[float, float]], *, resamples: int = RESAMPLES, confidence: float = 0.95,
                     seed: int = 0) -> PairedInterval | None:
    """Percentile bootstrap interval of the mean paired difference; seeded, so a page shows the same interval
    every time it is drawn. None without pairs."""
    if not pairs:
        return None
    n = len(pairs)
    deltas = [after - before for before, after in pairs]
    mean_delta = sum(deltas) / n
    rng = random.Random(seed)
    means = sorted(sum(rng.choices(deltas, k=n)) / n for _ in range(resamples))
    tail = (1 - confidence) / 2
    low = means[min(resamples - 1, max(0, math.floor(tail * resamples)))]
    high = means[min(resamples - 1, max(0, math.ceil((1 - tail) * resamples) - 1))]
    return PairedInterval(n, sum(b for b, _ in pairs) / n, sum(a for _, a in pairs) / n, mean_delta, low, high)
