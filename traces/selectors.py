"""Reads of traces, always scoped to one organisation."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import CharField, Count, F, Max, Min, Q, QuerySet, Subquery, Sum, TextField
from django.db.models.functions import Cast
from django.db.models.lookups import Contains
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from arcweb.models import Organisation

from .models import Trace
from .verdicts import verdict_q


def traces_with_evaluation() -> QuerySet[Trace]:
    return Trace.objects.select_related("agent", "evaluation")


@dataclass(frozen=True)
class TraceQuery:
    """The API list's filters, already validated by its input serializer (traces.api.TraceListInput)."""

    agent: str = ""  # the agent's name: API clients know their agents by name
    framework: str = ""
    session_id: str = ""
    user_id: str = ""
    tag: str = ""
    success: bool | None = None
    since: datetime | None = None
    until: datetime | None = None


def filter_traces(organisation: Organisation, query: TraceQuery) -> QuerySet[Trace]:
    queryset = traces_with_evaluation().for_org(organisation).defer(
        "input", "output", "spans", "metadata", "error", "evaluation__details"
    )
    if query.agent:
        queryset = queryset.filter(agent__name=query.agent)
    for name in ("framework", "session_id", "user_id"):
        if getattr(query, name):
            queryset = queryset.filter(**{name: getattr(query, name)})
    if query.tag:
        queryset = queryset.filter(has_tag(query.tag))
    if query.success is not None:
        queryset = queryset.filter(evaluation__success=query.success)
    if query.since:
        queryset = queryset.filter(started_at__gte=query.since)
    if query.until:
        queryset = queryset.filter(started_at__lt=query.until)
    return queryset


def has_tag(tag: str) -> Q | Contains:
    """Runs carrying this tag. PostgreSQL answers `tags @> '["tag"]'` from a GIN index (migration 0004);
    SQLite has no JSON containment, so there the quoted tag is looked for in the array's text (ASCII case
    folded, as SQLite's LIKE does)."""
    if connection.vendor == "postgresql":
        return Q(tags__contains=[tag])
    return Contains(Cast("tags", TextField()), json.dumps(tag))


# --- the explorer (pages): filters and keyset pagination ----------------------------------------

EXPLORER_PAGE = 50
OUTCOMES = ("success", "failure", "pending")
SCORE_RESULTS = ("pass", "fail")
# The trigram indexes on input and output (migration 0002) serve substrings of three characters or more;
# a shorter one would scan every run of the organisation.
SEARCH_MIN_CHARS = 3


def _aware(text: str) -> datetime:
    parsed = datetime.fromisoformat(text)
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, UTC)


def _finite(text: str) -> Decimal:
    value = Decimal(text)
    if not value.is_finite():
        raise ValueError(text)
    return value


def _finite_float(text: str) -> float:
    return float(_finite(text))  # a float, not a Decimal: compared with a float column, it keeps the index usable


@dataclass(frozen=True)
class Sort:
    """A column the explorer sorts by: the value, how a cursor's text becomes one again, and whether the
    evaluation's own index serves it (cost and tokens are the evaluation's; time and duration the trace's)."""

    value: Any
    parse: Any
    on_evaluation: bool = False


SORTS = {
    "started": Sort(F("started_at"), _aware),
    "duration": Sort(F("duration_ms"), _finite_float),
    "cost": Sort(F("evaluation__cost_usd"), _finite, on_evaluation=True),
    "tokens": Sort(F("evaluation__input_tokens") + F("evaluation__output_tokens"), int, on_evaluation=True),
}
DEFAULT_SORT = "-started"


