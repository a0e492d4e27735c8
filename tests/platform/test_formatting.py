"""Every figure is written one way (arcweb.formatting), and every name the engine uses has a label."""

from __future__ import annotations

from decimal import Decimal

from arcweb import formatting
from evaluations.engine import compare
from evaluations.engine.compliance import RULE_NAMES
from evaluations.engine.failures import TAXONOMY
from evaluations.engine.reliability import WindowCounts


def test_money_keeps_three_significant_digits_below_a_dollar_and_cents_above():
    assert formatting.usd(Decimal("0.00213")) == "$0.00213"
    assert formatting.usd("0.019") == "$0.0190"
    assert formatting.usd(Decimal("1234.5")) == "$1,234.50"
    assert formatting.usd(Decimal("12.3"), 2) == "$12.30"
    assert formatting.usd(Decimal("0.003"), 2) == "$0.00300"  # never "$0.00" for a cost there is
    assert formatting.usd(0) == "$0.00" and formatting.usd(None) == "—" and formatting.usd("nan") == "—"


def test_durations_percentages_and_shares():
    assert [formatting.duration(v) for v in (812, 4210, 186_000, None)] == ["812 ms", "4.2 s", "3.1 min", "—"]
    assert [formatting.percent(v) for v in (94.0, 94.25, None)] == ["94%", "94.2%", "—"]
    assert formatting.percent(66.666, 0) == "67%"
    assert formatting.share(0.68) == "68%" and formatting.share(0.6812, 1) == "68.1%"


def test_compare_figures_read_as_rates_money_and_seconds_with_signed_deltas():
    assert formatting.metric("reliability", 0.734) == "73.4%"
    assert formatting.metric("reliability", 0.05, delta=True) == "+5.0 pp"
    assert formatting.metric("cost_per_run_usd", 0.001, delta=True) == "+$0.00100"
    assert formatting.metric("latency_ms", -300, delta=True) == "-300 ms"
    assert formatting.metric("runs", None, delta=True) == "—"


def test_every_name_the_engine_emits_has_a_label_and_no_label_names_anything_else():
    assert formatting.CATEGORY_LABELS.keys() == TAXONOMY.keys()
    assert formatting.RULE_LABELS.keys() == set(RULE_NAMES)
    assert formatting.METRIC_LABELS.keys() == {m["metric"] for m in compare.compare(WindowCounts(), WindowCounts())}
    assert formatting.rule_label("us_ssn") == "US SSN" and formatting.category_label("llm_error") == "Model error"
    assert formatting.rule_label("some_new_rule") == "Some new rule"  # a name without a label is still words
