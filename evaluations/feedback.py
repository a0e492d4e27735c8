"""Writes of a run's verdict from outside the engine: the team's labels (the latest label wins), the deciding
judge's verdict (below a label, above the rules), and who is to label which run."""

from __future__ import annotations

from django.db import transaction

from arcweb.models import Membership

from .engine.failures import TAXONOMY
from .models import Evaluation, Feedback, LabelAssignment
from .rollups import RollupDeltas


class NotAMember(ValueError):
    pass


class InvalidFeedback(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def check_feedback(*, correct: bool | None, score: int | None, label: str) -> None:
    if correct is None and score is None and not label:
        raise InvalidFeedback("correct", "give at least one of correct, score or label")
    if score is not None and not 1 <= score <= 5:
        raise InvalidFeedback("score", "score is from 1 to 5")
    if label and label not in TAXONOMY:
        raise InvalidFeedback("label", f"label must be one of: {', '.join(sorted(TAXONOMY))}")


@transaction.atomic
def add_feedback(*, evaluation: Evaluation, author=None, source: str = "web", correct: bool | None = None,
                 score: int | None = None, label: str = "", notes: str = "") -> Feedback:
    check_feedback(correct=correct, score=score, label=label)
    evaluation = Evaluation.objects.select_for_update().get(pk=evaluation.pk)
    feedback = Feedback.objects.create(organisation_id=evaluation.organisation_id, trace_id=evaluation.trace_id,
                                       author=author, source=source, correct=correct, score=score, label=label,
                                       notes=notes[:10_000])
    if correct is not None and correct != evaluation.label_success:
        _set_verdict_input(evaluation, "label_success", correct)
    return feedback


def _set_verdict_input(evaluation: Evaluation, field: str, value: bool | None) -> None:
    """Store a label or a judge's verdict; the rollups follow the run's verdict if it flips."""
    before = evaluation.verdict
    setattr(evaluation, field, value)
    rollup = RollupDeltas()
    rollup.flip_verdict(evaluation, before, evaluation.verdict)
    evaluation.save(update_fields=[field])
    rollup.save()


def assign_run(*, organisation, trace, assignee_id: str, by) -> LabelAssignment | None:
    """Give the run to a member to label (NotAMember for anyone else); an empty assignee unassigns it."""
    if not assignee_id:
        LabelAssignment.objects.for_org(organisation).filter(trace=trace).delete()
        return None
    membership = (Membership.objects.for_org(organisation).filter(user_id=assignee_id).first()
                  if assignee_id.isdigit() else None)
    if membership is None:
        raise NotAMember(assignee_id)
    assignment, _ = LabelAssignment.objects.update_or_create(
        trace=trace, defaults={"organisation": organisation, "assignee_id": membership.user_id, "assigned_by": by})
    return assignment


@transaction.atomic
def record_judge_verdict(*, evaluation_id: int, passed: bool | None) -> None:
    """The deciding judge's verdict on a run (None withdraws it); the rollups follow the verdict's flip."""
    evaluation = Evaluation.objects.select_for_update().filter(pk=evaluation_id).first()
    if evaluation is None or evaluation.judge_success == passed:
        return
    _set_verdict_input(evaluation, "judge_success", passed)