@dataclass(frozen=True)
class ExplorerFilters:
    """The explorer's filters, already validated: an unknown value is dropped, never an error page."""

    agent: str = ""
    outcome: str = ""
    framework: str = ""
    grade: str = ""
    category: str = ""
    compliance: bool = False
    since: datetime | None = None
    until: datetime | None = None
    text: str = ""
    tag: str = ""
    # Runs with a score of this name (a judge's or a client's), and with `score_result` one that passed or failed.
    score: str = ""
    score_result: str = ""
    # Runs sharing the session / user of the run with this id: ids go in URLs, never the client's values.
    session_of: str = ""
    user_of: str = ""
    sort: str = DEFAULT_SORT

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> ExplorerFilters:
        def when(name: str) -> datetime | None:
            raw = (params.get(name) or "").strip()
            if not raw:
                return None
            parsed = _moment(raw) or (datetime.combine(d, time.min) if (d := _date(raw)) else None)
            if parsed is None:
                return None
            return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, UTC)

        outcome = params.get("outcome", "")
        return cls(agent=uuid_text(params.get("agent")), outcome=outcome if outcome in OUTCOMES else "",
                   framework=(params.get("framework") or "")[:64], grade=(params.get("grade") or "")[:3],
                   category=(params.get("category") or "")[:40], compliance=params.get("compliance") == "1",
                   since=when("since"), until=when("until"), text=(params.get("q") or "").strip()[:200],
                   tag=(params.get("tag") or "").strip()[:200], score=(params.get("score") or "").strip()[:120],
                   score_result=result if (result := params.get("score_result", "")) in SCORE_RESULTS else "",
                   session_of=uuid_text(params.get("session_of")), user_of=uuid_text(params.get("user_of")),
                   sort=sort if (sort := params.get("sort", "")).lstrip("-") in SORTS else DEFAULT_SORT)

    @property
    def sort_column(self) -> Sort:
        return SORTS[self.sort.lstrip("-")]

    @property
    def descending(self) -> bool:
        return self.sort.startswith("-")

    @property
    def search(self) -> str:
        """The text searched for: empty when what was typed is too short to search."""
        return self.text if len(self.text) >= SEARCH_MIN_CHARS else ""

    @property
    def search_too_short(self) -> bool:
        return bool(self.text) and not self.search

    @property
    def active(self) -> bool:
        return any((self.agent, self.outcome, self.framework, self.grade, self.category, self.compliance,
                    self.since, self.until, self.search, self.tag, self.score, self.score_result, self.session_of,
                    self.user_of))


def uuid_text(raw: Any) -> str:
    """The canonical text of a UUID, or "": ids from query strings are checked before a query uses them (an
    agent is filtered by its id — agent names are client text and stay out of URLs)."""
    try:
        return str(uuid.UUID(str(raw or "").strip()))
    except ValueError:
        return ""


def _date(raw: str):
    try:
        return parse_date(raw)
    except ValueError:  # well formed but impossible, like 2026-13-45
        return None


def _moment(raw: str):
    try:
        return parse_datetime(raw)
    except ValueError:
        return None


def encode_cursor(value: Any, pk) -> str:
    raw = f"{value.isoformat() if isinstance(value, datetime) else value}|{pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, sort: Sort) -> tuple[Any, uuid.UUID] | None:
    """The position a cursor holds (the sorted value and the id), None when it is not one of this sort."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        value, pk = raw.split("|", 1)
        return sort.parse(value), uuid.UUID(pk)
    except (ValueError, ArithmeticError, UnicodeDecodeError):
        return None


def explore_traces(organisation: Organisation, filters: ExplorerFilters, *, cursor: str | None = None,
                   limit: int = EXPLORER_PAGE) -> tuple[list[Trace], str | None]:
    """One page of traces in the filters' order (newest first by default), and the cursor of the next page
    (None on the last one).

    Keyset pagination on (sorted value, id): page 50 costs what page 1 costs, since the index that leads with
    the organisation and the sorted value (`trace_org_started`, `trace_org_duration`, `eval_org_cost`,
    `eval_org_tokens`) is entered at the cursor instead of counting past earlier rows. Sorted by a value,
    runs without one (no duration, not priced) are left out.
    """
    queryset = traces_with_evaluation().for_org(organisation).defer(
        "spans", "metadata", "error", "evaluation__details", "input", "output")
    if filters.agent:
        queryset = queryset.filter(agent_id=filters.agent)
    if filters.framework:
        queryset = queryset.filter(framework=filters.framework)
    if filters.outcome == "pending":
        queryset = queryset.filter(evaluation__status="pending")
    elif filters.outcome:
        queryset = queryset.filter(evaluation__status="done").filter(
            verdict_q(filters.outcome == "success", via="evaluation__"))
    if filters.grade:
        queryset = queryset.filter(evaluation__grade=filters.grade)
    if filters.category:
        queryset = queryset.filter(evaluation__failure_category=filters.category)
    if filters.compliance:
        queryset = queryset.filter(evaluation__compliance_findings__gt=0)
    if filters.since:
        queryset = queryset.filter(started_at__gte=filters.since)
    if filters.until:
        queryset = queryset.filter(started_at__lt=filters.until)
    if filters.search:
        # UPPER(input::text) LIKE UPPER('%…%'): the expressions of the trigram indexes, so they are used.
        queryset = queryset.annotate(_in=Cast("input", TextField()), _out=Cast("output", TextField())).filter(
            Q(_in__icontains=filters.search) | Q(_out__icontains=filters.search))
    if filters.tag:
        queryset = queryset.filter(has_tag(filters.tag))
    if filters.score or filters.score_result:
        queryset = queryset.filter(id__in=scored(organisation, filters.score, filters.score_result))
    for field, run_id in (("session_id", filters.session_of), ("user_id", filters.user_of)):
        if run_id:
            # `<> ''` lets PostgreSQL use the partial index; an unknown run (or another organisation's) matches none.
            shared = Trace.objects.for_org(organisation).filter(id=run_id).values(field)[:1]
            queryset = queryset.exclude(**{field: ""}).filter(**{field: Subquery(shared)})
    column = filters.sort_column
    queryset = queryset.annotate(sorted_by=column.value).filter(sorted_by__isnull=False)
    if column.on_evaluation:  # the evaluation's index leads with its own organisation column
        queryset = queryset.filter(evaluation__organisation=organisation)
    position = decode_cursor(cursor, column)
    if position is not None:
        value, pk = position
        # The redundant bound on the value keeps the index range tight; the OR only breaks ties.
        before = "lt" if filters.descending else "gt"
        queryset = queryset.filter(**{f"sorted_by__{before}e": value}).filter(
            Q(**{f"sorted_by__{before}": value}) | Q(sorted_by=value, **{f"id__{before}": pk}))
    order = ("-sorted_by", "-id") if filters.descending else ("sorted_by", "id")
    rows = list(queryset.order_by(*order)[: limit + 1])
    following = encode_cursor(rows[limit - 1].sorted_by, rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], following


def scored(organisation: Organisation, name: str, result: str) -> QuerySet:
    """Ids of runs with a finished score of that name (any name when empty) that passed or failed (either when
    empty). Scores are the judges app's rows, reached through their relation to the run."""
    wanted = Q(scores__status="done")
    if name:
        wanted &= Q(scores__name=name)
    if result:
        wanted &= Q(scores__passed=result == "pass")
    return Trace.objects.for_org(organisation).filter(wanted).values("id")


