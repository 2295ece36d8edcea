"""Runs one group of same-shape training runs as batched, sharded, compiled segments.

Runs are laid out on a batch axis that is ``vmap``-ed and sharded across all local devices
(one XLA device per CPU core, or the GPUs). Between segments, finished runs are finalized and
handed to ``report``; when the active runs fit a smaller batch they are repacked into it, so a
few slow runs do not keep paying for the finished ones. Batch sizes are powers of two times
the device count, which bounds the number of compiled programs.
"""

import time
from collections.abc import Callable, Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from overparam._runtime import full_precision
from overparam.problems import MatrixProblem, pad_measurements
from overparam.train import MAX_STEPS, RUNNING, STATUS_NAMES, Trainer


class FinishedRun(NamedTuple):
    index: int  # position of the run in the group's list
    status: str
    steps: int
    final: dict[str, np.ndarray]
    trajectory: dict[str, np.ndarray]  # "step" plus each logged measure, one row per log
    wall_time_s: float


def bucket_size(n: int, devices: int, cap: int) -> int:
    """Smallest ``devices * 2**k >= n``, at most ``cap`` rounded up to a multiple of devices."""
    b = devices
    while b < n:
        b *= 2
    return min(b, -(-cap // devices) * devices)


def stack_problems(problems: Sequence[MatrixProblem]) -> MatrixProblem:
    """Stack problems on a new leading axis, padding sensing measurements to a common count."""
    if problems[0].operator.weights.ndim == 1:  # sensing: pad measurement counts
        size = max(p.operator.weights.shape[0] for p in problems)
        problems = [pad_measurements(p, size) for p in problems]
    return jax.tree.map(lambda *xs: jnp.stack(xs), *problems)


class _Batch(NamedTuple):
    slots: np.ndarray  # (B,) run index per slot, -1 for padding
    state: object
    problem: object  # stacked per slot, or shared (None axis)
    hparams: dict


def run_group(
    trainer: Trainer,
    problems: Sequence[MatrixProblem],
    hparams: Sequence[dict[str, float]],
    seeds: Sequence[int],
    *,
    dtype: str,
    max_batch: int,
    top_singular_values: int,
    report: Callable[[list[FinishedRun]], None],
    on_segment: Callable[[int, int], None] = lambda finished, step: None,
) -> None:
    """Train every run of one group to its stop rule, reporting runs as they finish.

    Args:
      trainer: the group's compiled-program factory (one shape, one model, one optimizer).
      problems: one problem per run; the same object for runs that share it.
      hparams: one dict of batched scalars per run (see ``overparam.train.HPARAM_KEYS``).
      seeds: one init seed per run.
      dtype: "float32" or "float64" (x64 must be enabled by the caller for float64).
      max_batch: the most runs in one compiled batch.
      top_singular_values: how many singular values a trajectory keeps.
      report: called with the runs that finished after each segment.
      on_segment: called with (runs finished so far in this group, current step).
    """
    devices = jax.devices()
    mesh = Mesh(np.array(devices), ("runs",))
    split, whole = NamedSharding(mesh, P("runs")), NamedSharding(mesh, P())
    shared = all(p is problems[0] for p in problems)
    fdt = jnp.dtype(dtype)

    init, advance, finalize, take = compiled_functions(trainer, shared, top_singular_values,
                                                       mesh)

    problem_all = problems[0] if shared else stack_problems(problems)
    if shared:
        problem_all = jax.device_put(problem_all, whole)
    n = len(hparams)
    hp_all = {k: np.asarray([h[k] for h in hparams],
                            np.int32 if k == "max_steps" else fdt) for k in hparams[0]}
    keys_all = np.stack([np.asarray(jax.random.PRNGKey(s)) for s in seeds])

    def gather(idx: np.ndarray):
        hp = {k: jax.device_put(v[idx], split) for k, v in hp_all.items()}
        prob = problem_all if shared else take(problem_all, idx)
        return hp, prob

    for start in range(0, n, max_batch):
        chunk = np.arange(start, min(start + max_batch, n))
        size = -(-len(chunk) // len(devices)) * len(devices)  # repacks use power-of-2 buckets
        slots = np.concatenate([chunk, np.full(size - len(chunk), -1)])
        idx = np.where(slots >= 0, slots, chunk[0])
        hp, prob = gather(idx)
        t0 = time.perf_counter()
        state, log0 = init(prob, hp, jax.device_put(keys_all[idx], split))
        state = _freeze_padding(state, slots, split)
        logs = {int(r): [jax.tree.map(lambda x: x[i:i + 1], _host(log0))]
                for i, r in enumerate(slots) if r >= 0}
        batch = _Batch(slots, state, prob, hp)
        done: set[int] = set()
        while True:
            state, seg_logs = advance(batch.state, batch.problem, batch.hparams)
            batch = batch._replace(state=state)
            seg_logs = _host(seg_logs)
            status, steps = np.asarray(state.status), np.asarray(state.step)
            for i, r in enumerate(batch.slots):
                if r >= 0 and r not in done:
                    logs[int(r)].append(jax.tree.map(lambda x: x[i], seg_logs))
            finished = [i for i, r in enumerate(batch.slots)
                        if r >= 0 and r not in done and status[i] != RUNNING]
            if finished:
                report(_finish(batch, finished, status, steps, logs, finalize, take,
                               len(devices), max_batch, shared, time.perf_counter() - t0))
                done.update(int(batch.slots[i]) for i in finished)
            active = [i for i, r in enumerate(batch.slots) if r >= 0 and status[i] == RUNNING]
            on_segment(len(done) + start, int(steps.max()))
            if not active:
                break
            size = bucket_size(len(active), len(devices), max_batch)
            if size < len(batch.slots):
                batch = _repack(batch, active, size, take, shared)


def _precise(fn):
    """``fn`` traced with full-precision matrix products, whatever the caller's context."""

    def wrapped(*args):
        with full_precision():
            return fn(*args)

    return wrapped


def compiled_functions(trainer: Trainer, shared: bool, top_singular_values: int,
                       mesh: Mesh | None = None):
    """The jitted batched ``init``, ``advance``, ``finalize``, and a row gather ``take``.

    Each device runs its own slice of the batch (``shard_map`` over the mesh's ``runs`` axis,
    ``vmap`` within a device), so no collective crosses devices: a device's while loops stop
    as soon as *its* runs are done. ``shared`` means one problem serves the whole batch
    (replicated, not vmapped). Logged singular values are cut to the top
    ``top_singular_values`` on the device.
    """
    mesh = mesh or Mesh(np.array(jax.devices()[:1]), ("runs",))
    p_axis = None if shared else 0
    rows, whole = P("runs"), P()
    p_spec = whole if shared else rows

    def trim(out):
        state, logs = out
        if "singular_values" in logs:
            logs = dict(logs, singular_values=logs["singular_values"][..., :top_singular_values])
        return state, logs

    def batched(fn, in_axes, in_specs):
        body = _precise(jax.vmap(fn, in_axes=in_axes))
        return jax.shard_map(body, mesh=mesh, in_specs=in_specs, out_specs=rows, check_vma=False)

    init = jax.jit(batched(lambda p, h, k: trim(trainer.init(p, h, k)), (p_axis, 0, 0),
                           (p_spec, rows, rows)))
    advance = jax.jit(batched(lambda s, p, h: trim(trainer.advance(s, p, h)), (0, p_axis, 0),
                              (rows, p_spec, rows)), donate_argnums=0)
    finalize = jax.jit(batched(trainer.finalize, (0, p_axis), (rows, p_spec)))
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


def _repack(batch: _Batch, active: list[int], size: int, take, shared: bool) -> _Batch:
    idx = np.asarray(active + [active[0]] * (size - len(active)))
    slots = np.concatenate([batch.slots[active], np.full(size - len(active), -1)])
    state = take(batch.state, idx)
    state = _freeze_padding(state, slots, state.status.sharding)
    problem = batch.problem if shared else take(batch.problem, idx)
    hparams = take(batch.hparams, idx)
    return _Batch(slots, state, problem, hparams)


def _finish(batch, finished, status, steps, logs, finalize, take, ndev, max_batch, shared,
            wall) -> list[FinishedRun]:
    size = bucket_size(len(finished), ndev, max_batch)
    idx = np.asarray(finished + [finished[0]] * (size - len(finished)))
    sub_state = take(batch.state, idx)
    sub_problem = batch.problem if shared else take(batch.problem, idx)
    finals = _host(finalize(sub_state, sub_problem))
    out = []
    for j, i in enumerate(finished):
        run = int(batch.slots[i])
        traj = {k: np.concatenate([part[k] for part in logs[run]]) for k in logs[run][0]}
        keep = np.concatenate([[True], np.diff(traj["step"]) != 0])
        out.append(FinishedRun(
            index=run,
            status=STATUS_NAMES[int(status[i])],
            steps=int(steps[i]),
            final={k: v[j] for k, v in finals.items()},
            trajectory={k: v[keep] for k, v in traj.items()},
            wall_time_s=wall,
        ))
        del logs[run]
    return out
