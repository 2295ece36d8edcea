"""Norms, effective rank and the unobserved entry against training loss (Razin & Cohen 2020)."""

from pathlib import Path

import numpy as np
import pandas as pd

from overparam.experiments._trajectories import stacked
from overparam.measures._schatten_ps import SCHATTEN_PS
from overparam.viz._style import DEPTH_COLORS, save, subplots

INIT_LINES = {"balanced": "-", "gaussian": "--"}


def norms_vs_loss(runs: pd.DataFrame, traj: pd.DataFrame, directory: Path, name: str,
                  title: str) -> Path:
    """Panels of |unobserved entry|, effective rank, det and each Schatten quasi-norm against
    the training loss (log axis, inverted: training moves right). One line per run."""
    panels = ["unobserved_max_abs", "effective_rank", "determinant",
              *[f"schatten p={p:.3g}" for p in SCHATTEN_PS]]
    cols = 4
    fig, axes = subplots((len(panels) + cols - 1) // cols, cols)
    flat = axes.ravel()
    labelled = set()
    for _, run in runs[runs["method"] == "gd"].iterrows():
        t = traj[traj["run_id"] == run["run_id"]].sort_values("step")
        t = t[t["train_loss"] > 0]
        depth, init = int(run["model.depth"]), run["model.init"]
        label = f"depth {depth} {init}"
        style = {"color": DEPTH_COLORS.get(depth), "ls": INIT_LINES.get(init, ":"), "lw": 1,
                 "label": None if label in labelled else label}
        labelled.add(label)
        norms = stacked(t, "schatten_quasi_norms")
        for k, (ax, panel) in enumerate(zip(flat, panels)):
            y = t[panel].to_numpy() if k < 3 else norms[:, k - 3]
            ax.plot(t["train_loss"], np.abs(y) if panel == "unobserved_max_abs" else y, **style)
    for ax, panel in zip(flat, panels):
        ax.set_xscale("log")
        ax.invert_xaxis()
        if panel != "determinant" and panel != "effective_rank":
            ax.set_yscale("log")
        ax.set_xlabel("training loss (MSE)")
        ax.set_title(panel.replace("unobserved_max_abs", "|W00| (unobserved)"))
        ax.grid(alpha=0.3, which="both")
    for ax in flat[len(panels):]:
        ax.axis("off")
    flat[0].legend(fontsize=7)
    fig.suptitle(title)
    return save(fig, directory, name)
