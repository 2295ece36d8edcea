"""Work items: the picklable unit an executor runs, and the worker that runs one.

The head process plans a sweep into work items (one per compiled program: a group of
training runs of the same static config and problem shape, or a group of baseline solves).
An item carries its runs as plain JSON-able config dicts, the sweep's measure options and the
modules that register the sweep's own kinds; a worker anywhere (a thread, another process, a
Ray task, a SLURM array task) imports those modules, rebuilds the problems, sizes its batches
on its own devices, trains or solves, and writes store parts. Running an item twice writes
the same rows twice, which the store collapses to one per run id.
"""

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import jax
import numpy as np

from overparam import registry
from overparam._imports import import_kinds
from overparam._runtime import dtype_context, full_precision
from overparam.models import Model
from overparam.sweep._batch import FinishedRun, run_group
from overparam.sweep._build import (
    ProblemCache,
    build_model,
    build_objective,
    gd_group_key,
    hparams_of,
    problem_nbytes,
    solver_group_key,
)
from overparam.sweep._config import RunConfig
from overparam.sweep._references import measure_outcome, references_of
from overparam.sweep._rows import epochs_per_step, run_row, trajectory_rows
from overparam.train import make_trainer

DEFAULT_MAX_BATCH = {"cpu": 8, "gpu": 4096}  # runs per compiled batch, per device


def default_max_batch() -> int:
    return DEFAULT_MAX_BATCH.get(jax.default_backend(), 4096)


@dataclass(frozen=True)
class WorkOptions:
    """Options shared by every item of a sweep."""

    measures: tuple[str, ...]
    log_measures: tuple[str, ...]
    top_singular_values: int = 10
    max_batch: int | None = None  # runs per compiled batch; None: the worker's default
    logs_per_segment: int = 10
    imports: tuple[str, ...] = ()  # modules (names or .py paths) registering the sweep's kinds


@dataclass(frozen=True)
class WorkItem:
    """Runs that share one compiled program, as config dicts (picklable, JSON-able).

    Attributes:
      experiment: the store's experiment name.
      method: ``"gd"`` (training runs) or ``"solver"`` (baseline solves).
      runs: each run's config, ``RunConfig.model_dump(mode="json")``.
      options: the sweep's :class:`WorkOptions`.
      label: a short description for progress lines.
      cost: relative work, for balancing items across workers.
    """

    experiment: str
    method: str
    runs: tuple[dict, ...]
    options: WorkOptions
    label: str = ""
    cost: float = 1.0
    index: tuple[int, ...] = field(default=())  # positions of the runs in the planned sweep

    def split(self, k: int) -> list["WorkItem"]:
        """``k`` items of every k-th run (fewer when the item has fewer runs)."""
        k = max(1, min(k, len(self.runs)))
        if k == 1:
            return [self]
        n = len(self.runs)
        return [replace(self, runs=self.runs[j::k], cost=self.cost * len(self.runs[j::k]) / n,
                        index=self.index[j::k] if self.index else ()) for j in range(k)]


class Progress(Protocol):
    """What a worker reports while it runs (the head's progress bar, or a no-op)."""

    def advance(self, runs: int) -> None: ...

    def status(self, worker: str, text: str) -> None: ...

    def stopped(self) -> bool: ...


class NoProgress:
    """A :class:`Progress` that shows nothing and never stops."""

    def advance(self, runs: int) -> None:
        pass

    def status(self, worker: str, text: str) -> None:
        pass

    def stopped(self) -> bool:
        return False


class Stopped(Exception):
    """Raised inside a worker when the head asked it to stop."""


