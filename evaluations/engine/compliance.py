"""Personal data and secrets in a run: where they are, how bad, masked so the finding never repeats them.

Every string in the trace's input and output and in every span's input, output and error is scanned
with one combined regex; candidates are confirmed with python-stdnum where it has a validator (US SSN,
Luhn for cards, IBAN, ABA routing numbers) and phone numbers with phonenumbers (libphonenumber's metadata:
international numbers in any country's format, national numbers as North American). Data flowing *out* (outputs, errors) weighs more than data
coming *in* (inputs); a secret going out is critical. A finding at severity high or critical is a
compliance violation and fails the run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import phonenumbers
from stdnum import iban, luhn
from stdnum.us import rtn, ssn

from .jsonvalues import map_strings, strings
from .trace import Trace

SEVERITIES = ("info", "low", "medium", "high", "critical")
VIOLATION = frozenset({"high", "critical"})
DOMAIN_PACKS = ("finance", "security", "ml")


def _card(raw: str) -> bool:
    digits = re.sub(r"[ -]", "", raw)
    return 13 <= len(digits) <= 19 and digits[0] in "3456" and luhn.is_valid(digits)


def _phone(raw: str) -> bool:
    """A number libphonenumber knows as assigned: "+44 20 7946 0958", "+91 98765 43210", "(415) 555-2671"."""
    try:
        number = phonenumbers.parse(raw, None if raw.lstrip().startswith("+") else "US")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number)


# rule -> (pattern, validator, severity when coming in, severity when going out, kind)
Rule = tuple[str, Callable[[str], bool] | None, str, str, str]
_RULES: dict[str, Rule] = {
    "private_key": (r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP |ENCRYPTED )?PRIVATE KEY-----", None, "medium", "critical", "secret"),
    "aws_access_key": (r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", None, "medium", "critical", "secret"),
    "aws_secret_key": (r"(?i:aws_secret_access_key)[\"']?\s*[:=]\s*[\"']?[A-Za-z0-9/+=]{40}", None, "medium", "critical", "secret"),
    "openai_api_key": (r"\bsk-(?:proj-|ant-|svcacct-)?[A-Za-z0-9_-]{20,}", None, "medium", "critical", "secret"),
    "github_token": (r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})", None, "medium", "critical", "secret"),
    "slack_token": (r"\bxox[abprs]-[A-Za-z0-9-]{10,}|https://hooks\.slack\.com/services/[A-Za-z0-9/]+", None,
                    "medium", "critical", "secret"),
    "google_api_key": (r"\bAIza[0-9A-Za-z_-]{35}\b", None, "medium", "critical", "secret"),
    "stripe_key": (r"\b[rs]k_live_[A-Za-z0-9]{20,}", None, "medium", "critical", "secret"),
    "jwt": (r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}", None, "medium", "critical", "secret"),
    "iban": (r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b", iban.is_valid, "medium", "high", "pii"),
    "payment_card": (r"\b(?:\d[ -]?){12,18}\d\b", _card, "medium", "high", "pii"),
    "us_ssn": (r"\b\d{3}-\d{2}-\d{4}\b", ssn.is_valid, "medium", "high", "pii"),
    "email": (r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b", None, "info", "low", "pii"),
    "phone": (r"(?<![\w+-])(?:\+\d{1,3}(?:[ .-]?\(?\d{1,5}\)?){1,5}[ .-]?\d{2,5}|\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4})"
              r"(?![\w-])", _phone, "info", "low", "pii"),
}

# Rules only a domain pack turns on: pack -> rule -> (pattern, validator, severity in, severity out, kind).
_PACK_RULES: dict[str, dict[str, Rule]] = {
    "finance": {
        "account_number": (r"(?i:\b(?:account|acct)(?: number| no\.?| #)?\s*[:#]?\s*)\d{6,17}\b", None, "low", "high", "pii"),
        "routing_number": (r"(?i:\b(?:routing|aba)(?: number| no\.?)?\s*[:#]?\s*)\d{9}\b",
                           lambda raw: rtn.is_valid(raw[-9:]), "low", "high", "pii"),
    },
    "security": {
        "prompt_injection": (r"(?i:ignore (?:all |any )?(?:previous|prior|above) instructions|disregard (?:the |your )?"
                             r"(?:system prompt|instructions)|reveal (?:your|the) system prompt|you are now (?:in )?"
                             r"(?:developer|dan) mode)", None, "high", "high", "injection"),
        "credential_assignment": (r"(?i:\b(?:password|passwd|pwd|secret|api_?key|token)\b[\"']?\s*[:=]\s*)[\"']?[^\s\"',;]{8,}",
                                  None, "medium", "high", "secret"),
    },
    "ml": {
        "huggingface_token": (r"\bhf_[A-Za-z]{34}\b", None, "medium", "critical", "secret"),
        "wandb_api_key": (r"(?i:wandb_api_key)\s*[:=]\s*[0-9a-f]{40}", None, "medium", "critical", "secret"),
    },
}


# Every rule's name, as findings and summaries carry it (labels for them live with the formatting of figures).
RULE_NAMES: tuple[str, ...] = (*_RULES, *(name for rules in _PACK_RULES.values() for name in rules))


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    severity: str
    span_id: str | None
    field: str
    path: str
    offset: int
    length: int
    masked: str

    @property
    def violation(self) -> bool:
        return self.severity in VIOLATION

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "severity": self.severity, "span_id": self.span_id, "field": self.field,
                "path": self.path, "offset": self.offset, "length": self.length, "masked": self.masked}


# Cheap tests that must pass before a rule's regex runs at all: lower-cased literals found with `in`
# ("0" stands for any digit). Most text (prompts, prose) triggers nothing and is never regex-scanned.
_TRIGGERS: dict[str, frozenset[str]] = {name: frozenset(triggers) for name, triggers in {
    "private_key": ("-----begin",), "aws_access_key": ("akia", "asia"), "aws_secret_key": ("aws_secret_access_key",),
    "openai_api_key": ("sk-",), "github_token": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    "slack_token": ("xox", "hooks.slack.com"), "google_api_key": ("aiza",), "stripe_key": ("_live_",), "jwt": ("eyj",),
    "iban": ("0",), "payment_card": ("0",), "us_ssn": ("0",), "phone": ("0",), "email": ("@",),
    "account_number": ("account", "acct"), "routing_number": ("routing", "aba"),
    "prompt_injection": ("ignore", "disregard", "reveal", "you are now"),
    "credential_assignment": ("password", "passwd", "pwd", "secret", "api_key", "apikey", "token"),
    "huggingface_token": ("hf_",), "wandb_api_key": ("wandb_api_key",),
}.items()}
_LITERALS = tuple(sorted({t for ts in _TRIGGERS.values() for t in ts if t != "0"}))
_HAS_DIGIT = re.compile(r"\d")


Hit = tuple[str, int, int, str]  # rule, start, end, matched text
_CACHE_FROM_CHARS = 512  # long strings (system prompts, shared context) repeat across spans and runs
_CACHE_SIZE = 2048


class _Scanner:
    """One alternation regex over the rules a text triggers, compiled once per combination of rules."""

    def __init__(self, rules: dict[str, Rule]):
        self.rules = rules
        self.literals = tuple(sorted({t for name in rules for t in _TRIGGERS[name] if t != "0"}))
        self.compiled: dict[tuple[str, ...], tuple[re.Pattern[str], tuple[str, ...]]] = {}
        self.cache: dict[str, list[Hit]] = {}

    def _regex(self, names: tuple[str, ...]) -> tuple[re.Pattern[str], tuple[str, ...]]:
        if names not in self.compiled:
            pattern = "|".join(f"(?P<r{n}>{self.rules[name][0]})" for n, name in enumerate(names))
            self.compiled[names] = (re.compile(pattern), names)
        return self.compiled[names]

    def matches(self, text: str) -> list[Hit]:
        if len(text) < _CACHE_FROM_CHARS:
            return self._scan(text)
        hits = self.cache.get(text)
        if hits is None:
            if len(self.cache) >= _CACHE_SIZE:
                self.cache.clear()
            hits = self.cache[text] = self._scan(text)
        return hits

    def _scan(self, text: str) -> list[Hit]:
        lowered = text.lower()
        found = {t for t in self.literals if t in lowered}
        if _HAS_DIGIT.search(text):
            found.add("0")
        if not found:
            return []
        triggered = tuple(name for name in self.rules if not found.isdisjoint(_TRIGGERS[name]))
        if not triggered:
            return []
        regex, names = self._regex(triggered)
        hits = []
        for match in regex.finditer(text):
            name = names[int(match.lastgroup[1:])]  # type: ignore[index]
            validator = self.rules[name][1]
            if validator is None or validator(match.group()):
                hits.append((name, match.start(), match.end(), match.group()))
        return hits


_SCANNERS: dict[tuple[str, ...], _Scanner] = {}


def _scanner(packs: tuple[str, ...]) -> _Scanner:
    if packs not in _SCANNERS:
        rules = dict(_RULES)
        for pack in packs:
            rules.update(_PACK_RULES[pack])
        _SCANNERS[packs] = _Scanner(rules)
    return _SCANNERS[packs]


def packs_for(domain: str | None, extra: tuple[str, ...] | list[str] | None = None) -> tuple[str, ...]:
    """The domain packs that apply: the trace's domain plus any the organisation turned on."""
    chosen = set(extra or ())
    if domain in DOMAIN_PACKS:
        chosen.add(domain)  # type: ignore[arg-type]
    unknown = chosen - set(DOMAIN_PACKS)
    if unknown:
        raise ValueError(f"unknown domain packs: {sorted(unknown)}")
    return tuple(sorted(chosen))


