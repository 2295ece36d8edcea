"""Figures of Arora, Cohen, Hu, Luo 2019 (Figs. 1 and 2 and their sensing versions)."""

from pathlib import Path

import numpy as np
import pandas as pd

from overparam.viz._style import (
    METHOD_STYLE,
    depth_style,
    errorbar,
    save,
    seeds_note,
    spread,
    subplots,
)

MEASURE_LABELS = {
    "recon_error": "reconstruction error",
    "nuclear_norm": "nuclear norm",
    "effective_rank": "effective rank",
}


def error_vs_observations(runs: pd.DataFrame, directory: Path, name: str, title: str) -> Path:
    """Reconstruction error against the number of observations, one panel per rank (Fig. 1)."""
    ranks = sorted(runs["problem.rank"].dropna().unique())
    fig, axes = subplots(1, len(ranks))
    for ax, rank in zip(axes[0], ranks):
        sub = runs[runs["problem.rank"] == rank]
        gd = sub[sub["method"] == "gd"]
        counts = []
        for depth in sorted(gd["model.depth"].unique()):
            s = spread(gd[gd["model.depth"] == depth], "problem.m", "recon_error", log=True)
            errorbar(ax, s, "problem.m", **depth_style(depth))
            counts += list(s["n"])
        nn = sub[sub["method"] == "nuclear_norm"]
        if len(nn):
            s = spread(nn, "problem.m", "recon_error", log=True)
            ax.plot(s["problem.m"], s["center"], **METHOD_STYLE["nuclear_norm"])
        d1, d2 = int(sub["problem.d1"].iloc[0]), int(sub["problem.d2"].iloc[0])
        ax.set_yscale("log")
        ax.set_xlabel("number of observations m")
        ax.set_ylabel("reconstruction error  ||W - W*||² / ||W*||²")
        ax.set_title(f"{d1}x{d2}, rank {int(rank)}\n{seeds_note(counts, log=True)}",
                     fontsize=9)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.suptitle(title)
    return save(fig, directory, name)


def measures_vs_init(runs: pd.DataFrame, directory: Path, name: str, title: str) -> Path:
    """Error, nuclear norm and effective rank against init scale, one row per m (Fig. 2)."""
    ms = sorted(runs["problem.m"].dropna().unique())
    measures = list(MEASURE_LABELS)
    fig, axes = subplots(len(ms), len(measures))
    for row, m in zip(axes, ms):
        sub = runs[runs["problem.m"] == m]
        gd = sub[sub["method"] == "gd"].copy()
        gd["x"] = gd["model.init_scale"] * np.sqrt(gd["problem.d2"])
        for ax, measure in zip(row, measures):
            log = measure == "recon_error"
            counts = []
            for depth in sorted(gd["model.depth"].unique()):
                s = spread(gd[gd["model.depth"] == depth], "x", measure, log=log)
                errorbar(ax, s, "x", **depth_style(depth))
                counts += list(s["n"])
            for method in ("nuclear_norm", "truth"):
                base = sub[sub["method"] == method]
                if len(base) and not (method == "truth" and measure == "recon_error"):
                    ax.axhline(base[measure].mean(), **{k: v for k, v in
                                                        METHOD_STYLE[method].items()
                                                        if k != "marker"})
            ax.set_xscale("log")
            if log:
                ax.set_yscale("log")
            ax.set_xlabel("init scale x sqrt(n)  (≈ ||W(0)||_F)")
            ax.set_title(f"{MEASURE_LABELS[measure]}, m = {int(m)}\n"
                         f"{seeds_note(counts, log=log)}", fontsize=9)
            ax.grid(alpha=0.3, which="both")
    axes[0][1].legend(fontsize=8)  # the nuclear-norm panel shows every reference line
    fig.suptitle(title)
    return save(fig, directory, name)


def loss_trajectories(runs: pd.DataFrame, traj: pd.DataFrame, directory: Path, name: str,
                      title: str) -> Path:
    """Training loss and reconstruction error against step, one line per GD run."""
    fig, axes = subplots(1, 2)
    gd = runs[runs["method"] == "gd"].set_index("run_id")
    for ax, measure in zip(axes[0], ("train_loss", "recon_error")):
        for rid, t in traj[traj["run_id"].isin(gd.index)].groupby("run_id"):
            r = gd.loc[rid]
            style = depth_style(r["model.depth"])
            t = t.sort_values("step")
            ax.plot(t["step"], t[measure], color=style["color"], alpha=0.6, lw=1)
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_title(measure.replace("_", " "))
        ax.grid(alpha=0.3)
    for depth in sorted(gd["model.depth"].unique()):
        axes[0][0].plot([], [], color=depth_style(depth)["color"], label=f"depth {int(depth)}")
    axes[0][0].legend(fontsize=8)
    fig.suptitle(title)
    return save(fig, directory, name)
