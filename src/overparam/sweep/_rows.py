"""Turning finished runs into store rows."""

import json
from importlib.metadata import PackageNotFoundError, version

import numpy as np

from overparam.sweep._config import RunConfig
from overparam.sweep._grid import flatten, run_id

try:
    VERSION = version("overparam")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    VERSION = "0+unknown"


def _value(v):
    a = np.asarray(v)
    return a.tolist() if a.ndim else a.item()


def run_row(run: RunConfig, experiment: str, status: str, steps: int, final: dict,
            wall_time_s: float, extra: dict | None = None) -> dict:
    """One row of runs.parquet: ids, every config field, the model's notes (e.g.
    ``width_below_rank``), every final measure, status."""
    row = {
        "run_id": run_id(run),
        "experiment": experiment,
        "method": run.method,
        "status": status,
        "steps": steps,
        "wall_time_s": wall_time_s,
        "dtype": run.dtype,
        "overparam_version": VERSION,
        "config": json.dumps(run.model_dump(mode="json"), sort_keys=True),
    }
    row.update(flatten(run))
    if run.model is not None:
        row.update(run.model.notes(run.problem))
    row.update({k: _value(v) for k, v in final.items()})
    row.update(extra or {})
    return row


def epochs_per_step(problem, batch_size: int | None) -> float | None:
    """Epochs one step covers: ``batch_size / N`` (at most 1) for a problem of N training
    examples (a data set's ``num_examples``) or, with ``batch_size`` set, N real measurements
    (``num_measurements``); None where neither applies (full-batch matrix problems, whose
    "epochs" would only repeat the step count)."""
    size = getattr(problem, "num_examples", None)
    if size is None and batch_size is not None:
        size = getattr(problem, "num_measurements", None)
    if size is None:
        return None
    size = int(size)
    return 1.0 if batch_size is None else min(batch_size, size) / size


def trajectory_rows(run: RunConfig, trajectory: dict[str, np.ndarray]) -> list[dict]:
    """Rows of trajectories.parquet for one run: one per logged step."""
    rid = run_id(run)
    n = len(trajectory["step"])
    return [{"run_id": rid, **{k: _value(v[i]) for k, v in trajectory.items()}}
            for i in range(n)]
