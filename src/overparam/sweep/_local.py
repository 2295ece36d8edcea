"""The local, in-process executor: groups runs, trains or solves them, stores results."""

import os
import threading
from collections.abc import Sequence

import jax
import numpy as np
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from overparam._runtime import dtype_context
from overparam.errors import ConfigError, DataError
from overparam.sweep._batch import FinishedRun, run_group
from overparam.sweep._build import (
    ProblemCache,
    build_model,
    gd_group_key,
    hparams_of,
    matrix_objective,
    problem_nbytes,
)
from overparam.sweep._config import RunConfig
from overparam.sweep._grid import run_id
from overparam.sweep._rows import run_row, trajectory_rows
from overparam.sweep._solve import run_solvers
from overparam.sweep._store import Store
from overparam.train import make_trainer

DEFAULT_MAX_BATCH = {"cpu": 8, "gpu": 4096}  # runs per compiled batch, per device


def default_max_batch() -> int:
    return DEFAULT_MAX_BATCH.get(jax.default_backend(), 4096)


def _memory_budget() -> int:
    """Bytes a batch may use: half the accelerator memory, or a quarter of host RAM."""
    stats = jax.devices()[0].memory_stats() or {}
    if "bytes_limit" in stats:
        return stats["bytes_limit"] // 2
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 4
    except (ValueError, OSError):  # pragma: no cover
        return 4 << 30


def _plan_batch(run: RunConfig, problem, shared: bool, max_batch: int) -> int:
    """Most runs per batch that fit the memory budget (params, grads, optimizer state, temps)."""
    d1, d2 = problem.shape
    width = run.model.width or min(d1, d2)
    itemsize = 8 if run.train.dtype == "float64" else 4
    params = itemsize * (d2 * width + (run.model.depth - 2) * width * width + width * d1)
    per_run = 12 * max(params, itemsize * d1 * d2) + (0 if shared else problem_nbytes(problem))
    return max(1, min(max_batch, _memory_budget() // per_run))


def _dtype_of(run: RunConfig) -> str:
    return run.train.dtype if run.train is not None else run.solver.dtype


SEED_LIMIT = 2**32  # JAX keys hold 32 bits: seeds 0 and 2**32 would be the same run
INT32_MAX = int(np.iinfo(np.int32).max)


def check_runs(runs: Sequence[RunConfig]) -> None:
    """Refuse what the config models cannot see: seeds JAX would fold together, step counts
    beyond int32, an init scale or step size the run's dtype rounds to 0 or infinity, problems
    beyond memory. Raises ConfigError naming the field."""
    budget = _memory_budget()
    for r in runs:
        for field, seed in (("seed", r.seed), ("problem.seed", getattr(r.problem, "seed", 0))):
            if seed >= SEED_LIMIT:
                raise ConfigError(f"{field}: must be < 2**32 (JAX keys hold 32 bits), got {seed}")
        dtype = _dtype_of(r)
        d1, d2 = getattr(r.problem, "d1", 1), getattr(r.problem, "d2", 1)
        itemsize = np.dtype(dtype).itemsize
        need = itemsize * d1 * d2 * (r.problem.m if r.problem.kind == "sensing" else 3)
        if r.method == "gd":
            width = r.model.width or min(d1, d2)
            need += 12 * itemsize * max(d1 * d2, r.model.depth * width * max(width, d1, d2))
        if need > budget:
            raise ConfigError(f"problem: a {d1}x{d2} {r.problem.kind} problem needs about "
                              f"{need / 2**30:.3g} GiB, more than the {budget / 2**30:.3g} GiB "
                              "a run may use here")
        if r.method != "gd":
            continue
        if r.train.max_steps > INT32_MAX:
            raise ConfigError(f"train.max_steps: must be <= {INT32_MAX}, got {r.train.max_steps}")
        for field, value in (("model.init_scale", r.model.init_scale),  # 0: a saddle
                             ("optimizer.learning_rate", r.optimizer.learning_rate)):
            with np.errstate(over="ignore", under="ignore"):
                cast = np.asarray(value, dtype)
            if value != 0 and (cast == 0 or not np.isfinite(cast)):
                raise ConfigError(f"{field}: {value:g} is {'0' if cast == 0 else 'infinite'} in "
                                  f"{dtype}; use train.dtype = 'float64' or another value")


def _hparams(run: RunConfig) -> dict[str, float]:
    """The run's batched scalars, a divergence bound beyond the dtype's range meaning none."""
    hp = hparams_of(run)
    hp["divergence_factor"] = min(hp["divergence_factor"],
                                  float(np.finfo(run.train.dtype).max))
    return hp


def _prepare_problems(runs: Sequence[RunConfig], cache: ProblemCache) -> None:
    for r in runs:
        with dtype_context(_dtype_of(r)):
            problem = cache.get(r.problem, _dtype_of(r))
        if r.solver is not None and r.solver.kind == "truth" and problem.truth is None:
            raise DataError(f"{getattr(r.problem, 'path', r.problem.kind)}: baseline 'truth' "
                            "needs a problem with a known ground truth")


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
) -> int:
    """Run every run of ``runs`` not already in ``store``; return how many were run.

    Finished runs are written to the store after each segment, so an interrupted sweep resumes
    where it stopped (runs are matched by :func:`run_id`).
    """
    max_batch = max_batch or default_max_batch()
    done = store.finished_ids()
    todo = [r for r in runs if run_id(r) not in done]
    cache = ProblemCache()
    check_runs(todo)
    _prepare_problems(todo, cache)  # bad data files fail here, before anything is written
    store.open()
    if not todo:
        return 0
    gd = [r for r in todo if r.method == "gd"]
    solver_runs = [r for r in todo if r.method != "gd"]
    groups: dict[tuple, list[RunConfig]] = {}
    for r in gd:
        with dtype_context(r.train.dtype):
            groups.setdefault(gd_group_key(r, cache.get(r.problem, r.train.dtype)), []).append(r)

    columns = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("runs"), TimeElapsedColumn(), TextColumn("{task.fields[note]}")]
    with Progress(*columns, disable=not progress, transient=False) as bar:
        task = bar.add_task(store.experiment, total=len(todo), note="")
        notes: dict[str, str] = {}

        def run_item(device, item, stop):
            key, runs = item
            _run_gd_group(runs, cache, store, bar, task, measures, log_measures,
                          top_singular_values, max_batch, logs_per_segment, device, notes, stop)

        _on_devices(jax.devices(), _schedule(groups), run_item)
        if solver_runs:
            bar.update(task, note="convex baselines")

            def report_solver(run, status, steps, final, wall, extra):
                store.write_part([run_row(run, store.experiment, status, steps, final, wall,
                                          extra)], [])
                bar.advance(task)

            run_solvers(solver_runs, cache, measures=measures, max_batch=max_batch,
                        report=report_solver)
    return len(todo)


