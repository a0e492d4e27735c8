"""What judging tells the apps above it (alerts): scores just finished, sent after they are stored.

Sent with `organisation_ids` (set of UUIDs) once a batch of judge calls has finished; receivers must not raise and
queue their own work, as for evaluations.signals.verdicts_saved.
"""

from __future__ import annotations

from django.dispatch import Signal

scores_saved = Signal()
