"""The head of a sweep (plan, check, hand to an executor) and the local executor.

:func:`execute` filters finished runs, checks what the config models cannot see, plans work
items (:mod:`overparam.sweep._work`) and hands them to an executor from
:data:`overparam.registry.EXECUTORS`. An executor is any object with
``run(items, store, progress)``: it runs every item (by :func:`~overparam.sweep._work.run_item`,
wherever it likes) and the items write store parts; the head then consolidates.
"""

import threading
import time
from collections.abc import Sequence

import jax
import numpy as np
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Column
from rich.text import Text

from overparam import registry
from overparam._runtime import dtype_context
from overparam.configs import batched_values
from overparam.errors import ConfigError, DataError
from overparam.sweep._build import ProblemCache
from overparam.sweep._config import RunConfig
from overparam.sweep._environment import environment, finished
from overparam.sweep._grid import run_id
from overparam.sweep._store import Store
from overparam.sweep._work import (
    Stopped,
    WorkItem,
    WorkOptions,
    memory_budget,
    plan,
    run_item,
)

SEED_LIMIT = 2**32  # JAX keys hold 32 bits: seeds 0 and 2**32 would be the same run
INT32_MAX = int(np.iinfo(np.int32).max)


def check_runs(runs: Sequence[RunConfig]) -> None:
    """Refuse what the config models cannot see: seeds JAX would fold together, step counts
    beyond int32, an init scale or step size the run's dtype rounds to 0 or infinity, problems
    beyond memory. Raises ConfigError naming the field."""
    budget = memory_budget()
    for r in runs:
        for name, seed in (("seed", r.seed), ("problem.seed", getattr(r.problem, "seed", 0))):
            if seed >= SEED_LIMIT:
                raise ConfigError(f"{name}: must be < 2**32 (JAX keys hold 32 bits), got {seed}")
        dtype = r.dtype
        itemsize = np.dtype(dtype).itemsize
        need = r.problem.estimated_bytes(itemsize)
        if r.method == "gd":
            need += r.model.estimated_bytes(itemsize, r.problem)
        if need > budget:
            shape = getattr(r.problem, "matrix_shape", lambda: ())()
            size = "x".join(map(str, shape)) + " " if shape else ""
            raise ConfigError(f"problem: a {size}{r.problem.kind} problem needs about "
                              f"{need / 2**30:.3g} GiB, more than the {budget / 2**30:.3g} GiB "
                              "a run may use here")
        if r.method != "gd":
            continue
        if r.train.max_steps > INT32_MAX:
            raise ConfigError(f"train.max_steps: must be <= {INT32_MAX}, got {r.train.max_steps}")
        for section, cfg in (("model", r.model), ("optimizer", r.optimizer),
                             ("objective", r.objective)):
            for name, value in _floats(cfg):
                with np.errstate(over="ignore", under="ignore"):
                    cast = np.asarray(value, dtype)
                if value != 0 and (cast == 0 or not np.isfinite(cast)):
                    raise ConfigError(f"{section}.{name}: {value:g} is "
                                      f"{'0' if cast == 0 else 'infinite'} in {dtype}; use "
                                      "train.dtype = 'float64' or another value")


def _floats(cfg):
    return [(k, v) for k, v in batched_values(cfg).items()
            if isinstance(v, float) and not isinstance(v, bool)]


def _prepare_problems(runs: Sequence[RunConfig], cache: ProblemCache) -> None:
    for r in runs:
        with dtype_context(r.dtype):
            problem = cache.get(r.problem, r.dtype)
        if (r.train is not None and r.train.batch_size is not None
                and not callable(getattr(problem, "minibatch", None))):
            raise ConfigError(f"train.batch_size: problem kind {r.problem.kind!r} hands out no "
                              "minibatches (its problem has no minibatch(key, size)); leave "
                              "batch_size unset to train on the whole problem")
        if (r.train is not None and r.train.batch_size is not None
                and hasattr(problem, "num_measurements")):
            with dtype_context(r.dtype):
                real = int(problem.num_measurements)
            if r.train.batch_size > real:
                raise ConfigError(f"train.batch_size: {r.train.batch_size} is more than the "
                                  f"{real} measurements of the {r.problem.kind!r} problem; "
                                  "use at most that many, or leave batch_size unset")
        needs = () if r.model is None else registry.OPTIMIZERS.get(r.optimizer.name).problem_needs
        missing = [n for n in needs if getattr(problem, n, None) is None]
        if missing:
            raise ConfigError(f"optimizer.name: {r.optimizer.name!r} needs a problem of "
                              f"weighted measurements ({', '.join(needs)}); problem kind "
                              f"{r.problem.kind!r} has no {missing[0]}")
        if r.solver is not None and r.solver.kind == "truth" and problem.truth is None:
            raise DataError(f"{getattr(r.problem, 'path', r.problem.kind)}: baseline 'truth' "
                            "needs a problem with a known ground truth")


