"""Generic figures for a user's sweep: final measures against the grid, and trajectories."""

from pathlib import Path

import numpy as np
import pandas as pd

from overparam.viz._style import METHOD_STYLE, errorbar, save, seeds_note, spread, subplots

MAX_TRAJECTORIES = 64
SKIP = {"run_id", "experiment", "method", "status", "config", "overparam_version", "dtype",
        "wall_time_s", "steps"}


def _varying(runs: pd.DataFrame) -> list[str]:
    """Config columns whose value differs between the GD runs."""
    gd = runs[runs["method"] == "gd"]
    cols = [c for c in gd.columns if ("." in c or c == "seed") and c not in SKIP]
    return [c for c in cols if gd[c].map(_hashable).nunique(dropna=True) > 1]


def _hashable(value):
    """List-valued config fields (e.g. the entries of a problem) as tuples."""
    return tuple(np.asarray(value).tolist()) if isinstance(value, list | np.ndarray) else value


PREFERRED = ("recon_error", "train_loss", "nuclear_norm", "effective_rank")
MAX_PANELS = 4


def _measure_columns(table: pd.DataFrame) -> list[str]:
    """Scalar numeric measure columns, the usual ones first (at most :data:`MAX_PANELS`):
    not config fields, ids, bookkeeping or solver diagnostics."""
    def scalar(c):
        col = table[c]
        return (pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
                and col.notna().any())

    skip = SKIP | {"seed", "step", "width_below_rank"}
    cols = [c for c in table.columns if "." not in c and c not in skip
            and not c.startswith("solver_") and scalar(c)]
    ordered = [c for c in PREFERRED if c in cols] + [c for c in cols if c not in PREFERRED]
    return ordered[:MAX_PANELS]


def plot_sweep(runs: pd.DataFrame, traj: pd.DataFrame, directory: Path) -> list[Path]:
    """Draw ``final.png`` (each final measure against the first varying numeric config field,
    one line per combination of the others) and ``trajectories.png``."""
    paths = []
    if len(runs) and _measure_columns(runs):
        paths.append(_final(runs, directory))
    if len(traj) and _measure_columns(traj):
        paths.append(_trajectories(runs, traj, directory))
    return paths


def _final(runs: pd.DataFrame, directory: Path) -> Path:
    measures = _measure_columns(runs)
    varying = [c for c in _varying(runs) if c != "seed"]
    numeric = [c for c in varying if pd.api.types.is_numeric_dtype(runs[c])]
    x = numeric[0] if numeric else None
    others = [c for c in varying if c != x]
    fig, axes = subplots(1, len(measures))
    gd = runs[runs["method"] == "gd"]
    for ax, measure in zip(axes[0], measures):
        log = measure in ("recon_error", "train_loss") and bool((gd[measure] > 0).all())
        counts = []
        groups = gd.groupby(others, dropna=False) if others else [((), gd)]
        for key, g in groups:
            key = key if isinstance(key, tuple) else (key,)
            label = ", ".join(f"{c.split('.')[-1]}={v}" for c, v in zip(others, key)) or "gd"
            if x is None:
                ax.bar(label, g[measure].mean())
                continue
            stats = spread(g, x, measure, log=log)
            errorbar(ax, stats, x, marker="o", label=label)
            counts += list(stats["n"])
        for method, style in METHOD_STYLE.items():
            base = runs[runs["method"] == method]
            if len(base) and measure in base and x is not None and x.startswith("problem."):
                stats = base.groupby(x)[measure].mean()
                ax.plot(stats.index, stats.values, **style)
        ax.set_title(f"{measure}\n{seeds_note(counts, log=log)}" if counts else measure,
                     fontsize=9)
        if x is not None:
            ax.set_xlabel(x)
            if x.endswith(("init_scale", "learning_rate")):
                ax.set_xscale("log")
        if log:
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
    if axes[0][0].get_legend_handles_labels()[0]:  # a sweep without a grid has no labels
        axes[0][0].legend(fontsize=7)
    fig.suptitle(f"{runs['experiment'].iloc[0]}: final measures")
    return save(fig, directory, "final")


def _trajectories(runs: pd.DataFrame, traj: pd.DataFrame, directory: Path) -> Path:
    usual = [m for m in ("train_loss", "recon_error") if m in traj.columns]
    measures = usual or _measure_columns(traj)[:2]
    fig, axes = subplots(1, len(measures))
    ids = runs[runs["method"] == "gd"]["run_id"].tolist()[:MAX_TRAJECTORIES]
    varying = _varying(runs)
    labels = runs.set_index("run_id")
    for ax, measure in zip(axes[0], measures):
        seen = traj[measure].dropna()
        log = bool((seen >= 0).all() and (seen > 0).any())
        for rid in ids:
            t = traj[traj["run_id"] == rid].sort_values("step")
            label = ", ".join(f"{c.split('.')[-1]}={labels.loc[rid, c]}" for c in varying)
            values = t[measure].to_numpy(float)
            ax.plot(t["step"], np.where(values > 0, values, np.nan) if log else values,
                    label=label or rid[:6])
        if log:
            ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_title(measure)
        ax.grid(alpha=0.3)
    if len(ids) <= 12:
        axes[0][0].legend(fontsize=6)
    fig.suptitle(f"{runs['experiment'].iloc[0]}: trajectories")
    return save(fig, directory, "trajectories")
