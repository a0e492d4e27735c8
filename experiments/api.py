"""The datasets and experiments API: thin views over services (writes) and selectors (reads)."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from arcweb.errors import error_body
from arcweb.tenancy import get_for_org_or_404

from . import replays, selectors, services
from .formatting import judge_text, progress_text
from .models import Dataset, DatasetItem, DatasetVersion, Experiment, Replay
from .parsers import JsonParser
from .serializers import (
    ComparisonSerializer,
    DatasetInput,
    DatasetListSerializer,
    DatasetOutput,
    ExperimentInput,
    ExperimentListSerializer,
    ExperimentOutput,
    ItemEditInput,
    ItemOutput,
    ItemPageSerializer,
    ItemResultPageSerializer,
    ItemsAddedSerializer,
    ItemsInput,
    ReplayInput,
    ReplayListSerializer,
    ReplayOutput,
    RunListSerializer,
    RunsInput,
    RunsRecordedSerializer,
)

ITEM_PAGE = 100
MAX_PAGE = 1000
LIMIT = OpenApiParameter("limit", int, description=f"Page size (at most {MAX_PAGE})")
OFFSET = OpenApiParameter("offset", int, description="Skip this many")


class ExperimentsApiView(APIView):
    parser_classes = [JsonParser]

    @property
    def organisation(self):
        return self.request.auth.organisation

    def valid(self, serializer_class, data=None, **kwargs) -> dict[str, Any]:
        serializer = serializer_class(data=self.request.data if data is None else data, **kwargs)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def page(self, default: int = ITEM_PAGE) -> tuple[int, int]:
        return _whole(self.request, "limit", default, 1, MAX_PAGE), _whole(self.request, "offset", 0, 0, 10**9)

    def dataset(self, dataset_id) -> Dataset:
        return get_for_org_or_404(_with_versions(Dataset.objects), self.organisation, id=dataset_id)

    def experiment(self, experiment_id) -> Experiment:
        return get_for_org_or_404(Experiment.objects.select_related("dataset"), self.organisation, id=experiment_id)


def _whole(request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise exceptions.ValidationError(error_body("invalid", f"{name} is a whole number from {low} to {high}",
                                                    field=name))
    return int(raw)


def _with_versions(queryset):
    return queryset.prefetch_related(Prefetch("versions", queryset=DatasetVersion.objects.order_by("-number")))


def invalid(exc: services.InvalidInput) -> exceptions.ValidationError:
    return exceptions.ValidationError(error_body("invalid", exc.message, field=exc.field))


def item_data(values: dict[str, Any]) -> services.ItemData:
    return services.ItemData(input=values["input"], expected_output=values.get("expected_output"),
                             expected_behaviour=values.get("expected_behaviour", ""),
                             checks=[dict(c) for c in values.get("checks") or []],
                             metadata=dict(values.get("metadata") or {}))


# -- datasets --------------------------------------------------------------------------------------------------
class DatasetCollectionView(ExperimentsApiView):
    @extend_schema(operation_id="list_datasets", summary="Datasets",
                   parameters=[OpenApiParameter("name", str, description="Only the dataset of this name")],
                   responses={200: DatasetListSerializer})
    def get(self, request):
        datasets = _with_versions(selectors.datasets_for(self.organisation))
        if request.query_params.get("name"):
            datasets = datasets.filter(name=request.query_params["name"])
        return Response({"results": DatasetOutput(datasets[:500], many=True).data})

    @extend_schema(operation_id="create_dataset", summary="Create a dataset (with its first items, if given)",
                   request=DatasetInput, responses={201: DatasetOutput},
                   examples=[OpenApiExample("Support questions", request_only=True, value={
                       "name": "support-regressions", "description": "Questions the bot got wrong in November",
                       "items": [{"input": {"question": "Where is order 1042?"}, "expected_output": "shipped",
                                  "checks": [{"type": "contains", "value": "shipped"}]}]})])
    def post(self, request):
        values = self.valid(DatasetInput)
        try:
            dataset = services.create_dataset(organisation=self.organisation, name=values["name"],
                                              description=values["description"],
                                              items=[item_data(i) for i in values["items"]], note="created by API")
        except services.InvalidInput as exc:
            raise invalid(exc) from None
        return Response(DatasetOutput(self.dataset(dataset.id)).data, status=status.HTTP_201_CREATED)


class DatasetDetailView(ExperimentsApiView):
    @extend_schema(operation_id="get_dataset", summary="A dataset with its versions",
                   responses={200: DatasetOutput})
    def get(self, request, dataset_id):
        return Response(DatasetOutput(self.dataset(dataset_id)).data)


class DatasetItemsView(ExperimentsApiView):
    @extend_schema(operation_id="list_dataset_items", summary="The items of a version (default: the latest)",
                   parameters=[OpenApiParameter("version", int), LIMIT, OFFSET], responses={200: ItemPageSerializer})
    def get(self, request, dataset_id):
        dataset = self.dataset(dataset_id)
        version = _whole(request, "version", dataset.version, 0, dataset.version)
        limit, offset = self.page()
        items = selectors.items_at(dataset, version)
        count = items.count()
        return Response({"version": version, "count": count,
                         "next_offset": offset + limit if offset + limit < count else None,
                         "results": ItemOutput(items[offset:offset + limit], many=True).data})

    @extend_schema(operation_id="add_dataset_items", summary="Add items: one new version",
                   request=ItemsInput, responses={201: ItemsAddedSerializer},
                   examples=[OpenApiExample("Two items", request_only=True, value={"items": [
                       {"input": {"question": "What is 6 x 7?"}, "expected_output": 42,
                        "checks": [{"type": "numeric", "tolerance": 0.5}]},
                       {"input": {"question": "Refund order 7?"}, "expected_behaviour": "Asks for the receipt first",
                        "metadata": {"tier": "gold"}}]})])
    def post(self, request, dataset_id):
        dataset = self.dataset(dataset_id)
        values = self.valid(ItemsInput)
        try:
            rows = services.add_items(dataset=dataset, items=[item_data(i) for i in values["items"]],
                                      note=f"added {len(values['items'])} item(s) by API")
        except services.InvalidInput as exc:
            raise invalid(exc) from None
        return Response({"version": dataset.version, "items": ItemOutput(rows, many=True).data},
                        status=status.HTTP_201_CREATED)


class DatasetItemDetailView(ExperimentsApiView):
    http_method_names = ["get", "patch", "delete", "options"]

    def item(self, dataset_id, item_id) -> DatasetItem:
        return get_for_org_or_404(DatasetItem.objects.select_related("dataset"), self.organisation,
                                  dataset_id=dataset_id, id=item_id)

    @extend_schema(operation_id="get_dataset_item", summary="An item (of any version)", responses={200: ItemOutput})
    def get(self, request, dataset_id, item_id):
        return Response(ItemOutput(self.item(dataset_id, item_id)).data)

    @extend_schema(operation_id="edit_dataset_item", summary="Edit an item: a new version with the edited copy",
                   request=ItemEditInput, responses={200: ItemOutput})
    def patch(self, request, dataset_id, item_id):
        item = self.item(dataset_id, item_id)
        changes = self.valid(ItemEditInput)
        if "checks" in changes:
            changes["checks"] = [dict(c) for c in changes["checks"]]
        try:
            return Response(ItemOutput(services.edit_item(item=item, changes=changes)).data)
        except services.InvalidInput as exc:
            raise invalid(exc) from None

    @extend_schema(operation_id="remove_dataset_item", summary="Remove an item: a new version without it",
                   responses={204: None})
    def delete(self, request, dataset_id, item_id):
        try:
            services.remove_item(item=self.item(dataset_id, item_id))
        except services.InvalidInput as exc:
            raise invalid(exc) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


# -- experiments ----------------------------------------------------------------------------------------------
def experiment_output(experiment: Experiment, results: selectors.ExperimentResults | None = None) -> dict:
    experiment.url = reverse("experiment-detail", args=[experiment.organisation.slug, experiment.id])
    if results is not None:
        experiment.summary = results.summary()
    return ExperimentOutput(experiment).data


class ExperimentCollectionView(ExperimentsApiView):
    @extend_schema(operation_id="list_experiments", summary="Experiments, newest first",
                   parameters=[OpenApiParameter("dataset", str, description="Dataset id or name"),
                               OpenApiParameter("name", str), LIMIT],
                   responses={200: ExperimentListSerializer})
    def get(self, request):
        experiments = Experiment.objects.for_org(self.organisation).select_related("dataset", "organisation")
        if request.query_params.get("dataset"):
            dataset = selectors.find_dataset(self.organisation, request.query_params["dataset"])
            experiments = experiments.filter(dataset=dataset)
        if request.query_params.get("name"):
            experiments = experiments.filter(name=request.query_params["name"])
        limit, _ = self.page(default=100)
        return Response({"results": [experiment_output(e) for e in experiments.order_by("-created_at")[:limit]]})

    @extend_schema(
        operation_id="create_experiment", summary="Start an experiment on a dataset's latest version",
        description="What the SDK's run_experiment calls first; it then reports each item's runs to "
                    "/api/v1/experiments/{id}/runs and finishes with /api/v1/experiments/{id}/finish.",
        request=ExperimentInput, responses={201: ExperimentOutput})
    def post(self, request):
        values = self.valid(ExperimentInput)
        dataset = selectors.find_dataset(self.organisation, values["dataset"])
        if dataset is None:
            raise exceptions.NotFound("No such dataset.")
        try:
            experiment = services.create_experiment(
                organisation=self.organisation, dataset=dataset, name=values["name"], repeats=values["repeats"],
                agent=values["agent"], metadata=dict(values["metadata"]))
        except services.InvalidInput as exc:
            raise invalid(exc) from None
        return Response(experiment_output(experiment), status=status.HTTP_201_CREATED)


class ExperimentDetailView(ExperimentsApiView):
    @extend_schema(operation_id="get_experiment", summary="An experiment with its results",
                   description="Success rate with its 95% Wilson interval, pass^k over the items (k = repeats), "
                               "cost, latency, tool success and compliance. Per item: /items.",
                   responses={200: ExperimentOutput})
    def get(self, request, experiment_id):
        experiment = self.experiment(experiment_id)
        return Response(experiment_output(experiment, selectors.experiment_results(experiment)))


def run_output(run: selectors.RunResult, item_id=None) -> dict[str, Any]:
    data = {"repeat": run.repeat, "passed": run.passed, "checks_passed": run.checks_passed, "checks": run.checks,
            "verdict": run.verdict, "error": run.error, "trace": run.trace_id, "duration_ms": run.duration_ms,
            "cost_usd": run.cost_usd, "score": run.score, "judge_scores": run.judge_scores}
    return {"item": item_id, **data} if item_id is not None else data


def item_brief(item: DatasetItem) -> dict[str, Any]:
    return {"id": item.id, "input": item.input, "expected_output": item.expected_output,
            "expected_behaviour": item.expected_behaviour}


def item_result(result: selectors.ItemResult, k: int) -> dict[str, Any]:
    return {"item": item_brief(result.item), "runs_count": len(result.runs), "passes": result.passes,
            "pass_rate": result.pass_rate, "pass_k": result.pass_k(k), "passed_every_time": result.passed_every_time,
            "cost_usd": result.cost_usd, "duration_ms": result.duration_ms, "score": result.score,
            "runs": [run_output(r) for r in result.runs]}


class ExperimentItemsView(ExperimentsApiView):
    @extend_schema(operation_id="list_experiment_items", summary="Each item's runs, pass^k, cost and latency",
                   parameters=[LIMIT, OFFSET], responses={200: ItemResultPageSerializer})
    def get(self, request, experiment_id):
        experiment = self.experiment(experiment_id)
        limit, offset = self.page(default=500)
        items = selectors.experiment_results(experiment).items
        return Response(ItemResultPageSerializer({
            "count": len(items), "next_offset": offset + limit if offset + limit < len(items) else None,
            "results": [item_result(r, experiment.repeats) for r in items[offset:offset + limit]]}).data)


class ExperimentRunsView(ExperimentsApiView):
    @extend_schema(operation_id="list_experiment_runs", summary="The runs reported so far (to resume an experiment)",
                   parameters=[LIMIT, OFFSET], responses={200: RunListSerializer})
    def get(self, request, experiment_id):
        experiment = self.experiment(experiment_id)
        limit, offset = self.page(default=MAX_PAGE)
        runs = [run_output(run, result.item.id) for result in selectors.experiment_results(experiment).items
                for run in result.runs]
        return Response(RunListSerializer({
            "count": len(runs), "next_offset": offset + limit if offset + limit < len(runs) else None,
            "results": runs[offset:offset + limit]}).data)

    @extend_schema(operation_id="report_experiment_runs", summary="Report runs of items (the SDK does this)",
                   description="Each run's output is checked against its item's checks here; its trace (sent by "
                               "the SDK as usual) is linked by trace_id. The same item and repeat again replaces "
                               "the earlier report.",
                   request=RunsInput, responses={201: RunsRecordedSerializer})
    def post(self, request, experiment_id):
        experiment = self.experiment(experiment_id)
        values = self.valid(RunsInput)
        reports = [services.RunReport(item_id=str(r["item"]), repeat=r["repeat"], output=r["output"],
                                      error=dict(r["error"]) if r["error"] else None, duration_ms=r["duration_ms"],
                                      trace_id=r["trace_id"]) for r in values["runs"]]
        try:
            rows = services.record_runs(experiment=experiment, runs=reports)
        except services.InvalidInput as exc:
            raise invalid(exc) from None
        return Response({"recorded": len(rows), "linked_to_traces": sum(r.trace_id is not None for r in rows)},
                        status=status.HTTP_201_CREATED)


class ExperimentFinishView(ExperimentsApiView):
    @extend_schema(operation_id="finish_experiment", summary="Mark an experiment finished", request=None,
                   responses={200: ExperimentOutput})
    def post(self, request, experiment_id):
        experiment = services.finish_experiment(experiment=self.experiment(experiment_id))
        return Response(experiment_output(experiment, selectors.experiment_results(experiment)))


def pair_output(pair: selectors.ItemPair) -> dict[str, Any]:
    def side(result: selectors.ItemResult) -> dict[str, Any]:
        return {"passes": result.passes, "runs": len(result.runs), "traces": [r.trace_id for r in result.runs]}

    return {"item": item_brief(pair.item), "a": side(pair.before), "b": side(pair.after)}


def comparison_output(comparison: selectors.Comparison, url: str) -> dict[str, Any]:
    def brief(results: selectors.ExperimentResults) -> dict[str, Any]:
        e = results.experiment
        return {"id": e.id, "name": e.name, "dataset_version": e.dataset_version, "summary": results.summary()}

    test = comparison.mcnemar
    return ComparisonSerializer({
        "a": brief(comparison.before), "b": brief(comparison.after), "dataset": comparison.before.experiment.dataset_id,
        "items_compared": len(comparison.pairs), "only_in_a": comparison.only_before,
        "only_in_b": comparison.only_after, "alpha": selectors.paired.ALPHA, "mcnemar": test.as_dict(),
        "regressed": comparison.regressed, "improved": test.fixed > test.broke and test.significant(),
        "fixed": [pair_output(p) for p in comparison.listed("fixed")],
        "broke": [pair_output(p) for p in comparison.listed("broke")],
        "still_failing": [pair_output(p) for p in comparison.listed("still_failing")],
        "still_passing": len(comparison.listed("still_passing")),
        "intervals": {k: v.as_dict() if v else None for k, v in comparison.intervals.items()},
        "progress": [{**row, "text": progress_text(row)} for row in comparison.rows],
        "judges": [{**j, "text": judge_text(j)} for j in comparison.judges], "url": url,
    }).data


class ExperimentCompareView(ExperimentsApiView):
    @extend_schema(
        operation_id="compare_experiments", summary="Compare two experiments on one dataset, item by item",
        description="McNemar's test on each item's pass/fail (an item passes when every repeat passed), paired "
                    "bootstrap intervals on per-item pass rate, score, cost and latency; the fixed, broken and "
                    "still failing items; the progress table. `regressed` is the CI gate.",
        parameters=[OpenApiParameter("a", str, required=True, description="The earlier experiment: id or name"),
                    OpenApiParameter("b", str, required=True, description="The later experiment: id or name")],
        responses={200: ComparisonSerializer})
    def get(self, request):
        a, b = (self._find(request.query_params.get(name), name) for name in ("a", "b"))
        try:
            comparison = selectors.compare_experiments(a, b)
        except selectors.NotComparable as exc:
            raise exceptions.ValidationError(error_body("not_comparable", str(exc), field="b")) from None
        url = reverse("experiment-compare", args=[self.organisation.slug]) + f"?a={a.id}&b={b.id}"
        return Response(comparison_output(comparison, url))

    def _find(self, ident: str | None, name: str) -> Experiment:
        if not ident:
            raise exceptions.ValidationError(error_body("invalid", f"{name} is required", field=name))
        experiment = selectors.find_experiment(self.organisation, ident)
        if experiment is None:
            raise exceptions.NotFound(f"No such experiment: {name}.")
        return experiment


# -- replays -------------------------------------------------------------------------------------------------------
def replay_output(replay: Replay) -> dict[str, Any]:
    results = replays.replay_results(replay)
    differing = [{"trace_id": c.trace_id, "span_id": c.span_id, "recorded_model": c.recorded_model,
                  "request": next((m["content"] for m in reversed(c.messages) if m["role"] == "user"), "")[:2000],
                  "recorded_answer": c.recorded_answer[:5000], "replayed_answer": c.replayed_answer[:5000],
                  "status": c.status, "equivalent": c.equivalent, "reasoning": c.reasoning, "error": c.error}
                 for c in results.pop("differing")]
    results.pop("failed_calls")
    return ReplayOutput({
        **{f: getattr(replay, f) for f in ("id", "name", "status", "connection_id", "model", "judge_model",
                                           "budget_usd", "spent_usd", "error", "created_at", "finished_at")},
        "connection_name": replay.connection.name,
        "results": results, "differing": differing,
        "url": reverse("replay-detail", args=[replay.organisation.slug, replay.id])}).data


class ReplayCollectionView(ExperimentsApiView):
    @extend_schema(operation_id="list_replays", summary="Replays, newest first", responses={200: ReplayListSerializer})
    def get(self, request):
        found = Replay.objects.for_org(self.organisation).select_related("organisation", "connection").order_by("-created_at")[:100]
        return Response({"results": [replay_output(r) for r in found]})

    @extend_schema(
        operation_id="create_replay", summary="Replay recorded LLM calls on a cheaper model",
        description="Each picked span's recorded messages are sent to `model`; its answer is judged against the "
                    "recorded one by `judge_model` (an identical answer needs no judge). Runs in the background "
                    "within `budget_usd`; poll GET /api/v1/replays/{id} for the share equivalent with its "
                    "interval, the savings per 1,000 calls and the calls that differed.",
        request=ReplayInput, responses={202: ReplayOutput},
        examples=[OpenApiExample("Try gpt-4o-mini", request_only=True, value={
            "connection": "5d0f3c1e-8a2b-4c7d-9e1f-2a3b4c5d6e7f", "model": "gpt-4o-mini",
            "budget_usd": 2, "spans": [{"trace": "0b7c8a0e-3f5e-4c1b-9a53-0c5d2b0c9a11", "span_id": "s1"}]})])
    def post(self, request):
        values = self.valid(ReplayInput)
        try:
            replay = replays.create_replay(
                organisation=self.organisation, name=values["name"], connection_id=values["connection"],
                model=values["model"],
                judge_model=values["judge_model"], budget_usd=values["budget_usd"],
                spans=[replays.SpanRef(str(s["trace"]), s["span_id"]) for s in values["spans"]])
        except services.InvalidInput as exc:
            raise invalid(exc) from None
        return Response(replay_output(replay), status=status.HTTP_202_ACCEPTED)


class ReplayDetailView(ExperimentsApiView):
    @extend_schema(operation_id="get_replay", summary="A replay's results", responses={200: ReplayOutput})
    def get(self, request, replay_id):
        replay = get_for_org_or_404(Replay.objects.select_related("organisation", "connection"), self.organisation, id=replay_id)
        return Response(replay_output(replay))
