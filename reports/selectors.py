"""Reads behind the dashboards (overview and agent page), scoped to one organisation.

Nothing here computes a figure: every number comes from `evaluations.figures.agent_figures` (the same call the
API and report snapshots make), and the charts from `evaluations.figures.series`, both over the hourly rollups.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from arcweb.models import Organisation
from arcweb.windows import Window
from evaluations import figures
from evaluations.figures import AgentFigures
from evaluations.selectors import agents_of


@dataclass(frozen=True)
class OverviewRow:
    figures: AgentFigures
    spark: list[float | None]  # reliability per pair of chart buckets, oldest first


def overview(organisation: Organisation, window: Window) -> list[OverviewRow]:
    """Every agent's figures over the window, with a sparkline series of its reliability."""
    agents = list(agents_of(organisation))
    buckets = figures.series(organisation, [a.id for a in agents], window, figures.chart_bucket(window))
    return [OverviewRow(f, _pairs([b.reliability for b in buckets[f.agent.id]]))
            for f in figures.agent_figures(organisation, agents, window)]


def _pairs(values: list[float | None]) -> list[float | None]:
    """Two buckets per sparkline point: fewer gaps when an agent runs rarely."""
    merged = []
    for i in range(0, len(values), 2):
        present = [v for v in values[i:i + 2] if v is not None]
        merged.append(sum(present) / len(present) if present else None)
    return merged


@dataclass(frozen=True)
class AgentPage:
    figures: AgentFigures
    reliability: list[tuple[datetime, float | None]]
    cost: list[tuple[datetime, float | None]]
    latency: list[tuple[datetime, float | None]]


def agent_page(organisation: Organisation, agent, window: Window) -> AgentPage:
    buckets = figures.series(organisation, [agent.id], window, figures.chart_bucket(window))[agent.id]
    return AgentPage(figures.figures_of(organisation, agent, window),
                     reliability=[(b.start, b.reliability) for b in buckets],
                     cost=[(b.start, b.cost_per_run) for b in buckets],
                     latency=[(b.start, b.latency_s) for b in buckets])
