"""The Experiments tab: datasets, an experiment's item × experiment matrix, the comparison of two experiments."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from arcweb.models import Role
from arcweb.tenancy import get_for_org_or_404, org_view, require_role
from evaluations.models import FailurePattern
from judges.models import ModelConnection
from traces.models import Agent, Trace
from traces.presentation import pretty

from . import replays, selectors, services
from .formatting import LABELS, change, figure
from .models import Dataset, DatasetItem, Experiment, Replay

MATRIX_COLUMNS = 6
ITEMS_PER_PAGE = 100
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


def _json_or_text(raw: str) -> Any:
    """What a person typed: JSON when it parses, else the text itself."""
    raw = raw.strip()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw


class DatasetForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))


class ItemForm(forms.Form):
    input = forms.CharField(max_length=200_000, widget=forms.Textarea(attrs={"rows": 3}),
                            help_text="JSON, or plain text")
    expected_output = forms.CharField(required=False, max_length=200_000, widget=forms.Textarea(attrs={"rows": 2}))
    expected_behaviour = forms.CharField(required=False, max_length=20_000, widget=forms.Textarea(attrs={"rows": 2}))
    checks = forms.CharField(required=False, max_length=20_000, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text='JSON list, e.g. [{"type": "contains", "value": "refund"}]')

    def clean_checks(self) -> list:
        raw = self.cleaned_data["checks"].strip()
        if not raw:
            return []
        try:
            return json.loads(raw)
        except ValueError:
            raise forms.ValidationError("checks is a JSON list") from None

    def item(self, **extra: Any) -> services.ItemData:
        data = self.cleaned_data
        return services.ItemData(input=_json_or_text(data["input"]),
                                 expected_output=_json_or_text(data["expected_output"]),
                                 expected_behaviour=data["expected_behaviour"], checks=data["checks"], **extra)


class UploadForm(forms.Form):
    file = forms.FileField(help_text="JSONL (one item a line) or CSV with a header row")


class AddRunForm(ItemForm):
    dataset = forms.ChoiceField(required=False)
    new_dataset = forms.CharField(required=False, max_length=200)

    def __init__(self, *args: Any, datasets=(), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["dataset"].choices = [("", "— a new dataset —")] + [(str(d.id), d.name) for d in datasets]
        self.fields["input"].required = False


class ReplayForm(forms.Form):
    agent = forms.ChoiceField(help_text="Whose recorded calls")
    recorded_model = forms.CharField(required=False, max_length=200, help_text="Only calls of this model (blank: any)")
    calls = forms.IntegerField(min_value=1, max_value=replays.MAX_CALLS, initial=50)
    connection = forms.ChoiceField(help_text="A model connection (Settings → Model connections)")
    model = forms.CharField(max_length=200, initial="gpt-4o-mini", help_text="The cheaper model")
    budget_usd = forms.DecimalField(min_value=0, max_value=10_000, decimal_places=4, initial=2)

    def __init__(self, *args: Any, agents=(), connections=(), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agent"].choices = [(str(a.id), a.name) for a in agents]
        self.fields["connection"].choices = [(str(c.id), c.name) for c in connections]


def _errors(form: forms.Form) -> str:
    return "; ".join(f"{name}: {', '.join(errors)}" for name, errors in form.errors.items())


def _can_write(request) -> bool:
    return request.membership.can(Role.MEMBER)


# -- the tab ---------------------------------------------------------------------------------------------------
@org_view()
def index(request):
    organisation = request.organisation
    datasets = list(selectors.datasets_for(organisation).prefetch_related("versions"))
    recent = list(Experiment.objects.for_org(organisation).select_related("dataset").order_by("-created_at")[:20])
    results = selectors.results_of(recent)
    recent_replays = list(Replay.objects.for_org(organisation).order_by("-created_at")[:10])
    return render(request, "experiments/index.html", {
        "nav": "experiments", "datasets": datasets, "form": DatasetForm(), "can_write": _can_write(request),
        "experiments": [(e, results[e.id].summary()) for e in recent],
        "replays": [(r, replays.replay_results(r)) for r in recent_replays],
        "replay_form": ReplayForm(agents=Agent.objects.for_org(organisation).order_by("name"),
                                  connections=ModelConnection.objects.for_org(organisation)),
    })


@require_POST
@org_view(Role.MEMBER)
def dataset_create(request):
    form = DatasetForm(request.POST)
    if not form.is_valid():
        messages.error(request, _errors(form))
        return redirect("experiments", org_slug=request.organisation.slug)
    try:
        dataset = services.create_dataset(organisation=request.organisation, name=form.cleaned_data["name"],
                                          description=form.cleaned_data["description"], created_by=request.user)
    except services.InvalidInput as exc:
        messages.error(request, exc.message)
        return redirect("experiments", org_slug=request.organisation.slug)
    return redirect("dataset-detail", org_slug=request.organisation.slug, dataset_id=dataset.id)


@require_POST
@org_view(Role.MEMBER)
def dataset_from_pattern(request, pattern_id):
    pattern = get_for_org_or_404(FailurePattern.objects.select_related("agent"), request.organisation, id=pattern_id)
    try:
        dataset = services.dataset_from_pattern(organisation=request.organisation, pattern=pattern,
                                                created_by=request.user)
    except services.InvalidInput as exc:
        messages.error(request, exc.message)
        return redirect("pattern-detail", org_slug=request.organisation.slug, pattern_id=pattern.id)
    messages.success(request, f"The {pattern.category} scenarios are in version {dataset.version} of this dataset.")
    return redirect("dataset-detail", org_slug=request.organisation.slug, dataset_id=dataset.id)


# -- a dataset -------------------------------------------------------------------------------------------------
def _dataset(request, dataset_id) -> Dataset:
    return get_for_org_or_404(Dataset.objects.prefetch_related("versions"), request.organisation, id=dataset_id)


@org_view()
def dataset_detail(request, dataset_id):
    dataset = _dataset(request, dataset_id)
    try:
        version = min(max(int(request.GET.get("version", dataset.version)), 0), dataset.version)
    except ValueError:
        version = dataset.version
    items = Paginator(selectors.items_at(dataset, version).select_related("source_trace"), ITEMS_PER_PAGE)
    page = items.get_page(request.GET.get("page"))
    experiments = selectors.experiments_on(dataset)
    results = selectors.results_of(experiments)
    return render(request, "experiments/dataset.html", {
        "nav": "experiments", "dataset": dataset, "version": version, "page": page,
        "rows": [(item, pretty(item.input), pretty(item.expected_output)) for item in page],
        "versions": dataset.versions.all(), "experiments": [(e, results[e.id].summary()) for e in experiments],
        "item_form": ItemForm(), "upload_form": UploadForm(), "can_write": _can_write(request),
    })


@require_POST
@org_view(Role.MEMBER)
def item_add(request, dataset_id):
    dataset = _dataset(request, dataset_id)
    form = ItemForm(request.POST)
    if form.is_valid():
        try:
            services.add_items(dataset=dataset, items=[form.item(source="manual")], note="added an item by hand")
        except services.InvalidInput as exc:
            form.add_error(None, f"{exc.field}: {exc.message}")
        else:
            return redirect("dataset-detail", org_slug=request.organisation.slug, dataset_id=dataset.id)
    return _invalid_item(request, dataset, form)


def _invalid_item(request, dataset: Dataset, form: forms.Form):
    messages.error(request, _errors(form) or "The item is not valid.")
    return redirect("dataset-detail", org_slug=request.organisation.slug, dataset_id=dataset.id)


@require_POST
@org_view(Role.MEMBER)
def dataset_upload(request, dataset_id):
    dataset = _dataset(request, dataset_id)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _invalid_item(request, dataset, form)
    upload = request.FILES["file"]
    if upload.size > MAX_UPLOAD_BYTES:
        messages.error(request, f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
        return redirect("dataset-detail", org_slug=request.organisation.slug, dataset_id=dataset.id)
    parsed = services.parse_upload(upload.name, upload.read())
    if parsed.items:
        try:
            services.add_items(dataset=dataset, items=parsed.items,
                               note=f"uploaded {len(parsed.items)} item(s) from {upload.name}"[:300])
        except services.InvalidInput as exc:
            parsed.errors.insert(0, f"{exc.field}: {exc.message}")
        else:
            messages.success(request, f"Added {len(parsed.items)} item(s) as version {dataset.version}.")
    for error in parsed.errors[:20]:
        messages.error(request, error)
    if len(parsed.errors) > 20:
        messages.error(request, f"… and {len(parsed.errors) - 20} more problems.")
    return redirect("dataset-detail", org_slug=request.organisation.slug, dataset_id=dataset.id)


def _item(request, dataset_id, item_id) -> DatasetItem:
    return get_for_org_or_404(DatasetItem.objects.select_related("dataset"), request.organisation,
                              dataset_id=dataset_id, id=item_id)


@org_view()
def item_edit(request, dataset_id, item_id):
    item = _item(request, dataset_id, item_id)
    if request.method == "POST":
        require_role(request, Role.MEMBER)
        form = ItemForm(request.POST)
        if form.is_valid():
            edited = form.item()
            try:
                services.edit_item(item=item, changes={"input": edited.input, "expected_output": edited.expected_output,
                                                       "expected_behaviour": edited.expected_behaviour,
                                                       "checks": edited.checks})
            except services.InvalidInput as exc:
                form.add_error(None, f"{exc.field}: {exc.message}")
            else:
                return redirect("dataset-detail", org_slug=request.organisation.slug, dataset_id=item.dataset_id)
    else:
        form = ItemForm(initial={"input": pretty(item.input), "expected_output": pretty(item.expected_output),
                                 "expected_behaviour": item.expected_behaviour,
                                 "checks": json.dumps(item.checks) if item.checks else ""})
    return render(request, "experiments/item_edit.html", {"nav": "experiments", "item": item, "form": form,
                                                           "can_write": _can_write(request)})


@require_POST
@org_view(Role.MEMBER)
def item_remove(request, dataset_id, item_id):
    item = _item(request, dataset_id, item_id)
    try:
        services.remove_item(item=item)
    except services.InvalidInput as exc:
        messages.error(request, exc.message)
    return redirect("dataset-detail", org_slug=request.organisation.slug, dataset_id=item.dataset_id)


@org_view()
def add_run(request, trace_id):
    """'Add to dataset' from a trace or the labelling queue: the run's input, and its output as expected when
    the team labelled it correct."""
    trace = get_for_org_or_404(Trace.objects.select_related("agent"), request.organisation, id=trace_id)
    datasets = list(selectors.datasets_for(request.organisation))
    proposed = services.item_from_trace(trace)
    if request.method == "POST":
        require_role(request, Role.MEMBER)
        form = AddRunForm(request.POST, datasets=datasets)
        if form.is_valid():
            dataset = _add_run(request, form, proposed)
            if dataset is not None:
                messages.success(request, f"Added to {dataset.name} as version {dataset.version}.")
                return redirect("dataset-detail", org_slug=request.organisation.slug, dataset_id=dataset.id)
    else:
        form = AddRunForm(datasets=datasets, initial={
            "expected_output": pretty(proposed.expected_output), "expected_behaviour": proposed.expected_behaviour,
            "new_dataset": f"{trace.agent.name} regressions"})
    return render(request, "experiments/add_run.html", {
        "nav": "experiments", "trace": trace, "form": form, "input": pretty(trace.input), "proposed": proposed,
        "can_write": _can_write(request)})


def _add_run(request, form: AddRunForm, proposed: services.ItemData) -> Dataset | None:
    data = form.cleaned_data
    item = form.item(metadata=proposed.metadata, source=proposed.source, source_ref=proposed.source_ref,
                     source_trace=proposed.source_trace)
    item.input = proposed.input
    try:
        if data["dataset"]:
            dataset = get_for_org_or_404(Dataset, request.organisation, id=data["dataset"])
            services.add_items(dataset=dataset, items=[item], note=f"added a run ({proposed.source_ref})")
            return dataset
        return services.create_dataset(organisation=request.organisation, name=data["new_dataset"],
                                       created_by=request.user, items=[item],
                                       note=f"created from a run ({proposed.source_ref})")
    except services.InvalidInput as exc:
        form.add_error(None, exc.message)
        return None


# -- an experiment and comparisons ------------------------------------------------------------------------------
def _experiment(request, experiment_id) -> Experiment:
    return get_for_org_or_404(Experiment.objects.select_related("dataset"), request.organisation, id=experiment_id)


@org_view()
def experiment_detail(request, experiment_id):
    """The experiment's figures and the item × experiment matrix: this experiment beside the latest others on
    its dataset (or the ones picked with ?with=), filtered to the items that changed or fail."""
    experiment = _experiment(request, experiment_id)
    others = [e for e in selectors.experiments_on(experiment.dataset, limit=50) if e.id != experiment.id]
    picked = set(request.GET.getlist("with"))
    shown = [e for e in others if str(e.id) in picked] if picked else others[:MATRIX_COLUMNS - 1]
    columns = [experiment, *shown[:MATRIX_COLUMNS - 1]]
    results = selectors.results_of(columns)
    show = request.GET.get("show", "all")
    rows = _matrix(columns, results, show)
    return render(request, "experiments/experiment.html", {
        "nav": "experiments", "experiment": experiment, "summary": results[experiment.id].summary(),
        "columns": columns, "rows": rows, "show": show, "others": others, "picked": picked,
        "compare_with": shown[0] if shown else None,
    })


def _matrix(columns: list[Experiment], results: dict, show: str) -> list[dict[str, Any]]:
    by_item: dict[Any, dict[str, Any]] = {}
    for column, experiment in enumerate(columns):
        for result in results[experiment.id].items:
            row = by_item.setdefault(result.item.id, {"item": result.item, "cells": [None] * len(columns)})
            row["cells"][column] = result
    rows = []
    for row in by_item.values():
        outcomes = {c.passed_every_time for c in row["cells"] if c is not None and c.runs}
        row["changed"] = len(outcomes) > 1
        row["failing"] = row["cells"][0] is not None and row["cells"][0].passed_every_time is False
        row["input"] = pretty(row["item"].input)
        if show == "changed" and not row["changed"] or show == "failing" and not row["failing"]:
            continue
        rows.append(row)
    return rows


@org_view()
def compare(request):
    organisation = request.organisation
    experiments = list(Experiment.objects.for_org(organisation).select_related("dataset").order_by("-created_at")[:200])
    a = b = comparison = None
    error = ""
    if request.GET.get("a") and request.GET.get("b"):
        a, b = (selectors.find_experiment(organisation, request.GET[k]) for k in ("a", "b"))
        if a is None or b is None:
            raise Http404("No such experiment")
        try:
            comparison = selectors.compare_experiments(a, b)
        except selectors.NotComparable as exc:
            error = str(exc)
    rows = [{**row, "label": LABELS[row["metric"]], "before_text": figure(row["metric"], row["before"], row.get("of")),
             "after_text": figure(row["metric"], row["after"], row.get("of")), "change": change(row)}
            for row in (comparison.rows if comparison else [])]
    return render(request, "experiments/compare.html", {
        "nav": "experiments", "experiments": experiments, "a": a, "b": b, "comparison": comparison, "rows": rows,
        "fixed": comparison.listed("fixed") if comparison else [],
        "broke": comparison.listed("broke") if comparison else [],
        "still_failing": comparison.listed("still_failing") if comparison else [],
        "judges": [{**j, "change": change({"metric": "reliability", "before": j["pass_rate_before"],
                                           "after": j["pass_rate_after"]})} for j in (comparison.judges if comparison else [])],
        "error": error, "api_url": reverse("api-experiments-compare") + (f"?a={a.id}&b={b.id}" if a and b else ""),
    })


# -- replays ------------------------------------------------------------------------------------------------------
@require_POST
@org_view(Role.MEMBER)
def replay_create(request):
    organisation = request.organisation
    form = ReplayForm(request.POST, agents=Agent.objects.for_org(organisation),
                      connections=ModelConnection.objects.for_org(organisation))
    if not form.is_valid():
        messages.error(request, _errors(form))
        return redirect("experiments", org_slug=organisation.slug)
    data = form.cleaned_data
    spans = replays.recent_llm_spans(organisation, agent_id=data["agent"], model=data["recorded_model"].strip(),
                                     limit=data["calls"])
    if not spans:
        messages.error(request, "No recorded LLM call of this agent has chat messages and a text answer to replay.")
        return redirect("experiments", org_slug=organisation.slug)
    try:
        replay = replays.create_replay(organisation=organisation, spans=spans, connection_id=data["connection"],
                                       model=data["model"], budget_usd=data["budget_usd"])
    except services.InvalidInput as exc:
        messages.error(request, f"{exc.field}: {exc.message}")
        return redirect("experiments", org_slug=organisation.slug)
    return redirect("replay-detail", org_slug=organisation.slug, replay_id=replay.id)


@org_view()
def replay_detail(request, replay_id):
    replay = get_for_org_or_404(Replay, request.organisation, id=replay_id)
    return render(request, "experiments/replay.html", {"nav": "experiments", "replay": replay,
                                                        "results": replays.replay_results(replay)})