def plan(experiment: str, runs: Sequence[RunConfig], options: WorkOptions,
         cache: ProblemCache) -> list[WorkItem]:
    """Group runs into work items: one per compiled program (training) or per solver group.

    Problems are built (once, through ``cache``) to learn their shapes; items are ordered as
    the runs first appear, training items before solver items.
    """
    groups: dict[tuple, list[int]] = {}
    models: dict[tuple, Model] = {}
    for i, r in enumerate(runs):
        with dtype_context(r.dtype):
            problem = cache.get(r.problem, r.dtype)
            if r.method == "gd":
                key = gd_group_key(r, problem)
                if key not in models:
                    models[key] = build_model(r, problem)
            else:
                key = solver_group_key(r, problem)
        groups.setdefault(key, []).append(i)
    items = []
    for key, idx in sorted(groups.items(), key=lambda kv: kv[0][0] != "gd"):
        first = runs[idx[0]]
        if first.method == "gd":
            model = models[key]
            label = f"{first.problem.kind} {model.label or model.name}"
            cost = float(max(model.param_count, 1)) * len(idx)
        else:
            label, cost = f"baseline {first.solver.kind}", float(len(idx))
        items.append(WorkItem(experiment, "gd" if first.method == "gd" else "solver",
                              tuple(runs[i].model_dump(mode="json") for i in idx), options,
                              label, cost, tuple(idx)))
    return items


def memory_budget(device=None) -> int:
    """Bytes a batch may use: half the accelerator memory, or a quarter of host RAM."""
    device = device or jax.devices()[0]
    stats = device.memory_stats() or {}
    if "bytes_limit" in stats:
        return stats["bytes_limit"] // 2
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 4
    except (ValueError, OSError):  # pragma: no cover
        return 4 << 30


