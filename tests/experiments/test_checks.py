"""An item's checks on an agent's output (evaluations/engine/checks.py)."""

from __future__ import annotations

import time

import pytest

from evaluations.engine.checks import InvalidCheck, run_checks, validate_checks


def outcome(output, expected, checks):
    return [r.passed for r in run_checks(output, expected, validate_checks(checks))]


def test_an_expected_output_alone_is_an_exact_check():
    assert outcome(" Paris\n", "Paris", []) == [True]
    assert outcome("Lyon", "Paris", []) == [False]
    assert outcome({"total": 42}, {"total": 42}, []) == [True]
    assert outcome(42, "42", []) == [True]
    assert outcome(True, 1, []) == [False]  # a boolean is not the number 1
    assert run_checks("anything", None, []) == []  # nothing to check: the verdict decides


def test_contains_regex_and_a_path_into_the_output():
    output = {"answer": "Your refund of $12.50 is on its way", "items": [{"sku": "A-17"}]}
    assert outcome(output, None, [{"type": "contains", "value": "refund", "path": "answer"},
                                  {"type": "regex", "value": r"\$\d+\.\d{2}"},
                                  {"type": "exact", "value": "A-17", "path": "items.0.sku"},
                                  {"type": "contains", "value": "cancel"}]) == [True, True, True, False]
    assert run_checks(output, None, validate_checks([{"type": "exact", "value": 1, "path": "missing"}]))[0].detail \
        == "the output has no missing"


def test_numeric_tolerance_reads_numbers_in_text():
    checks = [{"type": "numeric", "tolerance": 0.5}]
    assert outcome("The total is 1,234.4 dollars", 1234, checks) == [True]
    assert outcome("The total is 1,236 dollars", 1234, checks) == [False]
    assert outcome("no number here", 1234, checks) == [False]
    assert outcome(3.0, 3, [{"type": "numeric"}]) == [True]


def test_json_schema_validates_the_output_or_its_json_text():
    schema = {"type": "object", "required": ["status"], "properties": {"status": {"enum": ["open", "closed"]}}}
    checks = [{"type": "json_schema", "value": schema}]
    assert outcome('{"status": "open"}', None, checks) == [True]
    result = run_checks({"status": "lost"}, None, validate_checks(checks))[0]
    assert not result.passed and "status" in result.detail
    assert outcome("not json", None, checks) == [False]


def test_a_check_without_anything_to_compare_fails():
    assert outcome("x", None, [{"type": "contains"}]) == [False]


@pytest.mark.parametrize("checks, field", [
    ([{"type": "fuzzy"}], "checks[0].type"),
    ([{"type": "regex", "value": "("}], "checks[0].value"),
    ([{"type": "json_schema", "value": {"type": "nonsense"}}], "checks[0].value"),
    ([{"type": "numeric", "tolerance": -1}], "checks[0].tolerance"),
    ([{"type": "exact"}, {"type": "exact", "colour": "red"}], "checks[1].colour"),
    ({"type": "exact"}, "checks"),
])
def test_bad_checks_are_refused_with_the_field(checks, field):
    with pytest.raises(InvalidCheck) as caught:
        validate_checks(checks)
    assert caught.value.field == field


def test_a_catastrophic_pattern_times_out_instead_of_hanging():
    started = time.monotonic()
    result = run_checks("a" * 60 + "!", None, validate_checks([{"type": "regex", "value": "(a|aa)+$"}]))[0]
    assert not result.passed and "longer than" in result.detail
    assert time.monotonic() - started < 5
