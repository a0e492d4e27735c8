"""Writes of the judges app: connections (the key sealed, checked URL), judges, a client's own scores, backfill."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction

from arcweb.encryption import hint, seal
from arcweb.models import Organisation
from arcweb.outbound import OutboundRefused, check_url
from evaluations.models import Evaluation, EvaluationStatus
from traces.models import Agent, Trace

from . import model_client
from .models import Judge, JudgingBudget, ModelConnection, Score, ScoreStatus, Source, Template
from .runner import endpoint_of
from .tasks import queue


class InvalidInput(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def checked_base_url(base_url: str) -> str:
    try:
        return check_url(base_url, allow_private=settings.ARC_MODEL_ENDPOINTS_ALLOW_PRIVATE)
    except OutboundRefused as exc:
        raise InvalidInput("base_url", str(exc)) from None


def save_connection(*, organisation: Organisation, connection: ModelConnection | None = None,
                    **values: Any) -> ModelConnection:
    """Create or change a connection; an `api_key` given is sealed (an empty one keeps the stored key)."""
    connection = connection or ModelConnection(organisation=organisation)
    api_key = values.pop("api_key", "")
    if "base_url" in values:
        values["base_url"] = checked_base_url(values["base_url"])
    for name, value in values.items():
        setattr(connection, name, value)
    if api_key:
        connection.api_key, connection.key_hint = seal(api_key), hint(api_key)
    connection.save()
    return connection


def test_connection(connection: ModelConnection) -> str:
    """'' when the endpoint answers with the stored key, else what went wrong."""
    return model_client.test_connection(endpoint_of(connection))


def resolve_agents(organisation: Organisation, refs: list[str]) -> list[Agent]:
    """Agents by id or by name; an unknown one is refused by name."""
    found = []
    for ref in refs:
        agent = Agent.objects.for_org(organisation).filter(name=ref).first()
        if agent is None and _is_uuid(ref):
            agent = Agent.objects.for_org(organisation).filter(id=ref).first()
        if agent is None:
            raise InvalidInput("agents", f"no agent {ref[:120]!r} in this organisation (it appears with its first run)")
        found.append(agent)
    return found


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(str(text))
    except ValueError:
        return False
    return True


@transaction.atomic
def save_judge(*, organisation: Organisation, judge: Judge | None = None, **values: Any) -> Judge:
    """Create or change a judge; `connection` is the organisation's own, `agents` names or ids (empty: all)."""
    judge = judge or Judge(organisation=organisation)
    agents = values.pop("agents", None)
    if "connection" in values:
        values["connection"] = ModelConnection.objects.for_org(organisation).filter(id=values["connection"]).first()
        if values["connection"] is None:
            raise InvalidInput("connection", "no such model connection in this organisation")
    for name, value in values.items():
        setattr(judge, name, value)
    if judge.template == Template.CUSTOM and not judge.rubric.strip():
        raise InvalidInput("rubric", "a custom judge needs a rubric")
    if not judge.name:
        judge.name = Template(judge.template).label
    judge.save()
    if agents is not None:
        judge.agents.set(resolve_agents(organisation, agents))
    return judge


def set_organisation_budget(organisation: Organisation, daily_budget_usd: Decimal | None) -> None:
    JudgingBudget.objects.update_or_create(organisation=organisation,
                                           defaults={"daily_budget_usd": daily_budget_usd})


def add_score(*, organisation: Organisation, trace: Trace, name: str, value: float | None, passed: bool | None,
              source: str = Source.API, category: str = "", reasoning: str = "") -> Score:
    """A score a client or a teammate gives a run (judges' scores are written by the runner)."""
    if value is None and passed is None:
        raise InvalidInput("value", "give a value (0 to 1) or passed")
    if source not in (Source.API, Source.HUMAN):
        raise InvalidInput("source", "source is api or human")
    evaluation = Evaluation.objects.for_org(organisation).filter(trace=trace).only("pk").first()
    return Score.objects.create(organisation=organisation, trace=trace, evaluation=evaluation, name=name,
                                source=source, value=value, passed=passed, category=category, reasoning=reasoning,
                                status=ScoreStatus.DONE)


@dataclass(frozen=True)
class Backfill:
    queued: int
    start: datetime
    end: datetime


def backfill(judge: Judge, start: datetime, end: datetime) -> Backfill:
    """Queue judging of the judge's past runs started in [start, end): those it never judged, and those whose score
    was an error or a skip (budget). The calls run off the request, with the judge's rules and budgets."""
    if start >= end:
        raise InvalidInput("start", "start must be before end")
    runs = Evaluation.objects.for_org(judge.organisation).filter(
        status=EvaluationStatus.DONE, started_at__gte=start, started_at__lt=end)
    agent_ids = list(judge.agents.values_list("id", flat=True))
    if agent_ids:
        runs = runs.filter(agent_id__in=agent_ids)
    judged = Score.objects.filter(judge=judge, status__in=(ScoreStatus.DONE, ScoreStatus.PENDING)).values("trace_id")
    ids = list(runs.exclude(trace_id__in=judged).order_by("-started_at").values_list("pk", flat=True)
               [:settings.ARC_JUDGE_BACKFILL_MAX])
    if ids:
        queue(ids, judge_ids=[judge.id], retry=True)
    return Backfill(len(ids), start, end)
