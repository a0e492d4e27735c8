"""The figures of docs/engine.md's held-out measurement: `python -m tests.engine.holdout_figures [holdout2]`.

For each held-out suite: the share of runs whose framework is right, of failing runs whose category is right, of
successful runs left clean, of runs whose tools are named right, and (where the truth carries the tokens) of runs
whose tokens and cost are exact; then each miss, with the blind spot it is listed under, if any.
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from evaluations.engine import evaluate, to_trace

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "frameworks"


def analyse(folder: Path, name: str) -> Any:
    record = json.loads((folder / f"{name}.json").read_text())
    trace = {"agent_id": record["library"], "input": record["input"]}
    trace |= {k: record[k] for k in ("output", "error") if record[k] is not None}
    return evaluate(to_trace(trace))


def named_tools(result: Any) -> set[str]:
    """The tools the analysis names: its tool list, and the tool a failure was placed in."""
    failure = result.details.get("failure") or {}
    failed_in = {failure["step"]} if failure.get("step") and failure.get("component") == "tool" else set()
    return {t["name"] for t in result.details["tools"]} | failed_in


def gpt_4o_mini_usd(tokens: tuple[int, int]) -> Decimal:
    return (Decimal("0.15") * tokens[0] + Decimal("0.60") * tokens[1]) / 1_000_000


def misses(want: Any, result: Any) -> list[str]:
    found = []
    if result.framework != want.framework:
        found.append(f"framework {result.framework}")
    if (result.success, result.failure_category) != (want.category == "", want.category):
        found.append(f"category {result.failure_category or 'success'}")
    if named_tools(result) != set(want.tools):
        found.append(f"tools {sorted(named_tools(result))}")
    if getattr(want, "tokens", None) is not None and (
            (result.input_tokens, result.output_tokens) != want.tokens or result.cost_usd is None
            or result.cost_usd.normalize() != gpt_4o_mini_usd(want.tokens).normalize()):
        found.append(f"cost {result.cost_usd} for {result.input_tokens}/{result.output_tokens} tokens")
    return found


def measure(suite: str) -> None:
    if suite == "holdout2":
        from .holdout2_truth import NOT_IN_THE_OBJECT, truth
    else:
        from .holdout_truth import NOT_IN_THE_OBJECT, truth
    folder = FIXTURES / suite
    names = sorted(p.stem for p in folder.glob("*.json"))
    rows = [(name, truth(name), analyse(folder, name)) for name in names]
    failing = [(w, r) for _, w, r in rows if w.category]
    succeeding = [(w, r) for _, w, r in rows if not w.category]
    priced = [(w, r) for _, w, r in rows if getattr(w, "tokens", None) is not None]
    figures = {
        "framework": sum(r.framework == w.framework for _, w, r in rows), "of": len(rows),
        "category": sum(r.failure_category == w.category for w, r in failing), "failing": len(failing),
        "clean": sum(r.success for _, r in succeeding), "succeeding": len(succeeding),
        "tools named": sum(named_tools(r) == set(w.tools) for _, w, r in rows),
        "cost exact": sum(not any(m.startswith("cost") for m in misses(w, r)) for w, r in priced),
        "priced": len(priced),
    }
    print(suite, json.dumps(figures))
    for name, want, result in rows:
        for miss in misses(want, result):
            blind = NOT_IN_THE_OBJECT.get(name)
            print(f"  {name}: {miss} (want {want.framework}/{want.category or 'success'}/{sorted(want.tools)})"
                  + (f"  [not in the object: {blind[1]}]" if blind else ""))


if __name__ == "__main__":
    for suite in sys.argv[1:] or ["holdout", "holdout2"]:
        measure(suite)
