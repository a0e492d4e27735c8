"""How the progress table's figures read, in one place: the API's `text`, the pages and the CLI show it."""

from __future__ import annotations

from typing import Any

from arcweb.formatting import duration, share, usd

LABELS = {"reliability": "Reliability", "cost_per_run_usd": "Cost per run", "tool_success": "Tool success",
          "compliance": "Compliance", "latency_ms": "Latency"}


def figure(metric: str, value: Any, of: int | None = None) -> str:
    if value is None:
        return "—"
    if metric in ("reliability", "tool_success"):
        return share(value)
    if metric == "cost_per_run_usd":
        return usd(value)
    if metric == "compliance":
        return f"{int(value)}/{of}"
    return duration(value)


def change(row: dict[str, Any]) -> str:
    """+16pp for rates, −62% for cost and latency, +3 for compliance counts."""
    before, after, metric = row["before"], row["after"], row["metric"]
    if before is None or after is None:
        return ""
    if metric in ("reliability", "tool_success"):
        return f"{(float(after) - float(before)) * 100:+.0f}pp".replace("-", "−")
    if metric == "compliance":
        return f"{int(after) - int(before):+d}".replace("-", "−")
    if float(before) == 0:
        return ""
    return f"{(float(after) - float(before)) / float(before) * 100:+.0f}%".replace("-", "−")


def progress_text(row: dict[str, Any]) -> str:
    """'Reliability 73% → 89% (+16pp, significant)'."""
    of = row.get("of")
    text = f"{LABELS.get(row['metric'], row['metric'])} {figure(row['metric'], row['before'], of)} → " \
           f"{figure(row['metric'], row['after'], of)}"
    notes = [n for n in (change(row), "significant" if row["significant"] else "") if n]
    return text + (f" ({', '.join(notes)})" if notes else "")



def judge_text(difference: dict[str, Any]) -> str:
    """'Judge correctness 50% → 100% (+50pp, 2 fixed, 0 broke, p = 0.5000, significant)'."""
    rates = {"metric": "reliability", "before": difference["pass_rate_before"], "after": difference["pass_rate_after"]}
    test = difference["mcnemar"]
    notes = [change(rates), f"{test['fixed']} fixed, {test['broke']} broke, p = {test['p_value']:.4f}",
             "significant" if difference["significant"] else ""]
    return f"Judge {difference['name']} {share(rates['before'])} → {share(rates['after'])} " \
           f"({', '.join(n for n in notes if n)})"
