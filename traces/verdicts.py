"""The run's verdict as a database condition: the one place every figure, filter and count reads "passed".

It lives here, below evaluations, because the explorer (traces) filters by it; the fields are the
evaluation's (`via="evaluation__"` from a trace). The same rule in Python: evaluations.engine.verdict.
"""

from __future__ import annotations

from django.db.models import Q


def verdict_q(want: bool = True, via: str = "") -> Q:
    """Runs whose verdict is `want`: a human label wins, then the deciding judge, then the rules."""
    label, judge, rules = f"{via}label_success", f"{via}judge_success", f"{via}success"
    return (Q(**{label: want}) | Q(**{f"{label}__isnull": True, judge: want})
            | Q(**{f"{label}__isnull": True, f"{judge}__isnull": True, rules: want}))
