"""Helpers for claims computed from logged trajectories."""

import numpy as np
import pandas as pd


def run_trajectory(runs: pd.DataFrame, traj: pd.DataFrame, **where) -> pd.DataFrame:
    """The logged rows of the one run matching ``where`` (column == value), by step."""
    sel = runs
    for k, v in where.items():
        sel = sel[sel[k] == v]
    if len(sel) != 1:
        raise ValueError(f"expected one run with {where}, found {len(sel)}")
    rows = traj[traj["run_id"] == sel["run_id"].iloc[0]]
    return rows.sort_values("step").reset_index(drop=True)


def stacked(rows: pd.DataFrame, column: str) -> np.ndarray:
    """A list-valued column as a (steps, k) array."""
    return np.stack([np.asarray(v, float) for v in rows[column]])


def first_step_at_or_above(steps: np.ndarray, values: np.ndarray, level: float) -> float:
    """First logged step whose value is >= ``level`` (NaN if none)."""
    hit = np.nonzero(values >= level)[0]
    return float(steps[hit[0]]) if len(hit) else float("nan")


def value_at_loss(loss: np.ndarray, values: np.ndarray, level: float) -> float:
    """``values`` where the (decreasing) loss first reaches ``level``, interpolated in
    log-loss between the two logs around it (NaN if never reached)."""
    below = np.nonzero(loss <= level)[0]
    if not len(below):
        return float("nan")
    i = below[0]
    if i == 0:
        return float(values[0])
    x0, x1 = np.log(loss[i - 1]), np.log(loss[i])
    w = (np.log(level) - x0) / (x1 - x0) if x1 != x0 else 1.0
    return float(values[i - 1] + w * (values[i] - values[i - 1]))
