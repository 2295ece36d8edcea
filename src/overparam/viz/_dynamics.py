"""Figures of singular-value dynamics (Arora et al. 2019, Fig. 3) and the ODE check."""

from pathlib import Path

import numpy as np
import pandas as pd

from overparam.experiments._trajectories import stacked
from overparam.viz._style import DEPTH_COLORS, save, subplots


def singular_value_dynamics(per_depth: dict[int, pd.DataFrame], directory: Path, name: str,
                            title: str) -> Path:
    """One panel per depth with the top singular values against step, and a last panel with
    the mean |diagonal| (solid) and |off-diagonal| (dashed) of U^T grad l(W) V."""
    fig, axes = subplots(1, len(per_depth) + 1)
    for ax, (depth, rows) in zip(axes[0], per_depth.items()):
        sv = stacked(rows, "singular_values")
        for r in range(sv.shape[1]):
            ax.plot(rows["step"], sv[:, r], lw=1.2)
        ax.set_title(f"depth {depth}")
        ax.set_xlabel("step")
        ax.set_ylabel("singular values of W")
        ax.grid(alpha=0.3)
    ax = axes[0][-1]
    for depth, rows in per_depth.items():
        r = rows[rows["step"] > 0]
        color = DEPTH_COLORS.get(depth)
        ax.plot(r["step"], r["alignment_diag"], color=color, label=f"depth {depth} diagonal")
        ax.plot(r["step"], r["alignment_offdiag"], color=color, ls="--",
                label=f"depth {depth} off-diagonal")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("mean |U^T grad l(W) V|")
    ax.set_title("gradient in the singular basis")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    fig.suptitle(title)
    return save(fig, directory, name)


def ode_check(per_depth: dict[int, pd.DataFrame], top: int, directory: Path, name: str,
              title: str) -> Path:
    """Measured (finite-difference) against predicted rates of the top singular values, one
    panel per depth, log-log on magnitudes, with the identity line."""
    fig, axes = subplots(1, len(per_depth))
    for ax, (depth, rows) in zip(axes[0], per_depth.items()):
        rows = rows[rows["step"] > 0]
        meas = np.abs(stacked(rows, "sv_rate_measured")[:, :top]).ravel()
        pred = np.abs(stacked(rows, "sv_rate_predicted")[:, :top]).ravel()
        ok = (meas > 0) & (pred > 0)
        ax.scatter(pred[ok], meas[ok], s=4, alpha=0.5, color=DEPTH_COLORS.get(depth))
        if ok.any():
            lo, hi = min(pred[ok].min(), meas[ok].min()), max(pred[ok].max(), meas[ok].max())
            ax.plot([lo, hi], [lo, hi], color="black", lw=0.8, label="measured = predicted")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("|predicted d sigma / dt|")
        ax.set_ylabel("|measured d sigma / dt|")
        ax.set_title(f"depth {depth}, top {top}")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7)
    fig.suptitle(title)
    return save(fig, directory, name)


def settings_side_by_side(settings: dict[str, dict[int, pd.DataFrame]], directory: Path,
                          name: str, title: str,
                          bands: dict[str, dict[int, tuple[float, float]]] | None = None
                          ) -> Path:
    """One row per setting (label -> depth -> logged rows), drawn as
    :func:`singular_value_dynamics` draws one, on the same axes: one step axis for every
    panel and one singular-value scale per depth column, so the time axes compare directly.
    ``bands`` shades, per setting and depth, a step range (e.g. the one read off a paper's
    figure)."""
    bands = bands or {}
    depths = sorted({d for per in settings.values() for d in per})
    fig, axes = subplots(len(settings), len(depths) + 1, sharex=True)
    for k in range(len(depths)):  # one y scale per depth column
        for row in axes[1:, k]:
            row.sharey(axes[0, k])
    for i, (label, per) in enumerate(settings.items()):
        for j, depth in enumerate(depths):
            ax = axes[i, j]
            if depth in per:
                rows = per[depth]
                sv = stacked(rows, "singular_values")
                for r in range(sv.shape[1]):
                    ax.plot(rows["step"], sv[:, r], lw=1.2)
            if (span := bands.get(label, {}).get(depth)) is not None:
                ax.axvspan(*span, color="0.85", zorder=0, label="paper's figure: rise")
                ax.legend(fontsize=7, loc="upper left")
            ax.set_title(f"{label}\ndepth {depth}", fontsize=9)
            ax.set_ylabel("singular values of W")
            ax.grid(alpha=0.3)
        ax = axes[i, -1]
        for depth, rows in per.items():
            r = rows[rows["step"] > 0]
            color = DEPTH_COLORS.get(depth)
            ax.plot(r["step"], r["alignment_diag"], color=color, label=f"depth {depth} diag")
            ax.plot(r["step"], r["alignment_offdiag"], color=color, ls="--",
                    label=f"depth {depth} off-diag")
        ax.set_yscale("log")
        ax.set_ylabel("mean |U^T grad l(W) V|")
        ax.set_title(f"{label}\ngradient in the singular basis", fontsize=9)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=6)
    for ax in axes[-1]:
        ax.set_xlabel("step")
    fig.suptitle(title)
    return save(fig, directory, name)
