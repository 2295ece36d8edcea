"""Figures of Ding et al. 2022's recovery experiments: success rates against a problem size
with the theory's thresholds marked, and flat solutions against the Hadamard depth."""

from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from overparam.viz._style import save, subplots


class Curve(NamedTuple):
    """A success-rate curve: its label, the grid values and the rates (NaN: nothing counted)."""

    label: str
    x: np.ndarray
    rate: np.ndarray
    dashed: bool = False


class Mark(NamedTuple):
    """A vertical line at ``x`` (a threshold of the theory or of a claim)."""

    x: float
    label: str
    linestyle: str | tuple = ":"  # a matplotlib line style


class Panel(NamedTuple):
    title: str
    xlabel: str
    curves: list[Curve]
    marks: list[Mark]


def success_rates(panels: list[Panel], directory: Path, name: str, title: str) -> Path:
    """One panel per problem: success rate against its size, one curve per curve given and
    a vertical line per mark (curves and marks of one label prefix share a color)."""
    fig, axes = subplots(1, max(1, len(panels)))
    for ax, panel in zip(axes[0], panels):
        colors = {}
        for c in panel.curves:
            key = c.label.split(", ")[-1]
            color = colors.setdefault(key, f"C{len(colors)}")
            ax.plot(c.x, c.rate, marker="s" if c.dashed else "o", ls="--" if c.dashed else "-",
                    color=color, label=c.label, mfc="none" if c.dashed else color)
        for mark in panel.marks:
            color = colors.get(mark.label.split(":")[0], "gray")
            ax.axvline(mark.x, color=color, ls=mark.linestyle, lw=1, alpha=0.8,
                       label=mark.label)
        xs = np.concatenate([np.asarray(c.x, float) for c in panel.curves]
                            + [np.asarray([m.x for m in panel.marks], float)])
        if xs.size:  # vertical lines do not widen the axis: make room for every mark
            pad = 0.04 * max(np.ptp(xs), 1.0)
            ax.set_xlim(xs.min() - pad, xs.max() + pad)
        ax.set_ylim(-0.05, 1.05)
        ax.set_xlabel(panel.xlabel)
        ax.set_ylabel("success rate")
        ax.set_title(panel.title, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6)
    fig.suptitle(title, fontsize=10)
    return save(fig, directory, name)


def depth_summary(table: pd.DataFrame, truth: np.ndarray | None,
                  vectors: dict[int, np.ndarray], notes: dict, directory: Path, name: str,
                  title: str, seed: int) -> Path:
    """Relative error and nonzeros against the depth (every solve, the median, the notes'
    values and the min-l2 interpolant as a line), and the flat vectors of one seed: entries
    by index, and sorted magnitudes on a log scale with the 1e-6 count threshold."""
    fig, axes = subplots(1, 4)
    flat = table[table["method"] == "flat"]
    l2 = table[table["method"] == "nuclear_norm"]
    depths = sorted(flat["depth"].unique())
    for ax, col, label in ((axes[0][0], "error", "relative error ||x - x*|| / ||x*||"),
                           (axes[0][1], "nonzeros", "entries with |x_j| > 1e-6")):
        ax.scatter(flat["depth"], flat[col], s=12, alpha=0.5, color="tab:blue",
                   label="flat, each seed")
        med = flat.groupby("depth")[col].median()
        ax.plot(med.index, med.values, marker="o", color="tab:blue", label="median")
        noted = [(k, _number(notes[int(k)][0 if col == "error" else 1])) for k in depths
                 if int(k) in notes]
        if noted:
            ax.scatter(*zip(*noted), marker="x", color="black", zorder=3, label="notes")
        if len(l2):
            ax.axhline(float(l2[col].median()), color="gray", ls="--",
                       label="min l2 norm (k -> inf)")
        if col == "error":
            ax.set_yscale("log")
        ax.set_xscale("log", base=2)
        ax.set_xticks(depths, [str(int(k)) for k in depths])
        ax.set_xlabel("depth k")
        seeds = int(flat.groupby("depth").size().max()) if len(flat) else 0
        ax.set_title(f"{label}\n({seeds} seeds per depth)", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6)
    ax_v, ax_s = axes[0][2], axes[0][3]
    for i, (k, x) in enumerate(sorted(vectors.items(), reverse=True)):
        color = f"C{len(vectors) - 1 - i}"
        ax_v.plot(np.arange(len(x)), x, lw=1.6 if k == 2 else 0.8, color=color,
                  label=f"k = {k}")
        mags = np.sort(np.abs(x))[::-1]
        ax_s.plot(np.arange(1, len(x) + 1), np.where(mags > 0, mags, np.nan), color=color,
                  label=f"k = {k}")
    if truth is not None:
        support = np.flatnonzero(truth)
        ax_v.scatter(support, truth[support], marker="*", s=60, color="black", zorder=3,
                     label="truth x*")
        mags = np.sort(np.abs(truth))[::-1]
        ax_s.plot(np.arange(1, len(truth) + 1), np.where(mags > 0, mags, np.nan), color="black",
                  ls="--", label="truth")
    ax_s.axhline(1e-6, color="gray", ls=":", label="1e-6")
    ax_s.set_yscale("log")
    ax_v.set_xlabel("index j")
    ax_s.set_xlabel("rank of |x_j|")
    ax_v.set_title(f"flat solutions, seed {seed}", fontsize=9)
    ax_s.set_title(f"sorted |x_j|, seed {seed}", fontsize=9)
    for ax in (ax_v, ax_s):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6)
    fig.suptitle(title, fontsize=10)
    return save(fig, directory, name)


def _number(text: str) -> float:
    """A point for one of the notes' values: ``"0.26-0.36"`` -> its midpoint, ``"~0.5"`` ->
    0.5."""
    parts = [float(p) for p in text.strip("~").split("-") if p] if "e" not in text else \
        [float(text.strip("~"))]
    return float(np.mean(parts))