def mask(rule: str, raw: str) -> str:
    """A masked form that identifies the kind and, for PII, keeps the usual last digits; never the value."""
    kind = _kind(rule)
    if kind == "secret":
        return f"{raw[:4]}…[{len(raw)} chars redacted]"
    if rule == "email":
        local, _, domain = raw.partition("@")
        return f"{local[:1]}***@{domain}"
    if rule in ("payment_card", "us_ssn", "iban", "account_number", "routing_number"):
        digits = re.sub(r"\W", "", raw)
        tail = digits[-4:] if len(digits) >= 12 else ""
        return f"[{rule}]***{tail}"
    if kind == "injection":
        return f"[{rule}: {len(raw)} chars]"
    return f"[{rule}]"


def _kind(rule: str) -> str:
    if rule in _RULES:
        return _RULES[rule][4]
    return next(rules[rule][4] for rules in _PACK_RULES.values() if rule in rules)


def _fields(trace: Trace) -> Iterator[tuple[str | None, str, Any, bool]]:
    """(span id, field, value, outgoing) for every place data can sit in a run."""
    yield None, "input", trace.input, False
    yield None, "output", trace.output, True
    if trace.error is not None:
        yield None, "error", trace.error.message, True
    for span in trace.spans:
        yield span.span_id, "input", span.input, False
        yield span.span_id, "output", span.output, True
        if span.error is not None:
            yield span.span_id, "error", span.error.message, True


