"""Writes: datasets and their versions, items from every source, experiments and the runs the SDK reports."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from arcweb.models import Organisation
from evaluations import selectors as evaluation_selectors
from evaluations.engine import checks as check_engine
from evaluations.engine.compliance import mask_pii
from evaluations.models import FailurePattern, Feedback
from traces.models import Trace

from .models import Dataset, DatasetItem, DatasetVersion, Experiment, ExperimentStatus, ItemRun, ItemSource

MAX_ITEMS_PER_CHANGE = 5000
MAX_REPEATS = 20
MAX_TEXT = 20_000


class InvalidInput(ValueError):
    """Bad input for a write, with the field it is about (`items[3].checks[0].value`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(slots=True)
class ItemData:
    input: Any
    expected_output: Any = None
    expected_behaviour: str = ""
    checks: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    source: str = ItemSource.API
    source_ref: str = ""
    source_trace: Trace | None = None


def clean_item(data: ItemData, where: str = "item") -> ItemData:
    """The item with its checks validated, or InvalidInput naming the field."""
    try:
        data.checks = check_engine.validate_checks(data.checks)
    except check_engine.InvalidCheck as exc:
        raise InvalidInput(f"{where}.{exc.field}", exc.reason) from None
    if not isinstance(data.metadata, dict):
        raise InvalidInput(f"{where}.metadata", "metadata is an object")
    if len(data.expected_behaviour) > MAX_TEXT:
        raise InvalidInput(f"{where}.expected_behaviour", f"at most {MAX_TEXT:,} characters")
    return data


# -- datasets and versions ------------------------------------------------------------------------------------
def create_dataset(*, organisation: Organisation, name: str, description: str = "", created_by=None,
                   items: Sequence[ItemData] = (), note: str = "") -> Dataset:
    name = name.strip()
    if not name:
        raise InvalidInput("name", "a dataset needs a name")
    with transaction.atomic():
        if Dataset.objects.for_org(organisation).filter(name=name).exists():
            raise InvalidInput("name", f"a dataset named {name!r} exists already")
        dataset = Dataset.objects.create(organisation=organisation, name=name[:200], description=description,
                                         created_by=created_by)
        if items:
            add_items(dataset=dataset, items=items, note=note or f"created with {len(items)} item(s)")
    return dataset


def _next_version(dataset: Dataset, note: str, *, added: int = 0, removed: int = 0) -> int:
    """Lock the dataset, number its next version and record what changed; call inside a transaction."""
    locked = Dataset.objects.select_for_update().get(pk=dataset.pk)
    number = locked.version + 1
    count = DatasetItem.objects.filter(dataset=locked).at_version(locked.version).count() + added - removed
    Dataset.objects.filter(pk=dataset.pk).update(version=number)
    DatasetVersion.objects.create(organisation_id=dataset.organisation_id, dataset=dataset, number=number,
                                  note=note[:300], item_count=count)
    dataset.version = number
    return number


def add_items(*, dataset: Dataset, items: Sequence[ItemData], note: str = "") -> list[DatasetItem]:
    """Add items as one new version of the dataset."""
    if not items:
        raise InvalidInput("items", "give at least one item")
    if len(items) > MAX_ITEMS_PER_CHANGE:
        raise InvalidInput("items", f"at most {MAX_ITEMS_PER_CHANGE:,} items in one change")
    cleaned = [clean_item(item, f"items[{i}]") for i, item in enumerate(items)]
    with transaction.atomic():
        number = _next_version(dataset, note or f"added {len(cleaned)} item(s)", added=len(cleaned))
        start = (DatasetItem.objects.filter(dataset=dataset).order_by("-position")
                 .values_list("position", flat=True).first() or 0) + 1
        rows = [_row(dataset, item, number, start + i) for i, item in enumerate(cleaned)]
        return DatasetItem.objects.bulk_create(rows)


def _row(dataset: Dataset, item: ItemData, version: int, position: int, replaces: DatasetItem | None = None):
    return DatasetItem(organisation_id=dataset.organisation_id, dataset=dataset, input=item.input,
                       expected_output=item.expected_output, expected_behaviour=item.expected_behaviour,
                       checks=item.checks, metadata=item.metadata, source=item.source,
                       source_ref=item.source_ref[:300], source_trace=item.source_trace, added_in=version,
                       position=position, replaces=replaces)


def edit_item(*, item: DatasetItem, changes: dict[str, Any]) -> DatasetItem:
    """A new version where `item` is replaced by its edited copy (the old row stays for older versions)."""
    if item.removed_in is not None:
        raise InvalidInput("item", "this item was edited or removed since; edit its latest version")
    editable = {"input", "expected_output", "expected_behaviour", "checks", "metadata"}
    data = ItemData(**{name: getattr(item, name) for name in editable}, source=item.source,
                    source_ref=item.source_ref, source_trace=item.source_trace)
    for name, value in changes.items():
        if name in editable:
            setattr(data, name, value)
    clean_item(data)
    with transaction.atomic():
        dataset = item.dataset
        number = _next_version(dataset, f"edited item {item.id}")
        DatasetItem.objects.filter(pk=item.pk).update(removed_in=number)
        return DatasetItem.objects.create(**_fields(_row(dataset, data, number, item.position, replaces=item)))


def _fields(row: DatasetItem) -> dict[str, Any]:
    return {f.attname: getattr(row, f.attname) for f in DatasetItem._meta.concrete_fields if f.attname != "id"}


def remove_item(*, item: DatasetItem) -> int:
    """A new version without `item`; returns its number."""
    if item.removed_in is not None:
        raise InvalidInput("item", "this item is already gone from the latest version")
    with transaction.atomic():
        number = _next_version(item.dataset, f"removed item {item.id}", removed=1)
        DatasetItem.objects.filter(pk=item.pk).update(removed_in=number)
    return number


# -- items from scenarios, runs and files --------------------------------------------------------------------
def items_from_pattern(pattern: FailurePattern) -> list[ItemData]:
    """The pattern's generated scenarios: input, expected behaviour and the fault they inject."""
    return [ItemData(input=s.input, expected_behaviour=s.expected_behaviour,
                     metadata={"scenario": s.name, "difficulty": s.difficulty, "fault": s.fault,
                               "category": pattern.category},
                     source=ItemSource.SCENARIO, source_ref=f"pattern {pattern.id}: {s.name}")
            for s in evaluation_selectors.pattern_scenarios(pattern)]


def dataset_from_pattern(*, organisation: Organisation, pattern: FailurePattern, created_by=None) -> Dataset:
    """One click: the pattern's scenarios become a dataset; clicking again later adds, as a new version, only
    the scenarios the dataset does not hold yet."""
    items = items_from_pattern(pattern)
    if not items:
        raise InvalidInput("pattern", "this pattern has no scenarios to make a dataset of")
    name = f"{pattern.agent.name} · {pattern.category} scenarios"[:200]
    existing = Dataset.objects.for_org(organisation).filter(name=name).first()
    note = f"scenarios of the {pattern.category} pattern"
    if existing is None:
        return create_dataset(organisation=organisation, name=name, created_by=created_by, items=items, note=note,
                              description=f"Generated from the {pattern.category} failures of {pattern.agent.name}.")
    held = set(DatasetItem.objects.filter(dataset=existing).at_version(existing.version)
               .values_list("source_ref", flat=True))
    new = [item for item in items if item.source_ref not in held]
    if not new:
        raise InvalidInput("pattern", f"{existing.name} already holds every scenario of this pattern")
    add_items(dataset=existing, items=new, note=f"{len(new)} new {note}")
    return existing


def item_from_trace(trace: Trace) -> ItemData:
    """A run as a test case. When the team labelled it correct, its output is the expected output; when they
    labelled it incorrect, their notes say what was expected."""
    latest = Feedback.objects.for_org(trace.organisation_id).filter(trace=trace, correct__isnull=False) \
        .order_by("-created_at").first()
    if latest is None:
        return ItemData(input=trace.input, metadata={"agent": trace.agent.name}, source=ItemSource.RUN,
                        source_ref=f"trace {trace.trace_id}"[:300], source_trace=trace)
    return ItemData(input=trace.input, expected_output=trace.output if latest.correct else None,
                    expected_behaviour="" if latest.correct else latest.notes[:MAX_TEXT],
                    metadata={"agent": trace.agent.name, "label": "correct" if latest.correct else "incorrect"},
                    source=ItemSource.LABEL, source_ref=f"trace {trace.trace_id}"[:300], source_trace=trace)


@dataclass(slots=True)
class Upload:
    items: list[ItemData]
    errors: list[str]


def parse_upload(filename: str, content: bytes) -> Upload:
    """JSONL (one object a line) or CSV (a header row) into items; bad lines are listed, good ones kept.

    Fields: input (required), expected_output, expected_behaviour, checks, metadata. In CSV, a cell that
    holds JSON is read as JSON (so {"q": 1} is an object and "42" stays text only when quoted twice)."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return Upload([], [f"{filename}: not UTF-8 text"])
    if filename.lower().endswith(".csv"):
        rows = [(n, row) for n, row in enumerate(csv.DictReader(io.StringIO(text)), 2)]
        records, errors = [(n, {k: _cell(v) for k, v in row.items() if k}) for n, row in rows], []
    else:
        records, errors = [], []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                records.append((n, json.loads(line)))
            except ValueError as exc:
                errors.append(f"line {n}: not JSON ({exc.msg})")
    items = []
    for n, record in records:
        try:
            item = item_from_record(record, f"line {n}")
        except InvalidInput as exc:
            errors.append(f"{exc.field}: {exc.message}")
            continue
        item.source, item.source_ref = ItemSource.UPLOAD, f"{filename[:200]} line {n}"
        items.append(item)
    return Upload(items, errors)


def _cell(value: str | None) -> Any:
    if value is None or value == "":
        return None
    try:
        return json.loads(value)
    except ValueError:
        return value


def item_from_record(record: Any, where: str) -> ItemData:
    if not isinstance(record, dict) or "input" not in record:
        raise InvalidInput(where, "each record is an object with an input")
    unknown = set(record) - {"input", "expected_output", "expected_behaviour", "checks", "metadata"}
    if unknown:
        raise InvalidInput(f"{where}.{sorted(unknown)[0]}", "unknown field")
    behaviour = record.get("expected_behaviour") or ""
    return clean_item(ItemData(input=record["input"], expected_output=record.get("expected_output"),
                               expected_behaviour=behaviour if isinstance(behaviour, str) else json.dumps(behaviour),
                               checks=record.get("checks") or [], metadata=record.get("metadata") or {}), where)


# -- experiments -----------------------------------------------------------------------------------------------
def create_experiment(*, organisation: Organisation, dataset: Dataset, name: str = "", repeats: int = 1,
                      agent: str = "", metadata: dict[str, Any] | None = None) -> Experiment:
    """An experiment on the dataset's latest version."""
    if not 1 <= repeats <= MAX_REPEATS:
        raise InvalidInput("repeats", f"repeats is from 1 to {MAX_REPEATS}")
    if dataset.version == 0 or not DatasetItem.objects.filter(dataset=dataset).at_version(dataset.version).exists():
        raise InvalidInput("dataset", "the dataset has no items yet")
    now = timezone.now()
    name = (name.strip() or f"{dataset.name} {now:%Y-%m-%d %H:%M:%S}")[:200]
    try:
        with transaction.atomic():
            return Experiment.objects.create(organisation=organisation, dataset=dataset,
                                             dataset_version=dataset.version, name=name, agent=agent[:200],
                                             repeats=repeats, metadata=metadata or {}, created_at=now)
    except IntegrityError:
        raise InvalidInput("name", f"an experiment named {name!r} exists already: pick another name, or resume "
                                   "it (resume=True in the SDK, --resume on the CLI)") from None


@dataclass(slots=True)
class RunReport:
    """What the SDK reports for one repeat of one item."""

    item_id: str
    repeat: int
    output: Any = None
    error: dict[str, str] | None = None
    duration_ms: float | None = None
    trace_id: str = ""


def record_runs(*, experiment: Experiment, runs: Iterable[RunReport]) -> list[ItemRun]:
    """Store reported runs with their checks and link them to their traces. Reporting the same item and repeat
    again replaces it (a retried request, a resumed experiment)."""
    reports = list(runs)
    items = {str(i.id): i for i in DatasetItem.objects.filter(dataset_id=experiment.dataset_id, id__in={
        r.item_id for r in reports}).at_version(experiment.dataset_version)}
    for index, report in enumerate(reports):
        if report.item_id not in items:
            raise InvalidInput(f"runs[{index}].item", "not an item of the dataset version this experiment ran on")
        if not 0 <= report.repeat < experiment.repeats:
            raise InvalidInput(f"runs[{index}].repeat", f"repeat is from 0 to {experiment.repeats - 1}")
    traces = _traces_by_ref(experiment.organisation_id, {r.trace_id for r in reports if r.trace_id})
    mask = experiment.organisation.mask_pii_at_ingestion
    rows = []
    for report in reports:
        item = items[report.item_id]
        results = check_engine.run_checks(report.output, item.expected_output, item.checks)
        rows.append(ItemRun(
            organisation_id=experiment.organisation_id, experiment=experiment, item=item, repeat=report.repeat,
            trace_id=traces.get(report.trace_id), trace_ref=report.trace_id[:512],
            # checked on what the agent returned, stored as ingestion would store it
            output=mask_pii(report.output) if mask else report.output, error=report.error,
            duration_ms=report.duration_ms, check_results=[r.as_dict() for r in results],
            checks_passed=all(r.passed for r in results)))
    with transaction.atomic():
        return ItemRun.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["experiment", "item", "repeat"],
            update_fields=["trace", "trace_ref", "output", "error", "duration_ms", "check_results", "checks_passed",
                           "created_at"])


def _traces_by_ref(organisation_id, refs: set[str]) -> dict[str, Any]:
    if not refs:
        return {}
    return dict(Trace.objects.for_org(organisation_id).filter(trace_id__in=refs).values_list("trace_id", "id"))


def finish_experiment(*, experiment: Experiment) -> Experiment:
    """Mark it finished and link the runs whose traces arrived after they were reported."""
    unlinked = list(ItemRun.objects.filter(experiment=experiment, trace__isnull=True).exclude(trace_ref=""))
    traces = _traces_by_ref(experiment.organisation_id, {r.trace_ref for r in unlinked})
    for run in unlinked:
        run.trace_id = traces.get(run.trace_ref)
    with transaction.atomic():
        ItemRun.objects.bulk_update([r for r in unlinked if r.trace_id], ["trace"])
        experiment.status = ExperimentStatus.FINISHED
        experiment.finished_at = timezone.now()
        experiment.save(update_fields=["status", "finished_at"])
    return experiment
