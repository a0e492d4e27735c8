"""McNemar's test and the paired bootstrap against hand computations (evaluations/engine/paired.py)."""

from __future__ import annotations

import math

import pytest

from evaluations.engine.paired import mcnemar, paired_bootstrap


def test_four_fixed_one_broken_by_hand():
    # exact: 2 * P(X <= 1), X ~ Binomial(5, 1/2) = 2 * (1 + 5) / 32 = 0.375
    # chi-square with continuity correction: (|4 - 1| - 1)^2 / 5 = 0.8 on 1 df; p = erfc(sqrt(0.8 / 2))
    test = mcnemar(4, 1)
    assert test.p_value == 0.375
    assert test.chi_square == pytest.approx(0.8)
    assert test.p_value_chi_square == pytest.approx(0.37109336952269756)
    assert not test.significant()


def test_ten_broken_none_fixed_is_significant():
    test = mcnemar(0, 10)  # 2 * (1/2)^10
    assert test.p_value == 2 / 1024 and test.significant()
    assert test.chi_square == pytest.approx(8.1)  # (10 - 1)^2 / 10


def test_the_test_is_symmetric_and_capped_at_one():
    assert mcnemar(3, 7).p_value == mcnemar(7, 3).p_value == pytest.approx(2 * 176 / 1024)  # 1+10+45+120 = 176
    assert mcnemar(5, 5).p_value == 1.0 and mcnemar(5, 5).chi_square == 0.0
    assert mcnemar(0, 0).p_value == 1.0 and not mcnemar(0, 0).significant()


def test_many_discordant_items_agree_with_the_normal_approximation():
    exact, approx = mcnemar(560, 440), mcnemar(560, 440).p_value_chi_square
    assert exact.p_value == pytest.approx(approx, rel=0.05)
    assert exact.p_value < 0.001


def test_negative_counts_are_refused():
    with pytest.raises(ValueError):
        mcnemar(-1, 2)


def test_bootstrap_of_a_constant_shift_is_that_shift():
    interval = paired_bootstrap([(x, x + 2.5) for x in (1.0, 4.0, 9.0, 16.0)])
    assert (interval.delta, interval.low, interval.high) == (2.5, 2.5, 2.5)
    assert interval.significant and (interval.mean_before, interval.mean_after) == (7.5, 10.0)


def test_bootstrap_interval_holds_the_mean_and_is_seeded():
    pairs = [(0.02, 0.01), (0.03, 0.01), (0.02, 0.02), (0.04, 0.01), (0.02, 0.03), (0.05, 0.01)]
    interval = paired_bootstrap(pairs)
    assert interval.low <= interval.delta <= interval.high
    assert interval.delta == pytest.approx(-0.015)
    assert paired_bootstrap(pairs) == interval  # the same figures every time a page is drawn
    # resampling 6 items can only reach means within the observed differences
    assert min(b - a for a, b in pairs) <= interval.low and interval.high <= max(b - a for a, b in pairs)


def test_no_change_is_not_significant_and_no_pairs_is_none():
    assert not paired_bootstrap([(1.0, 1.0), (2.0, 2.0)]).significant
    assert not paired_bootstrap([(1.0, 3.0)]).significant  # one item says nothing about the spread
    assert paired_bootstrap([]) is None
    assert math.isfinite(paired_bootstrap([(0.0, 1.0), (1.0, 0.0)]).delta)
