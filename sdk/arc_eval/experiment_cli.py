"""`arc-eval experiment run`, `show` and `compare` (the CI gate: exit 1 on a significant regression)."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from typing import Any, Callable

from .cli import FOUND_PROBLEMS, OK, USAGE, CliError, _client, _emit
from .experiments import ExperimentError, run_experiment


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("experiment", help="run an agent over a dataset, compare two experiments")
    commands = parser.add_subparsers(dest="experiment_command", required=True, metavar="COMMAND")

    p = commands.add_parser("run", parents=[common], help="run an agent function on every item of a dataset")
    p.add_argument("--dataset", required=True, help="the dataset's name or id")
    p.add_argument("--agent-file", required=True, help="the Python file that defines the agent")
    p.add_argument("--function", required=True, help="the agent function: called with each item's input")
    p.add_argument("--repeats", type=int, default=1, help="runs of each item, for pass^k (default 1)")
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--name", help="the experiment's name (default: the dataset's name and the time)")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds an item may take (default 300)")
    p.add_argument("--resume", action="store_true", help="take up the unfinished experiment called --name")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(run=cmd_run)

    p = commands.add_parser("show", parents=[common], help="an experiment's figures, its judges' included")
    p.add_argument("experiment", help="the experiment's name or id")
    p.set_defaults(run=cmd_show)

    p = commands.add_parser("compare", parents=[common], help="compare two experiments on one dataset; exit 1 "
                                                              "when reliability regressed significantly")
    p.add_argument("a", help="the earlier experiment (name or id)")
    p.add_argument("b", help="the later experiment (name or id)")
    p.set_defaults(run=cmd_compare)


def load_function(path: Path, name: str) -> Callable[..., Any]:
    """The function `name` of the Python file `path`, imported as a module (its folder on sys.path)."""
    if not path.is_file():
        raise CliError(f"no file {path}", USAGE)
    sys.path.insert(0, str(path.resolve().parent))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise CliError(f"cannot import {path}", USAGE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise CliError(f"importing {path} failed: {type(exc).__name__}: {exc}", USAGE) from None
    fn = getattr(module, name, None)
    if not callable(fn):
        raise CliError(f"no function named {name!r} in {path}", USAGE)
    return fn


def cmd_run(args: argparse.Namespace) -> int:
    client = _client(args)
    agent = load_function(Path(args.agent_file), args.function)
    try:
        result = run_experiment(args.dataset, agent, repeats=args.repeats, concurrency=args.concurrency,
                                name=args.name, timeout=args.timeout, resume=args.resume,
                                progress=not args.json and not args.no_progress, api_key=client.api_key,
                                base_url=client.base_url)
    except (ExperimentError, ValueError) as exc:
        raise CliError(str(exc)) from None
    s = result.summary
    lines = [f"✓ experiment {result.name} on dataset version {result.dataset_version}",
             f"  success {_share(s.get('success_rate'))} ({s.get('passed')}/{s.get('runs')} runs), "
             f"pass^{s.get('k')} {_share(s.get('pass_k'))}, {s.get('errors')} raised or timed out",
             *judge_lines(s), f"  {result.url}"]
    _emit(args, result.data, lines)
    return OK


def cmd_show(args: argparse.Namespace) -> int:
    client = _client(args)
    found = client.get("/api/v1/experiments", name=args.experiment)["results"]
    ident = found[0]["id"] if found else args.experiment
    data = client.get(f"/api/v1/experiments/{ident}")
    s = data["summary"]
    lines = [f"experiment {data['name']} on dataset version {data['dataset_version']}",
             f"  success {_share(s.get('success_rate'))} ({s.get('passed')}/{s.get('runs')} runs, 95% CI "
             f"{_share(s.get('wilson_low'))}–{_share(s.get('wilson_high'))}), pass^{s.get('k')} "
             f"{_share(s.get('pass_k'))}, {s.get('errors')} raised or timed out", *judge_lines(s), f"  {data['url']}"]
    _emit(args, data, lines)
    return OK


def judge_lines(summary: dict[str, Any]) -> list[str]:
    """'  judge correctness: 67% passed (2/3 judged, 95% CI 21%–94%), mean score 0.67, 1 waiting'."""
    lines = []
    for j in summary.get("judges") or []:
        mean = "—" if j["mean_value"] is None else f"{j['mean_value']:.2f}"
        line = (f"  judge {j['name']}: {_share(j['pass_rate'])} passed ({j['passed']}/{j['judged']} judged, 95% CI "
                f"{_share(j['wilson_low'])}–{_share(j['wilson_high'])}), mean score {mean}")
        lines.append(line + (f", {j['waiting']} waiting" if j["waiting"] else ""))
    return lines


def cmd_compare(args: argparse.Namespace) -> int:
    client = _client(args)
    result = client.get("/api/v1/experiments/compare", a=args.a, b=args.b)
    test = result["mcnemar"]
    lines = [f"Compare {result['a']['name']} → {result['b']['name']} ({result['items_compared']} items paired)"]
    lines.extend(f"  {'✓' if row['better'] else '✗' if row['better'] is False else ' '} {row['text']}"
                 for row in result["progress"])
    lines.extend(f"    {judge['text']}" for judge in result.get("judges") or [])
    lines.append(f"  McNemar: {test['fixed']} fixed, {test['broke']} broke, p = {test['p_value']:.4g} (exact), "
                 f"{test['p_value_chi_square']:.4g} (chi-square)")
    for title, key in (("fixed", "fixed"), ("broke", "broke"), ("still failing", "still_failing")):
        if result[key]:
            lines.append(f"  {title}:")
            lines.extend(f"    {_brief(pair['item']['input'])}" for pair in result[key][:20])
            if len(result[key]) > 20:
                lines.append(f"    … and {len(result[key]) - 20} more")
    lines.append("✗ reliability regressed significantly" if result["regressed"]
                 else "✓ no significant regression in reliability")
    _emit(args, result, lines)
    return FOUND_PROBLEMS if result["regressed"] else OK


def _share(value: Any) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _brief(value: Any, limit: int = 100) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