class _Bar:
    """The head's rich progress bar as a worker :class:`~overparam.sweep._work.Progress`."""

    def __init__(self, bar: Progress, task, stop: threading.Event):
        self._bar, self._task, self._stop = bar, task, stop
        self._notes: dict[str, str] = {}
        self._lock = threading.Lock()

    def advance(self, runs: int) -> None:
        self._bar.advance(self._task, runs)

    def status(self, worker: str, text: str) -> None:
        with self._lock:
            self._notes[worker] = text
            self._bar.update(self._task, note="; ".join(self._notes.values()))

    def stopped(self) -> bool:
        return self._stop.is_set()


class LocalExecutor:
    """Runs items in this process, one thread per device: training items on a fixed plan,
    baseline solves taken by whichever device is free.

    Training items are split across the devices and balanced by cost (so compiled programs
    overlap and one group's slow runs share the machine); each device trains its parts one
    after another, on the same device every time the sweep runs, so a second run finds every
    trainer program in the compilation cache. A device with no training left takes the next
    baseline solve from a shared queue, beside the other devices' training (split into
    single solves when there are several devices: a solve is one call on one device, on a
    multi-core CPU batching SVDs gains nothing, and a batch would wait for its slowest
    problem). Within a training item the batch refills freed slots with pending runs and
    repacks when nothing is pending.
    """

    def __init__(self, devices: Sequence | None = None, cache: ProblemCache | None = None):
        self.devices = list(devices or jax.devices())
        self.cache = cache or ProblemCache()

    def schedule(self, items: Sequence[WorkItem]) -> list[list[WorkItem]]:
        """Training items per device: each split across the devices, balanced by cost."""
        parts = [p for it in items for p in it.split(len(self.devices))]
        plan_: list[list[WorkItem]] = [[] for _ in self.devices]
        load = [0.0] * len(self.devices)
        for part in sorted(parts, key=lambda p: -p.cost):
            d = load.index(min(load))
            plan_[d].append(part)
            load[d] += part.cost
        return plan_

    def solves(self, items: Sequence[WorkItem]) -> list[WorkItem]:
        """The baseline parts, in order: single solves when there are several devices."""
        n = len(self.devices)
        return [p for it in items if it.method != "gd"
                for p in (it.split(len(it.runs)) if n > 1 else [it])]

    def run(self, items: Sequence[WorkItem], store, progress) -> None:
        stop = threading.Event()
        watched = _Watched(progress, stop)
        _on_devices(self.devices, self.schedule([it for it in items if it.method == "gd"]),
                    self.solves(items), lambda device, item: run_item(
                        item, store, devices=[device], cache=self.cache, progress=watched),
                    stop)


class _Watched:
    """A progress that also reports stopped once ``stop`` is set (another worker failed)."""

    def __init__(self, progress, stop: threading.Event):
        self._progress, self._stop = progress, stop

    def advance(self, runs: int) -> None:
        self._progress.advance(runs)

    def status(self, worker: str, text: str) -> None:
        self._progress.status(worker, text)

    def stopped(self) -> bool:
        return self._stop.is_set() or self._progress.stopped()


def _on_devices(devices, plan_, shared: Sequence[WorkItem], run_one,
                stop: threading.Event) -> None:
    """Run ``plan_[d]``'s items on ``devices[d]``, one thread per device, then the ``shared``
    items, each taken by the first device free; re-raise the first error (or
    KeyboardInterrupt) in the caller after stopping the other workers."""
    errors: list[BaseException] = []
    pending = list(reversed(shared))
    lock = threading.Lock()

    def take():
        with lock:
            return pending.pop() if pending and not stop.is_set() else None

    def worker(device, items):
        try:
            for item in items:
                if stop.is_set():
                    return
                run_one(device, item)
            while (item := take()) is not None:
                run_one(device, item)
        except Stopped:
            pass
        except BaseException as e:  # noqa: BLE001 - handed to the main thread
            errors.append(e)
            stop.set()

    threads = [threading.Thread(target=worker, args=(d, items), daemon=True)
               for d, items in zip(devices, plan_) if items or shared]
    for t in threads:
        t.start()
    try:
        for t in threads:
            while t.is_alive():
                t.join(0.2)
    except KeyboardInterrupt:
        stop.set()
        for t in threads:
            t.join()
        raise
    if errors:
        raise errors[0]