def _cost(run: RunConfig) -> float:
    p = run.problem
    return run.model.depth * getattr(p, "d1", 100) * getattr(p, "d2", 100)


def _schedule(groups: dict[tuple, list[RunConfig]]) -> list[list[tuple]]:
    """Work items per device: each group split across the devices, balanced by cost.

    Every device trains its own items one after another, in its own thread; so the groups
    (compiled programs) overlap, and one group's slow runs share the machine with other work
    instead of idling the other cores.
    """
    devices = jax.devices()
    items = []
    for key, group in groups.items():
        k = min(len(devices), len(group))
        items.extend((key, group[j::k]) for j in range(k))
    plan: list[list[tuple]] = [[] for _ in devices]
    load = [0.0] * len(devices)
    for item in sorted(items, key=lambda it: -sum(_cost(r) for r in it[1])):
        d = load.index(min(load))
        plan[d].append(item)
        load[d] += sum(_cost(r) for r in item[1])
    return plan


class _Stopped(Exception):
    """Raised inside a worker when another worker failed or the user interrupted."""


def _on_devices(devices, plan, run_item) -> None:
    """Run ``plan[d]``'s items on ``devices[d]``, one thread per device; re-raise the first
    error (or KeyboardInterrupt) in the caller after stopping the other workers."""
    stop = threading.Event()
    errors: list[BaseException] = []

    def worker(device, items):
        try:
            for item in items:
                if stop.is_set():
                    return
                run_item(device, item, stop)
        except _Stopped:
            pass
        except BaseException as e:  # noqa: BLE001 - handed to the main thread
            errors.append(e)
            stop.set()

    threads = [threading.Thread(target=worker, args=(d, items), daemon=True)
               for d, items in zip(devices, plan) if items]
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


def _run_gd_group(group, cache, store, bar, task, measures, log_measures, top_sv, max_batch,
                  logs_per_segment, device, notes, stop):
    first = group[0]
    dtype = first.train.dtype
    with dtype_context(dtype):
        problems = [cache.get(r.problem, dtype) for r in group]
        model = build_model(first, problems[0])
        trainer = make_trainer(
            model, matrix_objective,
            optimizer=first.optimizer.name, optimizer_options=first.optimizer.options,
            log_every=first.train.log_every, logs_per_segment=logs_per_segment,
            log_measures=log_measures, final_measures=measures, dtype=dtype)
        shared = all(p is problems[0] for p in problems)
        batch = _plan_batch(first, problems[0], shared, max_batch)
        label = (f"depth {first.model.depth} {first.problem.kind} "
                 f"{'x'.join(map(str, problems[0].shape))}")

        def report(finished: list[FinishedRun]) -> None:
            rows, traj = [], []
            for f in finished:
                run = group[f.index]
                rows.append(run_row(run, store.experiment, f.status, f.steps, f.final,
                                    f.wall_time_s))
                traj.extend(trajectory_rows(run, f.trajectory))
            store.write_part(rows, traj)
            bar.advance(task, len(finished))

        def on_segment(finished: int, step: int) -> None:
            if stop.is_set():
                raise _Stopped
            notes[str(device)] = f"{label}: step {step:,}"
            bar.update(task, note="; ".join(notes.values()))

        run_group(trainer, problems, [_hparams(r) for r in group], [r.seed for r in group],
                  dtype=dtype, max_batch=batch, top_singular_values=top_sv, report=report,
                  on_segment=on_segment, devices=[device])
