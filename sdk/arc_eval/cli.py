"""`arc-eval`: the command line for Arc Eval.

Exit codes: 0 ok, 1 the command ran and found problems (failed uploads, violations, regressions),
2 usage error, 3 the server could not be reached, 4 the API key was refused.
"""

from __future__ import annotations

import argparse
import ast
import getpass
import json
import os
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional
from urllib.parse import quote

from . import config
from ._version import __version__
from .client import ApiClient, ApiError

OK, FOUND_PROBLEMS, USAGE, UNREACHABLE, AUTH = 0, 1, 2, 3, 4
MAX_ITEMS = 1000
MAX_BYTES = 9 * 1024 * 1024


class CliError(Exception):
    def __init__(self, message: str, code: int = FOUND_PROBLEMS) -> None:
        super().__init__(message)
        self.code = code


def _client(args: argparse.Namespace) -> ApiClient:
    key, url = config.resolve(args.key, args.url)
    if not key:
        raise CliError("no API key: run `arc-eval login` or set ARC_API_KEY", AUTH)
    return ApiClient(url, key)


def _emit(args: argparse.Namespace, data: Any, lines: list[str]) -> None:
    if args.json:
        print(json.dumps(data, indent=2, default=str))
    else:
        print("\n".join(lines))


def _results(page: Any) -> list[Any]:
    if isinstance(page, dict):
        return list(page.get("results") or [])
    return list(page or [])


def _trace_id(row: dict[str, Any]) -> str:
    return str(row.get("id") or row.get("trace_id"))


def _mark(ok: Any) -> str:
    return "PASS" if ok else "FAIL"


def _wait_for_analysis(client: ApiClient, trace_id: str, wait: float) -> Any:
    deadline = time.monotonic() + wait
    while True:
        analysis = client.get(f"/api/v1/traces/{trace_id}/analysis")
        pending = isinstance(analysis, dict) and str(analysis.get("status", "done")).lower() in (
            "pending", "queued", "running")
        if not pending or time.monotonic() >= deadline:
            return analysis
        time.sleep(0.5)


def _details(analysis: dict[str, Any]) -> dict[str, Any]:
    details = analysis.get("details")
    return details if isinstance(details, dict) else {}


def _analysis_lines(trace_id: str, analysis: Any) -> list[str]:
    if not isinstance(analysis, dict):
        return [f"trace {trace_id}: {analysis}"]
    success = analysis.get("verdict", analysis.get("success"))
    verdict = "SUCCESS" if success else "FAILURE" if success is False else str(analysis.get("status", "?")).upper()
    details = _details(analysis)
    lines = [f"── trace {trace_id} ── {verdict}"]
    if analysis.get("score") is not None:
        lines.append(f"  score: {analysis['score']:g}/100 (grade {analysis.get('grade') or '?'})")
    headline = (details.get("cost") or {}).get("headline") or {}
    if headline.get("text"):
        # the headline reads "cost $0.0012/run, 20% reduction possible"
        lines.append(f"  cost: {str(headline['text']).removeprefix('cost ')}")
    if analysis.get("duration_ms") is not None:
        lines.append(f"  latency: {analysis['duration_ms'] / 1000:.2f}s")
    tools = analysis.get("tools") or details.get("tools") or []
    for tool in tools if isinstance(tools, list) else []:
        if isinstance(tool, dict):
            wrong = [f"{tool[k]} {label}" for k, label in (("unknown_calls", "unknown"), ("invalid_calls", "invalid"))
                     if tool.get(k)]
            p50 = f", p50 {tool['p50_ms'] / 1000:.2f}s" if isinstance(tool.get("p50_ms"), (int, float)) else ""
            lines.append(f"  tool {tool.get('name')}: {tool.get('calls', 0)} call(s), {tool.get('failures', 0)} failed"
                         + (f" ({', '.join(wrong)})" if wrong else "") + p50)
    shown: set[str] = set()
    failure = details.get("failure")
    if isinstance(failure, dict):
        where = f" at {failure['step']}" if failure.get("step") else ""
        lines.append(f"  ✗ {failure.get('category', 'failure')}{where}: {failure.get('message', '')}")
        shown.add(str(failure.get("message", "")))
    for issue in details.get("issues") or []:
        if isinstance(issue, dict) and issue.get("message") and str(issue["message"]) not in shown:
            shown.add(str(issue["message"]))
            where = f" in {issue['name']}" if issue.get("name") else ""
            lines.append(f"  • {issue.get('category', 'issue')}{where}: {issue['message']}")
    for finding in (details.get("compliance") or {}).get("findings") or []:
        if isinstance(finding, dict):
            lines.append(f"  ⚠ {finding.get('rule')} ({finding.get('severity')}) in {finding.get('field')}: "
                         f"{finding.get('masked')}")
    return lines