GROUP_FIELDS = {"sessions": "session_id", "users": "user_id"}
GROUPS_PAGE = 50
GROUPS_MAX_PAGES = 20


def run_groups(organisation: Organisation, field: str, *, since: datetime, page: int = 0) -> tuple[list[dict], bool]:
    """One page of sessions (or users) active since `since`, latest activity first, and whether more follow.

    Each row: the value (client text, shown as text), runs, successes and failures (by the verdict:
    label, deciding judge, then rules), cost, first and last run, and the id of one run to link to (never the value).
    The page's values are picked from the runs alone; only their runs are then joined with evaluations.
    """
    in_window = Trace.objects.for_org(organisation).exclude(**{field: ""}).filter(started_at__gte=since)
    picked = [row[field] for row in in_window.values(field).annotate(last=Max("started_at"))
              .order_by("-last", field)[page * GROUPS_PAGE:(page + 1) * GROUPS_PAGE + 1]]
    verdict = verdict_q(True, via="evaluation__")
    failed = verdict_q(False, via="evaluation__")
    figures = {
        row.pop(field): row for row in in_window.filter(**{f"{field}__in": picked[:GROUPS_PAGE]}).values(field)
        .annotate(runs=Count("id"), successes=Count("id", filter=verdict), failures=Count("id", filter=failed),
                  cost=Sum("evaluation__cost_usd"), first=Min("started_at"), last=Max("started_at"),
                  run_id=Max(Cast("id", CharField())))
    }
    return [{"value": value, **figures[value]} for value in picked[:GROUPS_PAGE]], len(picked) > GROUPS_PAGE


def shared_context(organisation: Organisation, filters: ExplorerFilters) -> dict[str, str]:
    """The session and user values the explorer is narrowed to, to show them (as text) above the runs."""
    shown = {}
    for name, field, run_id in (("session", "session_id", filters.session_of), ("user", "user_id", filters.user_of)):
        if run_id:
            shown[name] = Trace.objects.for_org(organisation).filter(id=run_id).values_list(field, flat=True).first() or ""
    return shown


def explorer_choices(organisation: Organisation) -> dict[str, list[str]]:
    """Values the filter menus offer: agents by name; frameworks seen (from the agents' latest runs)."""
    from .models import Agent

    agents = [(str(pk), name) for pk, name in
              Agent.objects.for_org(organisation).order_by("name").values_list("id", "name")[:500]]
    return {"agents": agents}


def has_traces(organisation: Organisation) -> bool:
    return Trace.objects.for_org(organisation).exists()


def last_run_at(organisation: Organisation) -> datetime | None:
    """When the newest run arrived, by the server's clock (a client's clock cannot make a run look live; the
    index on (organisation, received_at) answers this from its last entry)."""
    return (Trace.objects.for_org(organisation).order_by("-received_at")
            .values_list("received_at", flat=True).first())


def first_trace(organisation: Organisation) -> Trace | None:
    return Trace.objects.for_org(organisation).select_related("agent").order_by("started_at").first()
