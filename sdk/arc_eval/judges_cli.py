"""`arc-eval judges` (each judge with its spend and its agreement with the team's labels) and `arc-eval scores`
(a run's scores; `--add` posts your own)."""

from __future__ import annotations

import argparse
from typing import Any
from urllib.parse import quote

from .cli import OK, USAGE, CliError, _client, _emit, _results


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("judges", parents=[common], help="the judges, their spend and agreement with your labels")
    p.add_argument("judge", nargs="?", help="one judge's id: its costs, calibration and the runs it disagrees on")
    p.set_defaults(run=cmd_judges)

    p = sub.add_parser("scores", parents=[common], help="a run's scores (judges', humans', yours); --add posts one")
    p.add_argument("trace", help="the run's id")
    p.add_argument("--add", metavar="NAME", help="post a score with this name")
    p.add_argument("--value", type=float, help="the score, 0 to 1")
    p.add_argument("--passed", choices=("yes", "no"), help="pass or fail")
    p.add_argument("--reasoning", default="")
    p.set_defaults(run=cmd_scores)


def _agreement_line(agreement: dict[str, Any]) -> str:
    if not agreement.get("n"):
        return "no labelled run yet"
    trust = "calibrated" if agreement.get("calibrated") else f"uncalibrated (under {agreement.get('minimum_labelled')})"
    return (f"{agreement['n']} labelled · accuracy {agreement.get('accuracy')} · kappa {agreement.get('kappa')} "
            f"[{agreement.get('kappa_low')}, {agreement.get('kappa_high')}] · {trust}")


def cmd_judges(args: argparse.Namespace) -> int:
    client = _client(args)
    if args.judge:
        judge = client.get(f"/api/v1/judges/{quote(args.judge, safe='')}")
        agreement = judge.get("agreement") or {}
        lines = [f"{judge.get('name')} ({judge.get('template')}, {judge.get('model')}, mode {judge.get('mode')})",
                 f"  judged {judge.get('judged')} · today ${judge.get('spend_today_usd')} · this month "
                 f"${judge.get('spend_month_usd')} · per judged run ${judge.get('cost_per_judged_run_usd') or '—'}",
                 f"  uncertain mode saved ${judge.get('uncertain_saved_usd')} this month",
                 f"  agreement: {_agreement_line(agreement)}"]
        lines += [f"  disagrees on {t}" for t in agreement.get("disagreeing_trace_ids") or []]
        _emit(args, judge, lines)
        return OK
    judges = _results(client.get("/api/v1/judges"))
    budget = client.get("/api/v1/judging-budget")
    ceiling = f"${budget.get('daily_budget_usd')} a day" if budget.get("daily_budget_usd") is not None else "none"
    lines = [f"{len(judges)} judge(s) · organisation budget {ceiling} · spent today ${budget.get('spend_today_usd')}"] + [
        f"  {j.get('id')}  {j.get('name')}: {j.get('template')} on {', '.join(j.get('agents') or []) or 'every agent'}"
        f" · sample {j.get('sample_rate')} · mode {j.get('mode')}{'' if j.get('enabled') else ' · off'}" for j in judges]
    _emit(args, judges, lines)
    return OK


def cmd_scores(args: argparse.Namespace) -> int:
    client = _client(args)
    path = f"/api/v1/traces/{quote(args.trace, safe='')}/scores"
    if args.add:
        if args.value is None and args.passed is None:
            raise CliError("give --value (0 to 1) or --passed", USAGE)
        body = {"name": args.add, "value": args.value, "reasoning": args.reasoning,
                "passed": None if args.passed is None else args.passed == "yes"}
        score = client.post(path, body)
        _emit(args, score, [f"added {score.get('name')} = {score.get('value')} to {args.trace}"])
        return OK
    scores = _results(client.get(path))
    lines = [f"{len(scores)} score(s) on {args.trace}"]
    for s in scores:
        verdict = {True: "pass", False: "fail"}.get(s.get("passed"), "—")
        result = verdict if s.get("status") == "done" else f"{s.get('status')}: {s.get('status_reason')}"
        cost = f" · ${s['cost_usd']}" if s.get("cost_usd") is not None else ""
        lines.append(f"  {s.get('name')} ({s.get('source')}): {result} · value {s.get('value')}{cost}")
    _emit(args, scores, lines)
    return OK