# -- login / trace --------------------------------------------------------------------------------------------
def cmd_login(args: argparse.Namespace) -> int:
    stored = config.load_config()
    key = args.key or os.environ.get("ARC_API_KEY") or getpass.getpass("Arc Eval API key: ").strip()
    url = (args.url or os.environ.get("ARC_BASE_URL") or stored.get("base_url") or config.DEFAULT_BASE_URL).rstrip("/")
    if not key:
        raise CliError("no key given", USAGE)
    if not args.no_verify:
        ApiClient(url, key, retries=0).get("/api/v1/agents", limit=1)
    path = config.save_config({**stored, "api_key": key, "base_url": url})
    _emit(args, {"base_url": url, "config": str(path), "verified": not args.no_verify},
          [f"✓ Logged in to {url}" + ("" if args.no_verify else " (key verified)"), f"  saved to {path} (mode 600)"])
    return OK


def _find_function(tree: ast.Module, dotted: str) -> Optional[ast.AST]:
    """The function `name` (anywhere in the file) or the method `Class.method` (`Outer.Inner.method`)."""
    *classes, name = dotted.split(".")
    candidates: list[ast.AST] = list(ast.walk(tree))
    for class_name in classes:
        found_class = next((n for n in candidates if isinstance(n, ast.ClassDef) and n.name == class_name), None)
        if found_class is None:
            return None
        candidates = list(found_class.body)
    return next((n for n in candidates if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name),
                None)


def cmd_trace(args: argparse.Namespace) -> int:
    path = Path(args.agent_file)
    try:
        tree = ast.parse(path.read_text(), filename=str(path))
    except (OSError, SyntaxError) as exc:
        raise CliError(f"cannot read {path}: {exc}", USAGE) from None
    found = _find_function(tree, args.function)
    classes = args.function.split(".")[:-1]
    if found is None:
        raise CliError(f"no function or method named {args.function!r} in {path} "
                       f"(a method is written Class.method)", USAGE)
    agent_id = args.agent_id or re.sub(r"[._]+", "-", args.function).lower()
    kind = "async def" if isinstance(found, ast.AsyncFunctionDef) else "def"
    line = found.decorator_list[0].lineno if found.decorator_list else found.lineno
    indent = "    " * len(classes)
    params = "self, ..." if classes else "..."
    snippet = [
        f"# {path}, line {line}: add two lines",
        "from arc_eval import trace_agent",
        "",
        *(f"{'    ' * depth}class {name}:" for depth, name in enumerate(classes)),
        f'{indent}@trace_agent(agent_id="{agent_id}")',
        f"{indent}{kind} {found.name}({params}):",
        f"{indent}    ...",
        "",
        "# then: export ARC_API_KEY=<your key>   (or run `arc-eval login`)",
    ]
    _emit(args, {"file": str(path), "function": args.function, "line": line, "agent_id": agent_id,
                 "code": "\n".join(snippet[1:-2])}, snippet)
    return OK


# -- upload -------------------------------------------------------------------------------------------------------
def _files(paths: list[str]) -> Iterator[Path]:
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix in (".json", ".jsonl", ".ndjson") and p.is_file())
        else:
            yield path


def _is_lines(path: Path) -> bool:
    return path.suffix in (".jsonl", ".ndjson")


def _problem(path: Any, where: Optional[str], detail: str) -> str:
    """Every problem of a file reads the same way: `file: line 3: detail` (or `item 3`, or no position)."""
    return ": ".join(str(part) for part in (path, where, detail) if part)


