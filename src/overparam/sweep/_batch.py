"""Runs one group of same-shape training runs as batched, sharded, compiled segments.

Runs are laid out on a batch axis that is ``vmap``-ed and sharded across all local devices
(one XLA device per CPU core, or the GPUs). Between segments, finished runs are finalized and
handed to ``report``; once nothing is pending and the active runs fit a quarter of the batch,
they are repacked into that smaller batch, so a few slow runs do not keep paying for the
finished ones. A group therefore compiles its programs for at most two batch shapes.
"""

import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from overparam._runtime import full_precision
from overparam.problems import stack_problems
from overparam.train import MAX_STEPS, RUNNING, STATUS_NAMES, Trainer


class FinishedRun(NamedTuple):
    index: int  # position of the run in the group's list
    status: str
    steps: int
    final: dict[str, np.ndarray]
    trajectory: dict[str, np.ndarray]  # "step" plus each logged measure, one row per log
    wall_time_s: float


# Every compiled batch holds at least this many slots per device (padding frozen): on a CPU,
# XLA computes a batch of one run per device with other kernels than a batch of two or more,
# whose results differ in the last bits (measured: 9 of 12 runs, up to 7e-7 relative), while
# batches of 2, 3, 5 and 12 runs agree bit for bit. With the floor a run's result does not
# depend on its batch-mates, so a resumed sweep, Ray and SLURM agree with the local run.
MIN_SLOTS_PER_DEVICE = 2


