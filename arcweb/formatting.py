"""How every figure is written: money, durations, percentages, grades' colours and the names the engine uses.

One module for the pages (through the `workbench` template filters), the report pages and PDF, badges and the
`display` strings the API hands the CLI, so a figure reads the same wherever it is shown. Labels are keyed by
the engine's own names (`failures.TAXONOMY`, `compliance.RULE_NAMES`, the metrics of `compare.compare`; a
test holds them to it); a name without a label is written as words, never dropped.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.safestring import mark_safe

DASH = "—"

CATEGORY_LABELS: dict[str, str] = {
    "tool_timeout": "Tool timeout", "llm_timeout": "Model timeout", "rate_limit": "Rate limit",
    "auth_error": "Authentication error",
    "context_length_exceeded": "Context length exceeded", "unknown_tool": "Unknown tool",
    "invalid_tool_arguments": "Invalid tool arguments", "output_parse_error": "Output parse error",
    "max_iterations": "Max iterations", "infinite_loop": "Infinite loop", "network_error": "Network error",
    "tool_error": "Tool error", "llm_error": "Model error", "agent_error": "Agent error",
    "compliance_violation": "Compliance violation", "empty_output": "Empty output", "wrong_answer": "Wrong answer",
}
RULE_LABELS: dict[str, str] = {  # nosec B105 - names of the rules that find secrets, not secrets
    "private_key": "Private key", "aws_access_key": "AWS access key", "aws_secret_key": "AWS secret key",
    "openai_api_key": "OpenAI API key", "github_token": "GitHub token", "slack_token": "Slack token",
    "google_api_key": "Google API key", "stripe_key": "Stripe key", "jwt": "JWT", "iban": "IBAN",
    "payment_card": "Card number", "us_ssn": "US SSN", "email": "E-mail address", "phone": "Phone number",
    "account_number": "Account number", "routing_number": "Routing number", "prompt_injection": "Prompt injection",
    "credential_assignment": "Credential in text", "huggingface_token": "Hugging Face token",
    "wandb_api_key": "W&B API key",
}
METRIC_LABELS: dict[str, str] = {
    "reliability": "Reliability", "cost_per_run_usd": "Cost per run", "tool_success": "Tool success",
    "latency_ms": "Latency (mean)", "compliance_passed": "Compliance passed",
}
RATE_METRICS = frozenset({"reliability", "tool_success", "compliance_passed"})


def humanise(name: Any) -> str:
    """snake_case as words: tool_accuracy → Tool accuracy."""
    text = str(name or "").replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def category_label(code: Any) -> str:
    return CATEGORY_LABELS.get(str(code)) or humanise(code)


def rule_label(code: Any) -> str:
    return RULE_LABELS.get(str(code)) or humanise(code)


def metric_label(code: Any) -> str:
    return METRIC_LABELS.get(str(code)) or humanise(code)


def _number(value: Any) -> float | None:
    try:
        return None if value in (None, "") else float(value)
    except (TypeError, ValueError):
        return None


def percent(points: Any, places: int | None = None) -> str:
    """A figure already in percent: 94.25 → "94.3%", 94.0 → "94%"; `places` fixes the decimals."""
    value = _number(points)
    if value is None:
        return DASH
    if places is not None:
        return f"{value:.{places}f}%"
    text = f"{value:.1f}"
    return (text[:-2] if text.endswith(".0") else text) + "%"


def share(fraction: Any, places: int = 0) -> str:
    """A fraction as a percentage: 0.68 → "68%"."""
    value = _number(fraction)
    return DASH if value is None else f"{value * 100:.{int(places)}f}%"


def usd(value: Any, places: int | None = None) -> str:
    """Dollars, exact from Decimal: "$1,234.56" from a dollar up, three significant digits below ("$0.00213").

    `places` fixes the decimals ("$12.30"), except that an amount it would round to zero keeps its digits.
    """
    if value is None or value == "":
        return DASH
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return DASH
    if not amount.is_finite():
        return DASH
    size = abs(amount)
    if places is not None and (not size or size >= Decimal(1).scaleb(-int(places))):
        decimals = int(places)
    elif size >= 1 or not size:
        decimals = 2
    else:
        decimals = min(max(2 - size.adjusted(), 2), 8)
    sign = "-" if amount < 0 else ""
    return f"{sign}${size:,.{decimals}f}"


def duration(ms: Any) -> str:
    """Milliseconds as a reader wants them: 812 ms, 4.2 s, 3.1 min."""
    value = _number(ms)
    if value is None:
        return DASH
    sign, size = ("-" if value < 0 else ""), abs(value)
    if size < 1000:
        return f"{sign}{size:.0f} ms"
    if size < 60_000:
        return f"{sign}{size / 1000:.1f} s"
    return f"{sign}{size / 60_000:.1f} min"


def metric(name: str, value: Any, *, delta: bool = False) -> str:
    """A compare figure: rates as percentages (their deltas in points), money, durations; deltas signed."""
    if value is None:
        return DASH
    sign = "+" if delta and value > 0 else ""
    if name in RATE_METRICS:
        return f"{sign}{value * 100:.1f} pp" if delta else share(value, 1)
    if name == "cost_per_run_usd":
        return sign + usd(value)
    if name == "latency_ms":
        return sign + duration(value)
    return f"{sign}{value}"


def grade_class(grade: Any) -> str:
    """The CSS class that colours a grade by its letter."""
    return f"grade-{str(grade)[:1]}" if grade else ""


def svg(markup: str) -> str:
    """Chart or badge markup for a template. Safe by construction: `arcweb.charts` and `reports.badges` escape
    every text they draw, and this is the one place their output is marked safe."""
    return mark_safe(markup)  # noqa: S308  # nosec B308 B703