def scan(trace: Trace, packs: tuple[str, ...] = ()) -> list[Finding]:
    scanner = _scanner(packs)
    findings: list[Finding] = []
    for span_id, field, value, outgoing in _fields(trace):
        for path, text in strings(value):
            if len(text) < 6:
                continue
            for rule, begin, end, raw in scanner.matches(text):
                _, _, sev_in, sev_out, kind = scanner.rules[rule]
                severity = sev_out if outgoing else sev_in
                if kind == "injection" and not (span_id and field == "output"):
                    continue  # injection matters where a tool feeds text back to the model
                findings.append(Finding(rule, severity, span_id, field, path, begin, end - begin, mask(rule, raw)))
    return findings


def summary(findings: list[Finding]) -> dict[str, Any]:
    by_rule: dict[str, int] = {}
    for f in findings:
        by_rule[f.rule] = by_rule.get(f.rule, 0) + 1
    worst = max((SEVERITIES.index(f.severity) for f in findings), default=-1)
    return {"passed": not any(f.violation for f in findings), "count": len(findings), "by_rule": by_rule,
            "worst_severity": SEVERITIES[worst] if worst >= 0 else None,
            "findings": [f.as_dict() for f in findings[:100]]}


def mask_pii(obj: Any, packs: tuple[str, ...] = ()) -> Any:
    """A copy of any JSON value with every detected secret or personal datum replaced by its masked form."""
    scanner = _scanner(packs)

    def masked(text: str) -> str:
        if len(text) < 6:
            return text
        pieces, last = [], 0
        for rule, begin, end, raw in scanner.matches(text):
            pieces += [text[last:begin], mask(rule, raw)]
            last = end
        return "".join(pieces) + text[last:] if pieces else text

    return map_strings(obj, masked)
