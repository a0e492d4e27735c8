"""A report's snapshot turned into what its templates show: formatted figures and SVG charts.

The public page, the embed card, the org's detail page and the PDF all take their context from
`report_context`, so they show the same figures and the same charts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_datetime

from arcweb import charts
from arcweb.branding import logo_png, png_data_uri
from arcweb.formatting import (
    DASH,
    category_label,
    duration,
    metric,
    metric_label,
    percent,
    rule_label,
    svg,
    usd,
)


def _when(value: Any) -> datetime | None:
    return parse_datetime(value) if isinstance(value, str) else value


def _trend_text(trend: dict | None) -> tuple[str, str]:
    if not trend:
        return "No previous window", "flat"
    delta = trend.get("delta_pp", 0.0)
    sign = "+" if delta > 0 else ""
    note = "significant" if trend.get("significant") else "not significant"
    return f"{sign}{delta:.1f} pp vs previous window ({note})", trend.get("direction", "flat")


def _agent(entry: dict[str, Any], *, chart_width: int, chart_height: int) -> dict[str, Any]:
    f = entry["figures"]
    trend_text, direction = _trend_text(f.get("trend"))
    series = [(_when(label) or label, value) for label, value, _ in entry.get("series", [])]
    split = f.get("time_split") or {}
    compliance = entry.get("compliance") or {}
    runs = f.get("runs") or 0
    pass_k = [(k, v) for k, v in (f.get("pass_k") or {}).items()]
    tool_success = f.get("tool_success")
    baseline = entry.get("baseline")
    return {
        "name": entry["name"],
        "runs": runs,
        "reliability": percent(f.get("reliability") if runs else None),
        "interval": f"{percent(f.get('wilson_low'))} – {percent(f.get('wilson_high'))}" if runs else DASH,
        "grade": f.get("grade") or DASH,
        "trend_text": trend_text,
        "trend_direction": direction,
        "chart": svg(charts.line_chart(series, width=chart_width, height=chart_height, y_label="Reliability %",
                                             y_max=100, title=f"Reliability of {entry['name']} per day")),
        "pass_k": [{"k": k, "value": percent(100 * v) if v is not None else DASH} for k, v in pass_k],
        "pass_k_chart": svg(charts.bar_chart(
            [(f"pass^{k}", round(100 * v, 1) if v is not None else None) for k, v in pass_k],
            width=min(chart_width, 420), x_max=100, value_format="{:g}%", title="pass^k")),
        "cost_per_run": usd(f.get("cost_per_run_usd")),
        "cost_total": usd(f.get("cost_total_usd")),
        "reduction": f"{f.get('reduction_pct') or 0:g}%",
        "tool_success": percent(100 * tool_success) if tool_success is not None else DASH,
        "tool_calls": f.get("tool_calls") or 0,
        "tool_errors": f.get("tool_errors") or 0,
        "latency_p50": duration(f.get("latency_p50_ms")),
        "latency_p95": duration(f.get("latency_p95_ms")),
        "split_chart": svg(charts.stacked_bar(
            [("Model", split.get("llm", 0)), ("Tools", split.get("tool", 0)), ("Own code", split.get("own", 0))],
            width=min(chart_width, 420), title="Where the time goes")),
        "compliance_passed": percent(100 * (f.get("compliance_passed") or 0) / runs) if runs else DASH,
        "compliance_rules": [{"rule": rule_label(rule), "count": n}
                             for rule, n in (compliance.get("by_rule") or {}).items()],
        "compliance_findings": compliance.get("findings", 0),
        "patterns": [{**p, "category_label": category_label(p["category"]), "fix_applied_at": _when(p.get("fix_applied_at"))}
                     for p in entry.get("patterns", [])],
        "baseline": None if not baseline else {
            "name": baseline["name"], "start": _when(baseline["start"]), "end": _when(baseline["end"]),
            "metrics": [_metric(m) for m in baseline["metrics"]]},
    }


def _metric(row: dict[str, Any]) -> dict[str, Any]:
    name = row["metric"]
    return {"label": metric_label(name), "before": metric(name, row.get("before")),
            "after": metric(name, row.get("after")), "significant": row.get("significant"), "better": row.get("better")}


def report_context(snapshot: dict[str, Any], *, chart_width: int = 640, chart_height: int = 180) -> dict[str, Any]:
    headline = snapshot.get("headline") or {}
    window = snapshot.get("window") or {}
    runs = headline.get("runs") or 0
    return {
        "org_name": snapshot.get("organisation", ""),
        "org_logo_src": png_data_uri(logo_png(snapshot.get("organisation_logo"))),
        "engine_version": snapshot.get("engine_version", ""),
        "generated_at": _when(snapshot.get("generated_at")),
        "window_label": window.get("label", ""),
        "window_start": _when(window.get("start")),
        "window_end": _when(window.get("end")),
        "sections": set(snapshot.get("sections") or []),
        "headline": {
            "runs": runs,
            "reliability": percent(headline.get("reliability")) if runs else DASH,
            "grade": headline.get("grade") or DASH,
            "interval": f"{percent(headline.get('wilson_low'))} – {percent(headline.get('wilson_high'))}" if runs else DASH,
        },
        "agents": [_agent(e, chart_width=chart_width, chart_height=chart_height) for e in snapshot.get("agents", [])],
    }


def badge_figures(snapshot: dict[str, Any]) -> tuple[str, str | None]:
    """("94%", "A") for a badge, ("no data", None) when the window had no runs."""
    headline = snapshot.get("headline") or {}
    if not headline.get("runs"):
        return "no data", None
    return percent(headline.get("reliability")), headline.get("grade")
