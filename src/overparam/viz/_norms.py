"""Each solution's error, effective rank and Schatten (quasi-)norms, side by side."""

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from overparam.measures._schatten_ps import SCHATTEN_PS
from overparam.viz._style import save, seeds_note, spread, subplots

ORDER = {"gd": 0, "nuclear_norm": 1, "schatten": 2, "truth": 3}


def solutions_by_method(runs: pd.DataFrame, label: Callable, ps: list[float], directory: Path,
                        name: str, title: str) -> Path:
    """One row per number of observations; bars per solution (mean over seeds) of the
    reconstruction error, the effective rank and each Schatten-p value relative to the
    truth's."""
    ms = sorted(runs["problem.m"].dropna().unique())
    panels = ["recon_error", "effective_rank", *[f"S_{p:.3g} / truth" for p in ps]]
    fig, axes = subplots(len(ms), len(panels))
    for row, m in zip(axes, ms):
        sub = runs[runs["problem.m"] == m].copy()
        sub["rank"] = sub["method"].map(ORDER).fillna(len(ORDER))
        sort = ["rank", *(c for c in ("model.depth", "solver.p") if c in sub)]
        sub = sub.sort_values(sort, ascending=[True, True, False][:len(sort)])
        sub["solution"] = sub.apply(label, axis=1)
        truth = sub[sub["method"] == "truth"]["schatten_quasi_norms"]
        ref = np.asarray(truth.iloc[0], float) if len(truth) else None
        for j, p in enumerate(ps):
            k = SCHATTEN_PS.index(p)
            sub[panels[2 + j]] = sub["schatten_quasi_norms"].map(
                lambda v, k=k: float(np.asarray(v)[k] / ref[k]) if ref is not None else np.nan)
        order = list(dict.fromkeys(sub["solution"]))
        for ax, panel in zip(row, panels):
            log = panel == "recon_error"
            stats = spread(sub, "solution", panel, log=log).set_index("solution").reindex(order)
            ax.bar(range(len(order)), stats["center"], color="tab:blue",
                   yerr=[stats["center"] - stats["min"], stats["max"] - stats["center"]],
                   capsize=2, error_kw={"lw": 0.8})
            ax.set_xticks(range(len(order)), order, rotation=60, ha="right", fontsize=7)
            if log:
                ax.set_yscale("log")
            if panel.startswith("S_"):
                ax.axhline(1.0, color="gray", ls=":", lw=1)
            ax.set_title(f"m = {int(m)}: {panel}\n{seeds_note(stats['n'].dropna(), log=log)}",
                         fontsize=8)
            ax.grid(alpha=0.3, axis="y")
    fig.suptitle(title)
    return save(fig, directory, name)
