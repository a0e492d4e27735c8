"""The evaluation engine: pure Python, no Django. Canonical traces in, plain results out."""

from .evaluate import ENGINE_VERSION, RunEvaluation, evaluate
from .normalise import InvalidTrace, to_trace
from .trace import ErrorInfo, Span, Trace, Usage

__all__ = ["ENGINE_VERSION", "ErrorInfo", "InvalidTrace", "RunEvaluation", "Span", "Trace", "Usage",
           "evaluate", "to_trace"]
