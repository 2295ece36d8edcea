"""Figures of the flat-by-gradient experiment: final Hessian trace against recovery error per
method, and the trace (relative to the flat solution's) along training."""

from pathlib import Path

import numpy as np
import pandas as pd

from overparam.viz._style import save, subplots

MARKERS = {"gd-small": "o", "gd-large": "s", "trace-penalty": "D", "sam": "^", "sam1": "v",
           "label-noise": "P"}


def _color(i: int) -> str:
    return f"C{i}"


def trace_against_error(v: pd.DataFrame, directory: Path) -> Path:
    """One panel per (problem, cell): each GD run's trace gap to the flat solution (x,
    symlog) against its recovery error ||X - M||_F (y, log), a marker per method."""
    kinds = sorted(v["problem.kind"].unique())
    cells = ["recovers", "fails"]
    fig, axes = subplots(len(cells), max(1, len(kinds)))
    methods = list(MARKERS)
    for j, kind in enumerate(kinds):
        for i, cell in enumerate(cells):
            ax = axes[i][j]
            sub = v[(v["problem.kind"] == kind) & (v["cell"] == cell)]
            for k, name in enumerate(methods):
                g = sub[sub["name"] == name]
                if len(g):
                    ax.scatter(g["flat_trace_gap"], np.maximum(g["frob_error"], 1e-12),
                               marker=MARKERS[name], color=_color(k), label=name, s=28,
                               alpha=0.85)
            ax.axvspan(-0.01, 0.01, color="gray", alpha=0.15, lw=0)
            ax.set_xscale("symlog", linthresh=1e-2)
            ax.set_yscale("log")
            ax.set_xlabel("trace / flat trace - 1")
            ax.set_ylabel("||X - M||_F")
            ax.set_title(f"{kind.replace('_', ' ')}, flat {cell}", fontsize=10)
    axes[0][0].legend(fontsize=7)
    return save(fig, directory, "trace-vs-error")


def trace_along_training(v: pd.DataFrame, traj: pd.DataFrame, directory: Path) -> Path:
    """One panel per problem (recovery cell): the Hessian trace along training over the flat
    solution's, one line per run, a color per method."""
    kinds = sorted(v["problem.kind"].unique())
    fig, axes = subplots(1, max(1, len(kinds)))
    methods = list(MARKERS)
    rec = v[v["cell"] == "recovers"]
    flat_trace = (rec["hessian_trace"] / (1 + rec["flat_trace_gap"])).rename("flat_trace")
    rec = rec.assign(flat_trace=flat_trace)
    t = traj.merge(rec[["run_id", "name", "problem.kind", "flat_trace"]], on="run_id")
    for ax, kind in zip(axes[0], kinds):
        sub = t[t["problem.kind"] == kind]
        for k, name in enumerate(methods):
            for n, (_, g) in enumerate(sub[sub["name"] == name].groupby("run_id")):
                ax.plot(g["step"], g["hessian_trace"] / g["flat_trace"], color=_color(k),
                        lw=1, alpha=0.8, label=name if n == 0 else None)
        ax.axhline(1.0, color="black", ls=":", lw=1)
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel("trace / flat trace")
        ax.set_title(f"{kind.replace('_', ' ')}, flat recovers", fontsize=10)
    axes[0][0].legend(fontsize=7)
    return save(fig, directory, "trace-along-training")