def tail_size(full: int, devices: int) -> int:
    """The one smaller batch a group repacks into once nothing is pending: a quarter of the
    full batch, rounded up to a multiple of the devices (so each group compiles its programs
    for at most two batch shapes), and at least :data:`MIN_SLOTS_PER_DEVICE` per device."""
    floor = MIN_SLOTS_PER_DEVICE * devices
    return min(full, max(floor, -(-(full // 4) // devices) * devices))


def batch_slots(runs: int, max_batch: int, devices: int) -> int:
    """Slots of a group's first batch: its runs up to ``max_batch``, rounded up to a multiple
    of the devices, and at least :data:`MIN_SLOTS_PER_DEVICE` per device."""
    return max(MIN_SLOTS_PER_DEVICE * devices, -(-min(runs, max_batch) // devices) * devices)


def run_group(
    trainer: Trainer,
    problems: Sequence,
    hparams: Sequence[dict[str, dict[str, float]]],
    seeds: Sequence[int],
    *,
    dtype: str,
    max_batch: int,
    report: Callable[[list[FinishedRun]], None],
    on_segment: Callable[[int, int], None] = lambda finished, step: None,
    devices: Sequence | None = None,
) -> None:
    """Train every run of one group to its stop rule, reporting runs as they finish.

    The batch has at most ``max_batch`` slots. After each segment the finished runs are
    finalized and reported, and their slots are refilled with runs not yet started, so the
    batch stays full while work remains; once nothing is pending, the active runs are repacked
    once into :func:`tail_size` slots when they fit.

    Args:
      trainer: the group's compiled-program factory (one shape, one model, one optimizer).
      problems: one problem per run; the same object for runs that share it.
      hparams: one nested dict of batched scalars per run (see :mod:`overparam.train`).
      seeds: one init seed per run.
      dtype: "float32" or "float64" (x64 must be enabled by the caller for float64).
      max_batch: the most runs in one compiled batch.
      report: called with the runs that finished after each segment.
      on_segment: called with (runs finished so far in this group, current largest step).
      devices: the devices the batch is sharded over (default: all local devices).
    """
    devices = list(devices or jax.devices())
    ndev = len(devices)
    mesh = Mesh(np.array(devices), ("runs",))
    split = NamedSharding(mesh, P("runs"))
    shared = all(p is problems[0] for p in problems)
    init, advance, finalize, take = compiled_functions(trainer, shared, mesh)
    n = len(hparams)
    fdt = jnp.dtype(dtype)
    runs = _RunTable(
        hparams=jax.tree.map(lambda *xs: np.asarray(xs, _leaf_dtype(xs[0], fdt)), *hparams),
        keys=np.stack([np.asarray(jax.random.PRNGKey(s)) for s in seeds]),
        problem=jax.device_put(problems[0], NamedSharding(mesh, P())) if shared
        else jax.device_get(stack_problems(problems)),
        shared=shared,
    )
    pending = deque(range(n))
    slots = np.full(batch_slots(n, max_batch, ndev), -1)
    state = inputs = None
    logs: dict[int, list] = {}
    started: dict[int, float] = {}
    finished_count = 0
    while True:
        free = np.flatnonzero(slots < 0)
        if pending and len(free):
            fill = free[: min(len(free), len(pending))]
            new = [pending.popleft() for _ in fill]
            slots[fill] = new
            rows = np.full(len(slots), new[0])
            rows[fill] = new
            new_state, log0 = init(*runs.rows(rows, split, with_keys=True))
            state = new_state if state is None else _merge(state, new_state, fill, split)
            log0 = _host(log0)
            now = time.perf_counter()
            for i, r in zip(fill, new):
                logs[r] = [jax.tree.map(lambda x: x[i:i + 1], log0)]
                started[r] = now
            state = _freeze_padding(state, slots, split)
            inputs = runs.rows(_fill_padding(slots), split)
        elif not pending:
            active = np.flatnonzero(slots >= 0)
            size = tail_size(len(slots), ndev)
            if len(active) <= size < len(slots):
                keep = np.concatenate([active, np.full(size - len(active), active[0])])
                slots = np.concatenate([slots[active], np.full(size - len(active), -1)])
                state = _freeze_padding(take(state, keep), slots, split)
                inputs = runs.rows(_fill_padding(slots), split)
        state, seg_logs = advance(state, *inputs)
        seg_logs = _host(seg_logs)
        status, steps = np.asarray(state.status), np.asarray(state.step)
        for i in np.flatnonzero(slots >= 0):
            logs[int(slots[i])].append(jax.tree.map(lambda x: x[i], seg_logs))
        done = [i for i in np.flatnonzero(slots >= 0) if status[i] != RUNNING]
        if done:
            report(_finish(state, inputs, slots, done, status, steps, logs, started,
                           finalize))
            slots[done] = -1
            finished_count += len(done)
        on_segment(finished_count, int(steps.max()))
        if not pending and not (slots >= 0).any():
            return


class _RunTable(NamedTuple):
    """Per-run inputs on the host, gathered into batch rows on demand."""

    hparams: dict  # nested dicts of (n,) arrays
    keys: np.ndarray  # (n, 2)
    problem: object  # stacked (n, ...) on the host, or one problem on the devices if shared
    shared: bool

    def rows(self, idx: np.ndarray, sharding, with_keys: bool = False) -> tuple:
        """(problem, hparams[, keys]) for runs ``idx``, placed on the batch sharding."""
        problem = self.problem if self.shared else jax.device_put(
            jax.tree.map(lambda x: x[idx], self.problem), sharding)
        hp = jax.device_put(jax.tree.map(lambda v: v[idx], self.hparams), sharding)
        if with_keys:
            return problem, hp, jax.device_put(self.keys[idx], sharding)
        return problem, hp


def _fill_padding(slots: np.ndarray) -> np.ndarray:
    """Run index per slot, padding slots borrowing a real run's inputs."""
    real = slots[slots >= 0]
    return np.where(slots >= 0, slots, real[0] if len(real) else 0)


def _merge(state, new_state, fill: np.ndarray, sharding):
    """``state`` with rows ``fill`` replaced by those of ``new_state`` (on the host)."""
    old, new = jax.device_get(state), jax.device_get(new_state)

    def merge(a, b):
        a = np.array(a)
        a[fill] = np.asarray(b)[fill]
        return a

    return jax.device_put(jax.tree.map(merge, old, new), sharding)


def _leaf_dtype(value, float_dtype):
    """Batched hyperparameters: bools stay bool, integers become int32, the rest the run's
    float dtype."""
    kind = np.asarray(value).dtype
    if kind == np.bool_:
        return np.bool_
    if np.issubdtype(kind, np.integer):
        return np.int32
    return float_dtype


def _precise(fn):
    """``fn`` traced with full-precision matrix products, whatever the caller's context."""

    def wrapped(*args):
        with full_precision():
            return fn(*args)

    return wrapped


def compiled_functions(trainer: Trainer, shared: bool, mesh: Mesh | None = None):
    """The jitted batched ``init``, ``advance``, ``finalize``, and a row gather ``take``.

    Each device runs its own slice of the batch (``shard_map`` over the mesh's ``runs`` axis,
    ``vmap`` within a device), so no collective crosses devices: a device's while loops stop
    as soon as *its* runs are done. ``shared`` means one problem serves the whole batch
    (replicated, not vmapped).
    """
    mesh = mesh or Mesh(np.array(jax.devices()[:1]), ("runs",))
    p_axis = None if shared else 0
    rows, whole = P("runs"), P()
    p_spec = whole if shared else rows

    def batched(fn, in_axes, in_specs):
        body = _precise(jax.vmap(fn, in_axes=in_axes))
        return jax.shard_map(body, mesh=mesh, in_specs=in_specs, out_specs=rows, check_vma=False)

    init = jax.jit(batched(trainer.init, (p_axis, 0, 0), (p_spec, rows, rows)))
    advance = jax.jit(batched(trainer.advance, (0, p_axis, 0), (rows, p_spec, rows)),
                      donate_argnums=0)
    finalize = jax.jit(batched(trainer.finalize, (0, p_axis, 0), (rows, p_spec, rows)))
    split = NamedSharding(mesh, rows)

    def take(tree, idx):
        """Rows ``idx`` of every leaf, gathered on the host (repacks are rare)."""
        host = jax.device_get(tree)
        return jax.device_put(jax.tree.map(lambda x: np.asarray(x)[np.asarray(idx)], host), split)

    return init, advance, finalize, take


def _freeze_padding(state, slots: np.ndarray, sharding):
    """Mark padding slots finished so they never hold a device's loop open."""
    status = np.array(state.status)
    status[slots < 0] = MAX_STEPS
    return state._replace(status=jax.device_put(status, sharding))


def _host(tree):
    return jax.tree.map(np.asarray, jax.device_get(tree))


def _finish(state, inputs, slots, done, status, steps, logs, started,
            finalize) -> list[FinishedRun]:
    """Final measures of the batch (one program per batch shape), kept for the ``done`` slots."""
    finals = _host(finalize(state, *inputs))
    now = time.perf_counter()
    out = []
    for i in done:
        run = int(slots[i])
        traj = {k: np.concatenate([part[k] for part in logs[run]]) for k in logs[run][0]}
        keep = np.concatenate([[True], np.diff(traj["step"]) != 0])
        out.append(FinishedRun(
            index=run,
            status=STATUS_NAMES[int(status[i])],
            steps=int(steps[i]),
            final={k: v[i] for k, v in finals.items()},
            trajectory={k: v[keep] for k, v in traj.items()},
            wall_time_s=now - started.pop(run),
        ))
        del logs[run]
    return out
