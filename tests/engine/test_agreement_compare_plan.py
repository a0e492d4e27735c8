from __future__ import annotations

from decimal import Decimal

import pytest

from evaluations.engine.agreement import agreement, from_counts
from evaluations.engine.compare import compare
from evaluations.engine.plan import (
    PatternStats,
    order_scenarios,
    pattern_status,
    rank_patterns,
    required_clean_runs,
)
from evaluations.engine.reliability import WindowCounts


def test_cohens_kappa_hand_checked():
    # po = 35/50 = 0.7; auto pass 25/50, human pass 30/50 -> pe = 0.5*0.6 + 0.5*0.4 = 0.5; kappa = 0.4
    result = from_counts(both_pass=20, both_fail=15, auto_pass_human_fail=5, auto_fail_human_pass=10)
    assert (result.n, result.accuracy, result.kappa) == (50, 0.7, 0.4)
    # se = sqrt(0.7 * 0.3 / (50 * 0.5^2)) = sqrt(0.0168) = 0.129615; 1.959964 * se = 0.254041
    assert (result.kappa_low, result.kappa_high) == (0.146, 0.654)


def test_kappas_interval_on_few_labels_hand_checked():
    # 6 runs, 4 agree; judge and team each pass half -> pe 0.5, kappa 1/3; se = sqrt((2/3)(1/3) / (6 * 0.25))
    # = 0.384900, margin 0.754390 -> [-0.4211, 1.0877], the top clipped to 1
    pairs = [(True, True), (False, False), (True, False), (False, False), (True, True), (False, True)]
    result = agreement(pairs)
    assert (result.accuracy, result.kappa, result.kappa_low, result.kappa_high) == (0.6667, 0.3333, -0.4211, 1.0)


def test_agreement_from_pairs():
    perfect = agreement([(True, True), (False, False), (True, True)])
    assert perfect.accuracy == 1.0 and perfect.kappa == 1.0
    assert agreement([]).kappa is None


def window(successes, runs, cost, latency, compliance_fails=0):
    counts = WindowCounts()
    for n in range(runs):
        counts.add(success=n < successes, score=80.0, duration_ms=latency + (n % 10) * 10, llm_ms=0.0, tool_ms=0.0,
                   tool_calls=2, tool_errors=int(n >= successes), cost_usd=Decimal(cost), compliance_passed=n >= compliance_fails)
    return counts


def test_compare_reports_deltas_with_significance():
    rows = {r["metric"]: r for r in compare(window(70, 100, "0.010", 2000), window(92, 100, "0.004", 1000))}
    assert rows["reliability"]["delta"] == pytest.approx(0.22) and rows["reliability"]["significant"]
    assert rows["cost_per_run_usd"]["delta"] == pytest.approx(-0.006) and rows["cost_per_run_usd"]["better"]
    assert rows["latency_ms"]["significant"] and rows["latency_ms"]["better"]
    assert rows["tool_success"]["significant"]
    assert not rows["compliance_passed"]["significant"]
    same = {r["metric"]: r for r in compare(window(90, 100, "0.01", 1000), window(91, 100, "0.01", 1000))}
    assert not same["reliability"]["significant"]


def test_required_clean_runs_hand_checked():
    assert required_clean_runs(0.1) == 29  # 0.9^29 = 0.047 < 0.05 <= 0.9^28 = 0.052
    assert required_clean_runs(0.5) == 5
    assert required_clean_runs(0.01) == 299


def test_pattern_status_transitions():
    assert pattern_status(fix_applied=False, runs_since_fix=0, occurrences_since_fix=0, prior_rate=0.1) == "open"
    assert pattern_status(fix_applied=True, runs_since_fix=28, occurrences_since_fix=0, prior_rate=0.1) == "fix_applied"
    assert pattern_status(fix_applied=True, runs_since_fix=29, occurrences_since_fix=0, prior_rate=0.1) == "resolved"
    assert pattern_status(fix_applied=True, runs_since_fix=200, occurrences_since_fix=1, prior_rate=0.1) == "regressed"


def test_rank_patterns_by_reliability_cost_and_order_scenarios():
    ranked = rank_patterns([PatternStats("a", "rate_limit", 2, 100), PatternStats("b", "tool_timeout", 9, 100)])
    assert [(r["rank"], r["fingerprint"], r["reliability_cost_pp"]) for r in ranked] == [(1, "b", 9.0), (2, "a", 2.0)]
    ordered = order_scenarios([{"name": "z", "difficulty": 3}, {"name": "b", "difficulty": 1}, {"name": "a", "difficulty": 1}])
    assert [s["name"] for s in ordered] == ["a", "b", "z"]