def make_executor(name: str, **options):
    """The executor registered as ``name``, built with ``options``."""
    return registry.resolve(registry.EXECUTORS.get(name).factory)(**options)


def execute(
    runs: Sequence[RunConfig],
    store: Store,
    *,
    measures: Sequence[str],
    log_measures: Sequence[str],
    top_singular_values: int = 10,
    max_batch: int | None = None,
    logs_per_segment: int = 10,
    progress: bool = True,
    imports: Sequence[str] = (),
    executor: str | object = "local",
) -> int:
    """Run every run of ``runs`` not already in ``store``; return how many were run.

    Finished runs are written to the store as they finish, so an interrupted sweep resumes
    where it stopped (runs are matched by :func:`run_id`). ``executor`` is a registered
    executor's name or an executor object.
    """
    done = store.finished_ids()
    todo = [r for r in runs if run_id(r) not in done]
    cache = ProblemCache()
    check_runs(todo)
    _prepare_problems(todo, cache)  # bad data files fail here, before anything is written
    store.open()
    if not todo:
        return 0
    options = WorkOptions(tuple(measures), tuple(log_measures), top_singular_values, max_batch,
                          logs_per_segment, tuple(imports))
    items = plan(store.experiment, todo, options, cache)
    if isinstance(executor, str):
        executor = (LocalExecutor(cache=cache) if executor == "local"
                    else make_executor(executor))
    stop = threading.Event()
    session = environment(len(todo))
    store.record_environment(session)
    console = Console(stderr=True)
    shown = progress and console.is_terminal  # quiet in logs and pipes
    start = time.perf_counter()
    with Progress(*PROGRESS_COLUMNS, console=console, disable=not shown, expand=True,
                  transient=False) as bar:
        task = bar.add_task(store.experiment, total=len(todo), note="")
        executor.run(items, store, _Bar(bar, task, stop))
    wanted = {run_id(r) for r in todo}
    rows = store.runs()
    rows = rows[rows["run_id"].isin(wanted)] if len(rows) else rows
    store.record_environment(finished(session, len(rows)))
    if progress:
        console.print(summary_line(store.experiment, rows, len(todo),
                                   time.perf_counter() - start), highlight=False)
    return len(todo)


# statuses that say the run failed (max_steps, a certified failure to recover and singular
# weights are results, not failures of the run)
FAILURES = ("diverged",)


class _RateColumn(ProgressColumn):
    """Runs per second so far."""

    def render(self, task) -> Text:
        rate = task.completed / task.elapsed if task.elapsed else 0.0
        return Text(f"{rate:.3g} runs/s" if task.completed else "- runs/s")


# the counts first; what each device is doing last, cut to the terminal's width
PROGRESS_COLUMNS = (TextColumn("[bold]{task.description}"), BarColumn(bar_width=24),
                    MofNCompleteColumn(), TextColumn("runs"), _RateColumn(), TimeElapsedColumn(),
                    TextColumn("left"), TimeRemainingColumn(),
                    TextColumn("{task.fields[note]}",
                               table_column=Column(ratio=1, no_wrap=True, overflow="ellipsis")))


def summary_line(name: str, rows, expected: int, seconds: float) -> str:
    """``NAME: 12/12 runs stored in 3.4 s (3.5 runs/s); converged 10, max_steps 2``: what a
    session ran, with every status that is not a success counted as a failure."""
    counts = rows["status"].value_counts().to_dict() if len(rows) and "status" in rows else {}
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    failed = sum(v for k, v in counts.items() if k in FAILURES)
    rate = len(rows) / seconds if seconds > 0 else float("inf")
    return (f"{name}: {len(rows)}/{expected} runs stored in {seconds:.1f} s ({rate:.3g} runs/s)"
            + (f"; {statuses}" if statuses else "") + f"; {failed} failed")