def _where(path: Path, position: int) -> str:
    return f"line {position}" if _is_lines(path) else f"item {position}"


def _records(path: Path) -> tuple[list[tuple[int, Any]], list[str]]:
    """(position, trace) pairs of a file — position is the line for JSONL, the index for JSON — and errors."""
    text = path.read_text(encoding="utf-8")
    if _is_lines(path):
        records, errors = [], []
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    records.append((number, json.loads(line)))
                except ValueError as exc:
                    errors.append(_problem(path, f"line {number}", f"invalid JSON: {exc.msg}"))
        return records, errors
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return [], [_problem(path, f"line {exc.lineno}", f"invalid JSON: {exc.msg}")]
    if isinstance(data, dict) and isinstance(data.get("traces"), list):
        data = data["traces"]
    items = data if isinstance(data, list) else [data]
    return list(enumerate(items)), []


class _Progress:
    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.done, self.enabled = total, 0, enabled and total > 0

    def advance(self, n: int, label: str) -> None:
        self.done += n
        if self.enabled:
            width = 30
            filled = int(width * self.done / self.total)
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} {label[-40:]:<40}")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def _load_state(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def cmd_upload(args: argparse.Namespace) -> int:
    client = _client(args)
    state_path = Path(args.state)
    state: dict[str, Any] = {} if args.restart else _load_state(state_path)
    files_state: dict[str, Any] = state.setdefault("files", {})
    errors: list[str] = []
    pending: list[tuple[str, int, Any]] = []  # (file key, position, trace)
    given: dict[str, Path] = {}  # file key -> the path as the user named it, for messages
    skipped = 0
    for path in _files(args.paths):
        try:
            stat = path.stat()
            records, file_errors = _records(path)
        except (OSError, UnicodeDecodeError) as exc:
            errors.append(_problem(path, None, getattr(exc, "strerror", None) or str(exc)))
            continue
        errors.extend(file_errors)
        key = str(path.resolve())
        given[key] = path
        seen = files_state.get(key)
        fingerprint = {"size": stat.st_size, "mtime": stat.st_mtime}
        if not seen or {k: seen.get(k) for k in fingerprint} != fingerprint:
            seen = files_state[key] = {**fingerprint, "done": []}  # new or changed: from the start
        done = set(seen["done"])
        skipped += sum(1 for position, _ in records if position in done)
        pending.extend((key, position, trace) for position, trace in records if position not in done)

    progress = _Progress(len(pending), not args.json and not args.no_progress)
    sent = rejected = 0
    results: list[dict[str, Any]] = []
    try:
        for batch in _batches(pending):
            try:
                answer = client.post("/api/v1/traces", [trace for _, _, trace in batch])
            except ApiError as exc:
                if exc.status != 400 or not isinstance(exc.body, dict) or "errors" not in exc.body:
                    raise
                answer = exc.body  # every item of the batch was refused: report them per line below
            for error in answer.get("errors") or []:
                key, position, _ = batch[error.get("index", 0)]
                errors.append(_problem(given[key], _where(given[key], position),
                                       f"{error.get('field', '$')}: {error.get('message', 'refused')}"))
                rejected += 1
            for item in answer.get("traces") or []:
                key, position, _ = batch[item.get("index", 0)]
                results.append({"file": key, "position": position, "id": item.get("id"), "url": item.get("url")})
            sent += int(answer.get("accepted", 0) or 0)
            for key, position, _ in batch:  # refused items are done too: sending them again cannot help
                files_state[key]["done"].append(position)
            _save_state(state_path, state)
            progress.advance(len(batch), Path(batch[-1][0]).name)
    finally:
        progress.close()
    summary = {"sent": sent, "rejected": rejected, "skipped": skipped, "errors": errors, "traces": results,
               "state": str(state_path)}
    lines = [f"✓ Uploaded {sent} trace(s)" + (f", skipped {skipped} already sent" if skipped else "")]
    if errors:
        lines.append(f"✗ {len(errors)} problem(s):")
        lines.extend(f"  {e}" for e in errors[:50])
        if len(errors) > 50:
            lines.append(f"  … and {len(errors) - 50} more (see --json)")
    _emit(args, summary, lines)
    return FOUND_PROBLEMS if errors else OK


