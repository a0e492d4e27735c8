"""An experiment item's checks on the agent's output: exact, contains, regex, JSON schema, numeric tolerance.

A check compares the output (or the field `path` names in it) with its `value`, or with the item's expected
output when it has none. An item with an expected output and no checks gets one exact check. Patterns and
schemas come from tenants: regexes run with a time limit (the `regex` module's), schemas are checked when
the item is saved.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

import jsonschema
import regex

CHECK_TYPES: tuple[str, ...] = ("exact", "contains", "regex", "json_schema", "numeric")
REGEX_TIMEOUT_S = 0.25
MAX_PATTERN = 2000
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_MISSING = object()


class InvalidCheck(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class CheckResult:
    type: str
    passed: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "passed": self.passed, "detail": self.detail}


def validate_checks(checks: Any) -> list[dict[str, Any]]:
    """The checks as stored, or InvalidCheck naming the first bad field (`checks[1].value`)."""
    if checks in (None, ""):
        return []
    if not isinstance(checks, list):
        raise InvalidCheck("checks", "checks must be a list of objects like {\"type\": \"contains\", \"value\": \"…\"}")
    cleaned = []
    for index, check in enumerate(checks):
        where = f"checks[{index}]"
        if isinstance(check, str):
            check = {"type": check}
        if not isinstance(check, dict):
            raise InvalidCheck(where, "a check is an object with a type")
        kind = check.get("type")
        if kind not in CHECK_TYPES:
            raise InvalidCheck(f"{where}.type", f"type must be one of {', '.join(CHECK_TYPES)}")
        unknown = set(check) - {"type", "value", "path", "tolerance"}
        if unknown:
            raise InvalidCheck(f"{where}.{sorted(unknown)[0]}", "unknown field (type, value, path, tolerance)")
        path = check.get("path")
        if path is not None and (not isinstance(path, str) or len(path) > 300):
            raise InvalidCheck(f"{where}.path", "path is a dotted path into the output, such as answer.total")
        value = check.get("value", _MISSING)
        if kind == "regex":
            if not isinstance(value, str) or not value or len(value) > MAX_PATTERN:
                raise InvalidCheck(f"{where}.value", f"a regex check needs its pattern in value (at most {MAX_PATTERN} "
                                                     "characters)")
            try:
                regex.compile(value)
            except regex.error as exc:
                raise InvalidCheck(f"{where}.value", f"not a valid regular expression: {exc}") from None
        if kind == "json_schema":
            if not isinstance(value, dict):
                raise InvalidCheck(f"{where}.value", "a json_schema check needs the schema (an object) in value")
            try:
                jsonschema.validators.validator_for(value).check_schema(value)
            except jsonschema.SchemaError as exc:
                raise InvalidCheck(f"{where}.value", f"not a valid JSON schema: {exc.message}") from None
        if kind == "numeric":
            tolerance = check.get("tolerance", 0)
            if not isinstance(tolerance, int | float) or isinstance(tolerance, bool) or not tolerance >= 0 \
                    or math.isinf(tolerance):
                raise InvalidCheck(f"{where}.tolerance", "tolerance is a number of 0 or more")
            if value is not _MISSING and _number(value) is None:
                raise InvalidCheck(f"{where}.value", "a numeric check compares with a number")
        cleaned.append({k: v for k, v in check.items() if v is not None})
    return cleaned


def effective_checks(checks: list[dict[str, Any]], expected: Any) -> list[dict[str, Any]]:
    if not checks and expected is not None:
        return [{"type": "exact"}]
    return checks


def run_checks(output: Any, expected: Any, checks: list[dict[str, Any]]) -> list[CheckResult]:
    """Every check of an item on one output. Checks that need an expected value and have none fail."""
    return [_run(check, output, expected) for check in effective_checks(checks, expected)]


def _run(check: dict[str, Any], output: Any, expected: Any) -> CheckResult:
    kind = check["type"]
    actual = _at(output, check.get("path"))
    if actual is _MISSING:
        return CheckResult(kind, False, f"the output has no {check['path']}")
    target = check.get("value", expected)
    if target is None and kind != "json_schema":
        return CheckResult(kind, False, "no expected output to compare with")
    if kind == "exact":
        passed = _same(actual, target)
        return CheckResult(kind, passed, "equal" if passed else f"expected {_short(target)}, got {_short(actual)}")
    if kind == "contains":
        needle = target if isinstance(target, str) else _text(target)
        passed = needle in _text(actual)
        return CheckResult(kind, passed, f"{'contains' if passed else 'does not contain'} {_short(needle)}")
    if kind == "regex":
        try:
            passed = regex.search(str(target), _text(actual), timeout=REGEX_TIMEOUT_S) is not None
        except TimeoutError:
            return CheckResult(kind, False, f"the pattern took longer than {REGEX_TIMEOUT_S} s")
        except regex.error as exc:
            return CheckResult(kind, False, f"not a valid regular expression: {exc}")
        return CheckResult(kind, passed, f"{'matches' if passed else 'does not match'} {_short(target)}")
    if kind == "json_schema":
        return _schema_check(actual, target)
    return _numeric_check(actual, target, check.get("tolerance", 0))


def _schema_check(actual: Any, schema: Any) -> CheckResult:
    if not isinstance(schema, dict):
        return CheckResult("json_schema", False, "no schema to validate against")
    if isinstance(actual, str):
        try:
            actual = json.loads(actual)
        except ValueError:
            return CheckResult("json_schema", False, "the output is not JSON")
    try:
        validator = jsonschema.validators.validator_for(schema)(schema)
        error = jsonschema.exceptions.best_match(validator.iter_errors(actual))
    except jsonschema.SchemaError as exc:
        return CheckResult("json_schema", False, f"not a valid JSON schema: {exc.message}")
    if error is None:
        return CheckResult("json_schema", True, "valid")
    where = "/".join(str(p) for p in error.absolute_path)
    return CheckResult("json_schema", False, (f"at {where}: " if where else "") + _short(error.message, 200))


def _numeric_check(actual: Any, target: Any, tolerance: float) -> CheckResult:
    got, want = _number(actual), _number(target)
    if want is None:
        return CheckResult("numeric", False, f"the expected value {_short(target)} is not a number")
    if got is None:
        return CheckResult("numeric", False, f"no number in the output {_short(actual)}")
    passed = abs(got - want) <= tolerance + 1e-12 * max(1.0, abs(want))
    return CheckResult("numeric", passed, f"{got:g} vs {want:g} (tolerance {tolerance:g})")


def _at(value: Any, path: str | None) -> Any:
    """The field a dotted path names (list positions as numbers), or _MISSING."""
    if not path:
        return value
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.lstrip("-").isdigit() and -len(value) <= int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def _same(actual: Any, target: Any) -> bool:
    if isinstance(actual, str) and isinstance(target, str):
        return actual.strip() == target.strip()
    if isinstance(actual, str) or isinstance(target, str):
        return _text(actual).strip() == _text(target).strip()
    return actual == target and isinstance(actual, bool) == isinstance(target, bool)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    match = _NUMBER.search(_THOUSANDS.sub("", value)) if isinstance(value, str) else None
    if match is None:
        return None
    number = float(match.group())
    return number if math.isfinite(number) else None


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"
