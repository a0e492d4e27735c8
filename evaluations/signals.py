"""What the evaluation layer tells the apps above it (judges, alerts), which connect receivers here.

Sent after the transaction that saved the verdicts has committed, so receivers read committed rows and
a slow receiver never holds the evaluation's locks. Receivers must not raise: they queue their own work.
"""

from __future__ import annotations

from django.dispatch import Signal

# Sent with `organisation_ids` (set of UUIDs) and `evaluation_ids` (list of ints): verdicts just saved by the
# engine (new runs, re-evaluations and merged late spans alike).
verdicts_saved = Signal()
