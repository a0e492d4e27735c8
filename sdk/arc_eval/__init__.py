"""Arc Eval client: trace AI agents with one decorator; runs are sent in the background.

    from arc_eval import trace_agent

    @trace_agent
    def support_bot(question): ...
"""

from __future__ import annotations

from ._version import __version__
from .experiments import (
    Dataset,
    DatasetItem,
    ExperimentError,
    ExperimentResult,
    current_item,
    get_dataset,
    run_experiment,
)
from .exporter import ExporterStats
from .instrument import instrument, uninstrument
from .tracer import (
    ArcTracer,
    Run,
    Span,
    TracedThreadPoolExecutor,
    configure,
    current_run,
    current_span,
    get_tracer,
    span,
    tool,
    trace_agent,
    update_trace,
    wrap_context,
)


def flush(timeout: float = 10.0) -> bool:
    """Send what the default tracer holds; True when everything went out within ``timeout``."""
    return get_tracer().flush(timeout)


__all__ = [
    "ArcTracer",
    "Dataset",
    "DatasetItem",
    "ExperimentError",
    "ExperimentResult",
    "ExporterStats",
    "Run",
    "Span",
    "TracedThreadPoolExecutor",
    "__version__",
    "configure",
    "current_item",
    "current_run",
    "current_span",
    "flush",
    "get_dataset",
    "get_tracer",
    "instrument",
    "run_experiment",
    "span",
    "tool",
    "trace_agent",
    "uninstrument",
    "update_trace",
    "wrap_context",
]
