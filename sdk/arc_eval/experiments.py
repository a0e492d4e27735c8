"""Run an agent over a dataset of the server: each item, `repeats` times, traced and reported to an experiment.

    import arc_eval

    result = arc_eval.run_experiment("support-regressions", answer, repeats=3, name="prompt-v2")
    print(result.success_rate, result.url)

The agent is called with each item's input (``agent(item_input)``), sync or async. What it returns is the
run's output, checked on the server against the item's checks; an exception or a timeout makes that run a
failure, never the experiment's end. Runs are reported as they finish, so an interrupted experiment is
taken up again with ``resume=True`` (same name): only the runs it lacks are made.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import queue
import sys
import threading
import time
import urllib.parse
from contextvars import ContextVar
from typing import Any, Callable, Optional, Union

from . import config
from ._serialize import to_jsonable, truncate
from .client import ApiClient, ApiError
from .tracer import ArcTracer, current_run, get_tracer, trace_agent, update_trace

REPORT_EVERY = 25  # runs per report to the server
REPORT_SECONDS = 2.0  # and at least this often while runs finish
PAGE = 1000


class ExperimentError(Exception):
    """The experiment could not start or be reported: no such dataset, a name taken, the server refused."""


class DatasetItem:
    """One case of a dataset: what the agent gets (``input``) and what is expected of it."""

    __slots__ = ("id", "input", "expected_output", "expected_behaviour", "metadata")

    def __init__(self, data: dict[str, Any]) -> None:
        self.id = str(data["id"])
        self.input = data.get("input")
        self.expected_output = data.get("expected_output")
        self.expected_behaviour = data.get("expected_behaviour") or ""
        self.metadata = data.get("metadata") or {}

    def __repr__(self) -> str:
        return f"DatasetItem(id={self.id!r}, input={truncate(repr(self.input), 80)})"


class Dataset:
    """A dataset of the server at its latest version (``get_dataset(name)``)."""

    def __init__(self, data: dict[str, Any], client: ApiClient) -> None:
        self.id = str(data["id"])
        self.name = data.get("name", "")
        self.version = int(data.get("version") or 0)
        self._client = client

    def items(self, version: Optional[int] = None) -> list[DatasetItem]:
        return _items(self._client, self.id, self.version if version is None else version)

    def __repr__(self) -> str:
        return f"Dataset(name={self.name!r}, version={self.version})"


class ExperimentResult:
    """The experiment as the server scored it: ``success_rate``, ``pass_k``, ``summary``, ``url``."""

    def __init__(self, data: dict[str, Any], base_url: str) -> None:
        self.data = data
        self.id = str(data["id"])
        self.name = data.get("name", "")
        self.dataset_version = data.get("dataset_version")
        self.summary: dict[str, Any] = data.get("summary") or {}
        self.url = base_url + str(data.get("url") or "")

    @property
    def success_rate(self) -> Optional[float]:
        return self.summary.get("success_rate")

    @property
    def pass_k(self) -> Optional[float]:
        return self.summary.get("pass_k")

    def __repr__(self) -> str:
        return f"ExperimentResult(name={self.name!r}, success_rate={self.success_rate!r}, url={self.url!r})"


_ITEM: ContextVar[Optional[DatasetItem]] = ContextVar("arc_eval_experiment_item", default=None)


def current_item() -> Optional[DatasetItem]:
    """The dataset item the agent is running on, inside ``run_experiment`` (its metadata holds a scenario's
    fault to inject, for instance); None elsewhere."""
    return _ITEM.get()


def get_dataset(name_or_id: str, *, api_key: Optional[str] = None, base_url: Optional[str] = None) -> Dataset:
    client = _client(api_key, base_url)
    return Dataset(_find_dataset(client, name_or_id), client)


def run_experiment(
    dataset: Union[str, Dataset],
    agent: Callable[..., Any],
    *,
    repeats: int = 1,
    concurrency: int = 4,
    name: Optional[str] = None,
    timeout: Optional[float] = 300.0,
    resume: Union[bool, str] = False,
    agent_id: Optional[str] = None,
    metadata: Optional[dict[str, Any]] = None,
    progress: bool = True,
    api_key: Optional[str] = None,
    base_url: Optional[str] = None,
    tracer: Optional[ArcTracer] = None,
) -> ExperimentResult:
    """Run ``agent`` on every item of ``dataset`` (a name, an id or a Dataset), ``repeats`` times each, at most
    ``concurrency`` at once, and return the server's results.

    Each run is a trace of agent ``agent_id`` (default: the function's name with " (experiments)", so
    experiments stay out of the production agent's figures) linked to the experiment and the item.
    ``resume=True`` takes up the unfinished experiment called ``name`` (or pass its id or name).
    """
    if repeats < 1 or concurrency < 1:
        raise ValueError("repeats and concurrency are at least 1")
    client = _client(api_key, base_url)
    dataset_data = _find_dataset(client, dataset.id if isinstance(dataset, Dataset) else str(dataset))
    agent_id = agent_id or f"{_agent_name(agent)} (experiments)"
    experiment, done = _start(client, dataset_data, name, repeats, resume, agent_id, metadata)
    items = _items(client, dataset_data["id"], int(experiment["dataset_version"]))
    repeats = int(experiment.get("repeats") or repeats)
    jobs = [(item, r) for item in items for r in range(repeats) if (item.id, r) not in done]
    tracer = tracer or (ArcTracer(api_key=api_key, base_url=base_url) if api_key or base_url else get_tracer())
    runner = _Runner(agent, tracer, experiment, dataset_data, agent_id, timeout)
    bar = _Progress(len(jobs), total_runs=len(items) * repeats, enabled=progress)
    results: queue.Queue = queue.Queue()
    runner.start(jobs, concurrency, results)
    pending: list[dict[str, Any]] = []
    last_report = time.monotonic()
    try:
        for _ in range(len(jobs)):
            run = results.get()
            pending.append(run)
            bar.advance(failed=run.get("error") is not None)
            if len(pending) >= REPORT_EVERY or time.monotonic() - last_report >= REPORT_SECONDS:
                _report(client, experiment["id"], pending)
                pending, last_report = [], time.monotonic()
        _report(client, experiment["id"], pending)
        tracer.flush(30.0)  # the traces are in before the experiment links the last of them
        finished = client.post(f"/api/v1/experiments/{experiment['id']}/finish", {})
    except KeyboardInterrupt:
        runner.stop()
        _report(client, experiment["id"], pending)
        bar.close()
        print(f"interrupted: resume with run_experiment(..., name={experiment['name']!r}, resume=True)",
              file=sys.stderr)
        raise
    except ApiError as exc:
        runner.stop()
        raise ExperimentError(str(exc)) from None
    bar.close()
    result = ExperimentResult(finished, client.base_url)
    if progress:
        print(_summary_line(result), file=sys.stderr)
    return result


# -- the server's side ------------------------------------------------------------------------------------------
def _client(api_key: Optional[str], base_url: Optional[str]) -> ApiClient:
    key, url = config.resolve(api_key, base_url)
    if not key:
        raise ExperimentError("no API key: set ARC_API_KEY or run `arc-eval login`")
    return ApiClient(url, key)


def _find_dataset(client: ApiClient, ident: str) -> dict[str, Any]:
    try:
        found = client.get("/api/v1/datasets", name=ident).get("results") or []
        if found:
            return found[0]
        return client.get(f"/api/v1/datasets/{urllib.parse.quote(ident, safe='')}")
    except ApiError as exc:
        if exc.status == 404:
            raise ExperimentError(f"no dataset named {ident!r}") from None
        raise ExperimentError(str(exc)) from None


def _items(client: ApiClient, dataset_id: str, version: int) -> list[DatasetItem]:
    items: list[DatasetItem] = []
    offset: Optional[int] = 0
    while offset is not None:
        page = client.get(f"/api/v1/datasets/{dataset_id}/items", version=version, limit=PAGE, offset=offset)
        items.extend(DatasetItem(row) for row in page.get("results") or [])
        offset = page.get("next_offset")
    return items


def _start(client: ApiClient, dataset: dict[str, Any], name: Optional[str], repeats: int, resume: Union[bool, str],
           agent: str, metadata: Optional[dict[str, Any]]) -> tuple[dict[str, Any], set[tuple[str, int]]]:
    """The experiment to report to, and the (item, repeat) runs it already has."""
    if resume:
        ident = name if resume is True else str(resume)
        if not ident:
            raise ExperimentError("resume=True needs the experiment's name")
        experiment = _find_experiment(client, ident)
        return experiment, _done_runs(client, experiment["id"])
    body = {"dataset": dataset["id"], "name": name or "", "repeats": repeats, "agent": agent,
            "metadata": to_jsonable(metadata or {})}
    try:
        return client.post("/api/v1/experiments", body), set()
    except ApiError as exc:
        raise ExperimentError(str(exc)) from None


def _find_experiment(client: ApiClient, ident: str) -> dict[str, Any]:
    found = client.get("/api/v1/experiments", name=ident).get("results") or []
    if found:
        return found[0]
    try:
        return client.get(f"/api/v1/experiments/{urllib.parse.quote(ident, safe='')}")
    except ApiError as exc:
        raise ExperimentError(f"no experiment {ident!r} to resume") from exc


def _done_runs(client: ApiClient, experiment_id: str) -> set[tuple[str, int]]:
    done: set[tuple[str, int]] = set()
    offset: Optional[int] = 0
    while offset is not None:
        page = client.get(f"/api/v1/experiments/{experiment_id}/runs", limit=PAGE, offset=offset)
        done.update((str(r["item"]), int(r["repeat"])) for r in page.get("results") or [])
        offset = page.get("next_offset")
    return done


def _report(client: ApiClient, experiment_id: str, runs: list[dict[str, Any]]) -> None:
    for start in range(0, len(runs), PAGE):
        client.post(f"/api/v1/experiments/{experiment_id}/runs", {"runs": runs[start:start + PAGE]})


# -- running the agent ------------------------------------------------------------------------------------------
def _agent_name(agent: Callable[..., Any]) -> str:
    spec = getattr(agent, "__arc_eval_spec__", None)
    if spec is not None and spec.name:
        return str(spec.name)
    target = getattr(agent, "__wrapped__", agent)
    return str(getattr(target, "__name__", None) or type(target).__name__)


def _is_async(fn: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(getattr(fn, "__call__", None))  # noqa: B004


class _Runner:
    """Calls the agent on each (item, repeat), as a traced run linked to the experiment, and puts one report
    per run on a queue. Sync agents run in threads (a run past its timeout is abandoned, its thread left to
    finish); async agents on an event loop of their own, cancelled at their timeout."""

    def __init__(self, agent: Callable[..., Any], tracer: ArcTracer, experiment: dict[str, Any],
                 dataset: dict[str, Any], agent_id: str, timeout: Optional[float]) -> None:
        # a function decorated with @trace_agent is traced here instead, linked to the experiment
        self.target = agent.__wrapped__ if getattr(agent, "__arc_eval_spec__", None) is not None else agent
        self.is_async = _is_async(self.target)
        self.tracer, self.experiment, self.dataset = tracer, experiment, dataset
        self.agent_id, self.timeout = agent_id, timeout
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def start(self, jobs: list[tuple[DatasetItem, int]], concurrency: int, results: queue.Queue) -> None:
        if self.is_async:
            thread = threading.Thread(target=lambda: asyncio.run(self._run_all_async(jobs, concurrency, results)),
                                      name="arc-eval-experiment", daemon=True)
            thread.start()
            return
        todo: queue.Queue = queue.Queue()
        for job in jobs:
            todo.put(job)
        for n in range(min(concurrency, len(jobs))):
            threading.Thread(target=self._work, args=(todo, results), name=f"arc-eval-experiment-{n}",
                             daemon=True).start()

    def _link(self, item: DatasetItem, repeat: int) -> dict[str, Any]:
        return {"arc_experiment": self.experiment["id"], "arc_experiment_name": self.experiment["name"],
                "arc_dataset": self.dataset["id"], "arc_dataset_version": self.experiment["dataset_version"],
                "arc_dataset_item": item.id, "arc_repeat": repeat}

    def _traced(self, item: DatasetItem, repeat: int, box: dict[str, Any]) -> Callable[..., Any]:
        link, target = self._link(item, repeat), self.target

        def enter() -> Any:
            update_trace(metadata=link, tags=["experiment"])
            run = current_run()
            box["trace_id"] = run.trace_id if run is not None else ""
            return _ITEM.set(item)

        if self.is_async:
            @functools.wraps(target)
            async def call(*args: Any, **kwargs: Any) -> Any:
                token = enter()
                try:
                    return await target(*args, **kwargs)
                finally:
                    _ITEM.reset(token)
        else:
            @functools.wraps(target)
            def call(*args: Any, **kwargs: Any) -> Any:
                token = enter()
                try:
                    return target(*args, **kwargs)
                finally:
                    _ITEM.reset(token)
        return trace_agent(call, agent_id=self.agent_id, tracer=self.tracer)

    def _work(self, todo: queue.Queue, results: queue.Queue) -> None:
        while not self._stop.is_set():
            try:
                item, repeat = todo.get_nowait()
            except queue.Empty:
                return
            box: dict[str, Any] = {}
            started = time.perf_counter()
            worker = threading.Thread(target=self._call, args=(item, repeat, box), name="arc-eval-agent", daemon=True)
            worker.start()
            worker.join(self.timeout)
            results.put(self._result(item, repeat, box, started, timed_out=worker.is_alive()))

    def _call(self, item: DatasetItem, repeat: int, box: dict[str, Any]) -> None:
        try:
            box["output"] = self._traced(item, repeat, box)(item.input)
        except BaseException as exc:  # noqa: BLE001 - the agent's failure is this run's result
            box["error"] = exc

    async def _run_all_async(self, jobs: list[tuple[DatasetItem, int]], concurrency: int,
                             results: queue.Queue) -> None:
        gate = asyncio.Semaphore(concurrency)

        async def one(item: DatasetItem, repeat: int) -> None:
            async with gate:
                if self._stop.is_set():
                    return
                box: dict[str, Any] = {}
                started = time.perf_counter()
                timed_out = False
                try:
                    box["output"] = await asyncio.wait_for(self._traced(item, repeat, box)(item.input), self.timeout)
                except asyncio.TimeoutError:
                    timed_out = True
                except BaseException as exc:  # noqa: BLE001 - the agent's failure is this run's result
                    box["error"] = exc
                results.put(self._result(item, repeat, box, started, timed_out))

        await asyncio.gather(*(one(item, repeat) for item, repeat in jobs))

    def _result(self, item: DatasetItem, repeat: int, box: dict[str, Any], started: float,
                timed_out: bool) -> dict[str, Any]:
        report: dict[str, Any] = {"item": item.id, "repeat": repeat, "trace_id": box.get("trace_id", ""),
                                  "duration_ms": round((time.perf_counter() - started) * 1000.0, 3)}
        if timed_out:
            report["error"] = {"type": "TimeoutError", "message": f"no answer within {self.timeout:g} s"}
        elif "error" in box:
            exc = box["error"]
            report["error"] = {"type": type(exc).__name__, "message": truncate(str(exc), 2000)}
        else:
            report["output"] = to_jsonable(box.get("output"))
        return report


class _Progress:
    """[#####.....] 12/20 runs, 3 failed — on stderr, redrawn in place on a terminal."""

    def __init__(self, todo: int, total_runs: int, enabled: bool) -> None:
        self.todo, self.done, self.failed = todo, 0, 0
        self.skipped = total_runs - todo
        self.enabled = enabled and todo > 0
        self.tty = sys.stderr.isatty()
        self.width = 30

    def advance(self, failed: bool) -> None:
        self.done += 1
        self.failed += failed
        if not self.enabled:
            return
        step = max(1, self.todo // 10)
        if self.tty or self.done == self.todo or self.done % step == 0:
            filled = int(self.width * self.done / self.todo)
            resumed = f" ({self.skipped} done before)" if self.skipped else ""
            line = f"[{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.todo} runs{resumed}, " \
                   f"{self.failed} raised or timed out"
            sys.stderr.write(("\r" + line) if self.tty else line + "\n")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled and self.tty:
            sys.stderr.write("\n")


def _summary_line(result: ExperimentResult) -> str:
    s = result.summary
    rate = s.get("success_rate")
    pass_k = s.get("pass_k")
    text = f"experiment {result.name}: success {rate * 100:.0f}% ({s.get('passed')}/{s.get('runs')} runs)" \
        if rate is not None else f"experiment {result.name}: no runs"
    if pass_k is not None:
        text += f", pass^{s.get('k')} {pass_k * 100:.0f}%"
    return f"{text}\n  {result.url}"