def _batches(pending: list[tuple[str, int, Any]]) -> Iterator[list[tuple[str, int, Any]]]:
    batch: list[tuple[str, int, Any]] = []
    size = 0
    for record in pending:
        item_size = len(json.dumps(record[2], default=str))
        if batch and (len(batch) >= MAX_ITEMS or size + item_size > MAX_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(record)
        size += item_size
    if batch:
        yield batch


def _save_state(path: Path, state: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(state))
    tmp.replace(path)  # atomic: an interrupted upload never leaves a half-written state


# -- analysis commands --------------------------------------------------------------------------------------
def _recent(client: ApiClient, args: argparse.Namespace, **filters: Any) -> list[dict[str, Any]]:
    rows = client.paginate("/api/v1/traces", limit=args.limit, agent=getattr(args, "agent", None), **filters)
    return [r for r in rows if isinstance(r, dict)]


def cmd_debug(args: argparse.Namespace) -> int:
    client = _client(args)
    if args.input:
        records, errors = _records(Path(args.input))
        if errors or not records:
            raise CliError("; ".join(errors) or f"{args.input}: no traces", USAGE)
        answer = client.post("/api/v1/traces", [trace for _, trace in records])
        for error in answer.get("errors") or []:
            print(f"✗ item {error.get('index')}: {error.get('field')}: {error.get('message')}", file=sys.stderr)
        ids = [str(t["id"]) for t in answer.get("traces") or []]
    else:
        ids = [_trace_id(r) for r in _recent(client, args)]
    if not ids:
        raise CliError("no traces to debug" + (f" for agent {args.agent}" if args.agent else ""))
    analyses = {i: _wait_for_analysis(client, i, args.wait) for i in ids}
    lines = []
    for trace_id, analysis in analyses.items():
        lines.extend(_analysis_lines(trace_id, analysis))
    failing = [i for i, a in analyses.items()
               if isinstance(a, dict) and a.get("verdict", a.get("success")) is False]
    lines.append(f"\n{len(ids) - len(failing)}/{len(ids)} run(s) succeeded")
    _emit(args, {"analyses": analyses, "failing": failing}, lines)
    return FOUND_PROBLEMS if failing else OK


def cmd_compliance(args: argparse.Namespace) -> int:
    client = _client(args)
    rows = _recent(client, args, domain=args.domain)
    rules: dict[str, dict[str, Any]] = {}
    failed_runs = 0
    for row in rows:
        analysis = client.get(f"/api/v1/traces/{_trace_id(row)}/analysis")
        summary = _details(analysis).get("compliance") if isinstance(analysis, dict) else None
        if not isinstance(summary, dict):
            continue
        failed_runs += not summary.get("passed", True)
        for finding in summary.get("findings") or []:
            if not isinstance(finding, dict):
                continue
            entry = rules.setdefault(str(finding.get("rule")), {"rule": finding.get("rule"), "findings": 0,
                                                                 "severity": finding.get("severity"), "examples": []})
            entry["findings"] += 1
            if len(entry["examples"]) < 3:
                entry["examples"].append({"trace": _trace_id(row), "field": finding.get("field"),
                                          "masked": finding.get("masked")})
    lines = [f"Compliance for domain {args.domain}: {len(rows)} recent run(s), {failed_runs} failed a rule"]
    for entry in rules.values():
        lines.append(f"  {entry['rule']:<28} {entry['severity'] or '':<9} {entry['findings']} finding(s)")
        lines.extend(f"        trace {e['trace']} {e['field']}: {e['masked']}" for e in entry["examples"])
    lines.append("✓ no violations" if not failed_runs else f"✗ {failed_runs} run(s) with violations")
    _emit(args, {"domain": args.domain, "runs": len(rows), "failed_runs": failed_runs,
                 "rules": list(rules.values())}, lines)
    return FOUND_PROBLEMS if failed_runs else OK


def cmd_improve(args: argparse.Namespace) -> int:
    client = _client(args)
    rows = _recent(client, args, success="false")
    seen: dict[str, dict[str, Any]] = {}
    for row in rows:
        answer = client.get(f"/api/v1/traces/{_trace_id(row)}/improvements")
        for fix in (answer.get("fixes") or []) if isinstance(answer, dict) else _results(answer):
            title = str(fix.get("title", fix)) if isinstance(fix, dict) else str(fix)
            entry = seen.setdefault(title, {**(fix if isinstance(fix, dict) else {"title": title}), "traces": []})
            entry["traces"].append(_trace_id(row))
    lines = [f"{len(seen)} improvement(s) from {len(rows)} failing run(s)"]
    for n, fix in enumerate(seen.values(), 1):
        impact = fix.get("impact")
        # the same figure as the pattern page: points of reliability the agent gains if the fix removes the pattern
        gain = f" [+{impact['reliability_pp']:g} pts reliability]" if isinstance(impact, dict) and \
            isinstance(impact.get("reliability_pp"), (int, float)) and impact["reliability_pp"] > 0 else ""
        lines.append(f"\n{n}. {fix.get('title')}{gain}  (seen in {len(fix['traces'])} run(s))")
        if fix.get("description"):
            lines.append(f"   why: {fix['description']}")
        if fix.get("code"):
            lines.extend("   │ " + line for line in str(fix["code"]).splitlines())
    _emit(args, {"failing_runs": len(rows), "improvements": list(seen.values())}, lines)
    return OK


def cmd_scenarios(args: argparse.Namespace) -> int:
    client = _client(args)
    args.limit = 1
    rows = _recent(client, args, success="false")
    if not rows:
        raise CliError("no failed run found" + (f" for agent {args.agent}" if args.agent else ""))
    trace_id = _trace_id(rows[0])
    answer = client.get(f"/api/v1/traces/{trace_id}/scenarios")
    scenarios = (answer.get("scenarios") or []) if isinstance(answer, dict) else _results(answer)
    if args.out:
        Path(args.out).write_text(json.dumps(scenarios, indent=2))
    lines = [f"{len(scenarios)} test scenario(s) from the last failure (trace {trace_id})"]
    for n, scenario in enumerate(scenarios, 1):
        if isinstance(scenario, dict):
            lines.append(f"  {n}. {scenario.get('title') or scenario.get('name') or ''}")
            for key in ("input", "expected_behaviour"):
                if scenario.get(key) is not None:
                    lines.append(f"     {key}: {json.dumps(scenario[key], default=str)[:200]}")
        else:
            lines.append(f"  {n}. {scenario}")
    if args.out:
        lines.append(f"written to {args.out}")
    _emit(args, {"trace": trace_id, "scenarios": scenarios}, lines)
    return OK


def _moment(value: Any) -> str:
    return str(value or "")[:16].replace("T", " ")


def cmd_compare(args: argparse.Namespace) -> int:
    client = _client(args)
    result = client.get("/api/v1/compare", baseline=args.baseline, current=args.current, agent=args.agent)
    baseline, current = result.get("baseline") or {}, result.get("current") or {}
    lines = [f"{result.get('agent', '')}: baseline “{baseline.get('name', args.baseline)}” "
             f"({_moment(baseline.get('start'))} → {_moment(baseline.get('end'))} UTC) against {args.current} "
             f"({_moment(current.get('start'))} → {_moment(current.get('end'))} UTC)"]
    worse = []
    for metric in result.get("metrics") or []:
        shown = metric.get("display") or {}  # written by the server, as on the compare page
        lines.append(f"  {shown.get('label', ''):<18} {shown.get('before', ''):>10} → {shown.get('after', ''):<10} "
                     f"{shown.get('arrow') or ' '} {shown.get('delta', ''):<12} {shown.get('verdict', '')}")
        if metric.get("significant") and metric.get("better") is False:
            worse.append(shown.get("label", ""))
    lines.append("✗ significantly worse: " + ", ".join(worse) if worse else "✓ no significant regression")
    _emit(args, result, lines)
    return FOUND_PROBLEMS if worse else OK


def cmd_report(args: argparse.Namespace) -> int:
    client = _client(args)
    body: dict[str, Any] = {"agent": args.agent, "window": args.window}
    if args.share:
        body["share"] = True
    report = client.post("/api/v1/reports", body)
    report_id = report.get("id") if isinstance(report, dict) else None
    if not report_id:
        raise CliError("the server made no report")
    lines = [f"✓ Report {report_id}: {report.get('title') or args.agent}"]
    if report.get("page_url"):
        lines.append(f"  page:  {report['page_url']}  (for your organisation's members)")
    if report.get("share_url"):
        lines.append(f"  share: {report['share_url']}  (public link)")
        lines.append(f"  badge: {report['badge_url']}")
    else:
        lines.append("  share: not shared yet: run again with --share for a public link (an owner's or admin's key),"
                     " or share it from its page")
    out: dict[str, Any] = {"report": report}
    if args.pdf:
        pdf = _download_pdf(client, report_id, args.paper)
        Path(args.pdf).write_bytes(pdf)
        lines.append(f"  PDF written to {args.pdf} ({len(pdf):,} bytes)")
        out["pdf"] = args.pdf
    _emit(args, out, lines)
    return OK


def _download_pdf(client: ApiClient, report_id: str, paper: str, wait_seconds: float = 120.0) -> bytes:
    """The server answers 202 with {status, progress} while it renders the PDF: poll until the bytes come."""
    deadline = time.monotonic() + wait_seconds
    while True:
        payload = client.request("GET", f"/api/v1/reports/{report_id}/pdf", params={"paper": paper}, raw=True)
        if payload[:4] == b"%PDF":
            return payload
        if time.monotonic() > deadline:
            raise CliError("the PDF was not ready in time; try again later")
        time.sleep(1.0)


def _figure_line(row: dict[str, Any]) -> str:
    """The figures as the server writes them (its `display`), so the terminal reads like the pages."""
    shown = row.get("display") if isinstance(row.get("display"), dict) else {}
    if not row.get("runs"):
        return "no runs in the window"
    return (f"reliability {shown.get('reliability', '—')} (grade {shown.get('grade', '—')}) · "
            f"pass^k {shown.get('pass_k_best', '—')} · cost/run {shown.get('cost_per_run', '—')} · "
            f"tools {shown.get('tool_success', '—')} · p95 {shown.get('latency_p95', '—')} · "
            f"{shown.get('runs', row.get('runs'))} runs")


def cmd_agents(args: argparse.Namespace) -> int:
    client = _client(args)
    agents = client.paginate("/api/v1/agents", window=args.window)
    lines = [f"{len(agents)} agent(s), last {args.window}"]
    for agent in agents:
        lines.append(f"  {agent.get('name') or agent.get('id')}: {_figure_line(agent)}" if isinstance(agent, dict)
                     else f"  {agent}")
    _emit(args, agents, lines)
    return OK


def cmd_reliability(args: argparse.Namespace) -> int:
    client = _client(args)
    figures = client.get(f"/api/v1/agents/{quote(args.agent, safe='')}/reliability", window=args.window)
    shown = figures.get("display") or {}
    lines = [f"{figures.get('agent', args.agent)}, last {args.window}: {_figure_line(figures)}"]
    if figures.get("runs"):
        lines += [f"  95% interval {shown.get('interval', '—')}", f"  pass^k {shown.get('pass_k', '—')}",
                  f"  tool success {shown.get('tool_success', '—')} · latency p50 {shown.get('latency_p50', '—')}, "
                  f"p95 {shown.get('latency_p95', '—')} · cost in window {shown.get('cost_total', '—')}"]
    _emit(args, figures, lines)
    return OK


# -- parser -------------------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", help=f"server URL (default: ARC_BASE_URL, the login config, or "
                                      f"{config.DEFAULT_BASE_URL})")
    common.add_argument("--key", help="API key (default: ARC_API_KEY or the login config)")
    common.add_argument("--json", action="store_true", help="machine-readable output")

    parser = argparse.ArgumentParser(prog="arc-eval", description="Arc Eval from the terminal.")
    parser.add_argument("--version", action="version", version=f"arc-eval {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("login", parents=[common], help="store the API key and server URL")
    p.add_argument("--no-verify", action="store_true", help="do not check the key against the server")
    p.set_defaults(run=cmd_login)

    p = sub.add_parser("trace", parents=[common], help="print the code that traces an agent function")
    p.add_argument("--agent-file", required=True)
    p.add_argument("--function", required=True)
    p.add_argument("--agent-id")
    p.set_defaults(run=cmd_trace)

    p = sub.add_parser("upload", parents=[common], help="upload JSON / JSONL trace files or folders")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--state", default=".arc-upload-state.json", help="resume file (default: %(default)s)")
    p.add_argument("--restart", action="store_true", help="ignore the resume file and send everything")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(run=cmd_upload)

    p = sub.add_parser("debug", parents=[common], help="analyse recent runs or the traces in a file")
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--live", action="store_true", help="the latest runs on the server")
    mode.add_argument("--input", metavar="FILE", help="send FILE's traces and analyse them")
    p.add_argument("--agent")
    p.add_argument("--limit", type=int, default=5)
    p.add_argument("--wait", type=float, default=30.0, help="seconds to wait for pending analyses")
    p.set_defaults(run=cmd_debug)

    p = sub.add_parser("compliance", parents=[common], help="compliance rules over recent runs of a domain")
    p.add_argument("--domain", required=True)
    p.add_argument("--agent")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(run=cmd_compliance)

    p = sub.add_parser("improve", parents=[common], help="fixes suggested by recent failures")
    p.add_argument("--live", action="store_true", help="from the latest failing runs (the default)")
    p.add_argument("--agent")
    p.add_argument("--limit", type=int, default=20)
    p.set_defaults(run=cmd_improve)

    p = sub.add_parser("scenarios", parents=[common], help="test scenarios generated from a failure")
    p.add_argument("--from-last-failure", action="store_true", required=True)
    p.add_argument("--agent")
    p.add_argument("--out", help="also write the scenarios as JSON to this file")
    p.set_defaults(run=cmd_scenarios)

    p = sub.add_parser("compare", parents=[common], help="compare a baseline with the current runs")
    p.add_argument("--baseline", required=True, help="the baseline's name (or id)")
    p.add_argument("--current", required=True, help="a window (7d) or another baseline's name (or id)")
    p.add_argument("--agent", help="the agent, when several agents have a baseline of that name")
    p.set_defaults(run=cmd_compare)

    p = sub.add_parser("report", parents=[common], help="make a shareable report (and its PDF)")
    p.add_argument("--agent", required=True)
    p.add_argument("--window", default="30d")
    p.add_argument("--pdf", metavar="FILE")
    p.add_argument("--paper", choices=["a4", "letter"], default="a4")
    p.add_argument("--share", action="store_true", help="create a public link (keys of an owner or admin)")
    p.set_defaults(run=cmd_report)

    p = sub.add_parser("agents", parents=[common], help="the agents with their figures over a window")
    p.add_argument("--window", default="7d", help="24h, 7d, 30d (1h to 400d; default %(default)s)")
    p.set_defaults(run=cmd_agents)

    p = sub.add_parser("reliability", parents=[common], help="an agent's figures over a window")
    p.add_argument("--agent", required=True, help="agent name or id")
    p.add_argument("--window", default="7d", help="24h, 7d, 30d (1h to 400d; default %(default)s)")
    p.set_defaults(run=cmd_reliability)

    from .experiment_cli import add_parser as add_experiment_parser  # they import this module's helpers
    from .judges_cli import add_parsers as add_judges_parsers

    add_experiment_parser(sub, common)
    add_judges_parsers(sub, common)
    return parser


def main(argv: Optional[list[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except ApiError as exc:
        code = AUTH if exc.status in (401, 403) else UNREACHABLE if exc.status == 0 else FOUND_PROBLEMS
        _fail(args, str(exc), code)
        return code
    except CliError as exc:
        _fail(args, str(exc), exc.code)
        return exc.code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _fail(args: argparse.Namespace, message: str, code: int) -> None:
    if getattr(args, "json", False):
        print(json.dumps({"error": message, "exit_code": code}))
    print(f"error: {message}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