def _plan_batch(model: Model, problem, dtype: str, shared: bool, max_batch: int,
                device) -> int:
    """Most runs per batch that fit the memory budget (params, grads, optimizer state, temps)."""
    per_run = model.memory_bytes(np.dtype(dtype).itemsize) + (0 if shared
                                                               else problem_nbytes(problem))
    return max(1, min(max_batch, memory_budget(device) // per_run))


def run_item(item: WorkItem, store, *, devices: Sequence | None = None,
             cache: ProblemCache | None = None, progress: Progress | None = None) -> int:
    """Run one work item on ``devices`` (default: all local ones), writing its finished runs
    to ``store`` as they finish; return how many runs were written.

    Safe to call in a fresh process: it imports the item's kind modules first.
    """
    import_kinds(item.options.imports)
    runs = [RunConfig.model_validate(r) for r in item.runs]
    devices = list(devices or jax.devices())
    cache = cache or ProblemCache()
    progress = progress or NoProgress()
    if item.method == "gd":
        return _train(runs, item, store, devices, cache, progress)
    return _solve(runs, item, store, devices, cache, progress)


def _train(group: list[RunConfig], item: WorkItem, store, devices, cache, progress) -> int:
    opts = item.options
    first = group[0]
    dtype = first.train.dtype
    worker = ",".join(map(str, devices))
    with dtype_context(dtype):
        refs = references_of((*opts.measures, *opts.log_measures))
        problems = [cache.get(r.problem, dtype, references=refs) for r in group]
        model = build_model(first, problems[0])
        trainer = make_trainer(
            model, build_objective(first),
            optimizer=first.optimizer.name, optimizer_options=first.optimizer.options,
            log_every=first.train.log_every, logs_per_segment=opts.logs_per_segment,
            log_measures=opts.log_measures, final_measures=opts.measures, dtype=dtype,
            top_k=opts.top_singular_values, batch_size=first.train.batch_size)
        shared = all(p is problems[0] for p in problems)
        max_batch = (opts.max_batch or default_max_batch()) * len(devices)
        batch = _plan_batch(model, problems[0], dtype, shared, max_batch, devices[0])
        written = 0

        def report(finished: list[FinishedRun]) -> None:
            nonlocal written
            rows, traj = [], []
            for f in finished:
                run = group[f.index]
                per_step = epochs_per_step(problems[f.index], run.train.batch_size)
                trajectory = f.trajectory
                extra = None
                if per_step is not None:
                    extra = {"epochs": f.steps * per_step}
                    trajectory = {**trajectory, "epoch": np.asarray(trajectory["step"]) * per_step}
                rows.append(run_row(run, item.experiment, f.status, f.steps, f.final,
                                    f.wall_time_s, extra))
                traj.extend(trajectory_rows(run, trajectory))
            store.write_part(rows, traj)
            written += len(finished)
            progress.advance(len(finished))

        def on_segment(finished: int, step: int) -> None:
            if progress.stopped():
                raise Stopped
            progress.status(worker, f"{item.label}: step {step:,}")

        run_group(trainer, problems, [hparams_of(r) for r in group], [r.seed for r in group],
                  dtype=dtype, max_batch=batch, report=report, on_segment=on_segment,
                  devices=devices)
    return written


def _solve(group: list[RunConfig], item: WorkItem, store, devices, cache, progress) -> int:
    first = group[0]
    solver = registry.resolve(registry.SOLVERS.get(first.solver.kind).solve)
    dtype = first.solver.dtype
    written = 0
    with dtype_context(dtype), full_precision():
        problems = [cache.get(r.problem, dtype) for r in group]
        progress.status(",".join(map(str, devices)), item.label)
        max_batch = item.options.max_batch or default_max_batch()
        for i, out in solver([r.solver for r in group], problems, devices=devices,
                             max_batch=max_batch):
            run = group[i]
            row = run_row(run, item.experiment, out.status, out.iterations,
                          measure_outcome(item.options.measures, out, problems[i], run.seed),
                          out.wall_time_s,
                          out.extra)
            store.write_part([row], [])
            written += 1
            progress.advance(1)
            if progress.stopped():
                raise Stopped
    return written


def run_item_in_process(item: WorkItem, store_root: str, experiment: str) -> int:
    """Entry point for a separate process (a pool, Ray or SLURM worker): open the store at
    ``store_root`` and run ``item`` on this process's devices."""
    from overparam.sweep._store import Store

    return run_item(item, Store(store_root, experiment))


def split_for_workers(items: Sequence[WorkItem], parts: int) -> list[WorkItem]:
    """Items for separate worker processes (Ray tasks, SLURM array tasks): the training items
    split into about ``parts`` parts in all, by cost, and every baseline solve alone."""
    gd = [it for it in items if it.method == "gd"]
    total = sum(it.cost for it in gd) or 1.0
    out = [p for it in gd for p in it.split(max(1, round(parts * it.cost / total)))]
    return out + [p for it in items if it.method != "gd" for p in it.split(len(it.runs))]


def run_part(item: WorkItem, store_root: str, experiment: str, num_cpus: float = 1.0,
             num_gpus: float = 0.0) -> int:
    """Run ``item`` in a worker process (a Ray task, a SLURM array task): set up JAX for the
    task's resources (before its first use in the process), skip runs the store already
    holds (a retried task repeats nothing), run the rest; return how many runs it stored."""
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    if num_gpus:
        os.environ.setdefault("XLA_PYTHON_CLIENT_MEM_FRACTION", f"{0.9 * min(num_gpus, 1):.3f}")
    from overparam._runtime import enable_compilation_cache, single_threaded_blas
    from overparam.sweep._grid import run_id
    from overparam.sweep._store import Store

    try:  # one CPU device per CPU the task holds, when JAX has not started in this worker
        jax.config.update("jax_num_cpu_devices", max(1, int(num_cpus)))
    except RuntimeError:
        pass
    single_threaded_blas()
    enable_compilation_cache()
    store = Store(store_root, experiment)
    done = store.finished_ids()
    keep = [i for i, r in enumerate(item.runs) if run_id(RunConfig.model_validate(r)) not in done]
    if not keep:
        return 0
    if len(keep) < len(item.runs):
        item = replace(item, runs=tuple(item.runs[i] for i in keep),
                       index=tuple(item.index[i] for i in keep) if item.index else ())
    return run_item(item, store)
