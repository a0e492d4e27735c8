"""The apps above evaluations learn of new verdicts once they are committed."""

from __future__ import annotations

from evaluations.models import Evaluation
from evaluations.signals import verdicts_saved
from tests.conftest import sample_trace


def test_verdicts_saved_names_the_committed_evaluations(acme, acme_api):
    received = []

    def receiver(sender, organisation_ids, evaluation_ids, **kwargs):
        received.append((organisation_ids, sorted(evaluation_ids),
                         sorted(Evaluation.objects.filter(pk__in=evaluation_ids).values_list("status", flat=True))))

    verdicts_saved.connect(receiver)
    try:
        response = acme_api.post("/api/v1/traces", [sample_trace("a"), sample_trace("b")])
    finally:
        verdicts_saved.disconnect(receiver)
    assert response.status_code == 202
    ids = sorted(Evaluation.objects.for_org(acme.organisation).values_list("pk", flat=True))
    assert received == [({acme.organisation.id}, ids, ["done", "done"])]
