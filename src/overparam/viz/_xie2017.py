"""Figures of Xie, Liang, Song 2017: s_m(D) against discrepancy."""

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.ticker import NullFormatter

from overparam.viz._style import save, subplots


def discrepancy_figure(sets: pd.DataFrame, trained: pd.DataFrame, directory: Path, name: str,
                       title: str) -> Path:
    """Per case, s_m(D) against the L2 discrepancy of unit sets of controlled spread (colour:
    spread), with the kernel limit sqrt(n lambda_min(K)) dashed; then s_m(D) and the
    discrepancy along training, with and without the diversity regularizer."""
    cases = list(dict.fromkeys(sets["case"]))
    fig, axes = subplots(1, len(cases) + 2)
    for ax, case in zip(axes[0], cases):
        rows = sets[sets["case"] == case]
        sc = ax.scatter(rows["discrepancy"], rows["s_min_D"], c=np.log10(rows["spread"]),
                        cmap="viridis", s=14)
        ax.axhline(rows["limit"].mean(), color="black", ls="--", lw=0.8,
                   label="sqrt(n lambda_min(K))")
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("L2 lune discrepancy of the units")
        ax.set_ylabel("s_m(D)")
        w, d = int(rows["model.width"].iloc[0]), int(rows["problem.d"].iloc[0])
        ax.set_title(f"d = {d}, n = {w}", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        fig.colorbar(sc, ax=ax, label="log10 spread")
    for ax, col, label in ((axes[0][-2], "s_min_D", "s_m(D)"),
                           (axes[0][-1], "discrepancy", "L2 lune discrepancy")):
        for (lam, seed), rows in trained.groupby(["objective.diversity", "seed"]):
            rows = rows.sort_values("step")
            ax.plot(rows["step"], rows[col], color="tab:red" if lam > 0 else "tab:blue",
                    alpha=0.8, label=f"lambda = {lam:g}" if seed == 0 else None)
        ax.set_xlabel("step")
        ax.set_ylabel(label)
        ax.set_title(f"{label} along training", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(title)
    return save(fig, directory, name)
