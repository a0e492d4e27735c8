"""Hourly rollups per agent: what every window figure is summed from, so pages never scan runs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from arcweb.windows import hour_of  # noqa: F401  (the hour a run is counted in; re-exported for the worker)

from .engine.reliability import WindowCounts, latency_bucket
from .models import AgentHour, Evaluation

SUMMED = ("runs", "successes", "score_sum", "duration_ms_sum", "duration_ms_sq_sum", "llm_ms_sum", "tool_ms_sum",
          "tool_calls", "tool_errors", "cost_usd_sum", "cost_usd_sq_sum", "priced_runs", "compliance_passed",
          "input_tokens", "output_tokens", "savings_usd_sum")


WINDOW_FIELDS = tuple(name for name in SUMMED if name in WindowCounts.__dataclass_fields__)


@dataclass
class Delta:
    values: dict[str, float | int | Decimal] = field(default_factory=lambda: dict.fromkeys(SUMMED, 0))
    histogram: dict[int, int] = field(default_factory=lambda: defaultdict(int))


class RollupDeltas:
    """Changes to apply to AgentHour rows: a run counted (+1) or uncounted (-1), or its verdict flipped."""

    def __init__(self) -> None:
        self.deltas: dict[tuple, Delta] = defaultdict(Delta)

    def count(self, evaluation: Evaluation, sign: int) -> None:
        delta = self.deltas[(evaluation.organisation_id, evaluation.agent_id, evaluation.counted_in)]
        v = delta.values
        duration = evaluation.duration_ms or 0.0
        cost = evaluation.cost_usd
        v["runs"] += sign
        v["successes"] += sign * bool(evaluation.verdict)
        v["score_sum"] += sign * (evaluation.score or 0.0)
        v["duration_ms_sum"] += sign * duration
        v["duration_ms_sq_sum"] += sign * duration * duration
        v["llm_ms_sum"] += sign * evaluation.llm_ms
        v["tool_ms_sum"] += sign * evaluation.tool_ms
        v["tool_calls"] += sign * evaluation.tool_calls
        v["tool_errors"] += sign * evaluation.tool_errors
        v["input_tokens"] += sign * evaluation.input_tokens
        v["output_tokens"] += sign * evaluation.output_tokens
        v["compliance_passed"] += sign * evaluation.compliance_passed
        if evaluation.savings_usd is not None:
            v["savings_usd_sum"] += sign * evaluation.savings_usd
        if cost is not None:
            v["cost_usd_sum"] += sign * cost
            v["cost_usd_sq_sum"] += sign * cost * cost
            v["priced_runs"] += sign
        delta.histogram[latency_bucket(duration)] += sign

    def flip_verdict(self, evaluation: Evaluation, before: bool | None, after: bool | None) -> None:
        if evaluation.counted_in is not None and bool(before) != bool(after):
            key = (evaluation.organisation_id, evaluation.agent_id, evaluation.counted_in)
            self.deltas[key].values["successes"] += 1 if after else -1

    def save(self) -> None:
        """Apply the changes: rows are created when missing, then locked and added to."""
        if not self.deltas:
            return
        AgentHour.objects.bulk_create(
            [AgentHour(organisation_id=org, agent_id=agent, hour=hour) for org, agent, hour in self.deltas],
            ignore_conflicts=True,
        )
        for (org, agent, hour), delta in sorted(self.deltas.items(), key=lambda item: str(item[0])):
            row = AgentHour.objects.select_for_update().get(organisation_id=org, agent_id=agent, hour=hour)
            for name, change in delta.values.items():
                setattr(row, name, getattr(row, name) + change)
            histogram = list(row.latency_histogram)
            for bucket, change in delta.histogram.items():
                if len(histogram) <= bucket:
                    histogram.extend([0] * (bucket + 1 - len(histogram)))
                histogram[bucket] += change
            row.latency_histogram = histogram
            row.save()


def window_counts(hours: Iterable[AgentHour]) -> WindowCounts:
    counts = WindowCounts()
    histogram: list[int] = []
    for row in hours:
        for name in WINDOW_FIELDS:
            setattr(counts, name, getattr(counts, name) + getattr(row, name))
        for bucket, n in enumerate(row.latency_histogram):
            if len(histogram) <= bucket:
                histogram.extend([0] * (bucket + 1 - len(histogram)))
            histogram[bucket] += n
    counts.latency_histogram = histogram
    return counts

