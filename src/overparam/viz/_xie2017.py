"""Figures of Xie, Liang, Song 2017: s_m(D) against discrepancy; error against width."""

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


def synthetic_figure(chosen: pd.DataFrame, effects: pd.DataFrame, reach: pd.DataFrame,
                     realizable: pd.DataFrame, along: pd.DataFrame, directory: Path, name: str,
                     title: str) -> Path:
    """Four panels: test (solid) and train (dashed) loss against width, with the
    validation-chosen lambda and without the regularizer (mean over seeds, bars min-max);
    the fraction of realizable inits reaching zero loss against width (dn = m dotted); their
    final loss against final discrepancy; and the training loss beside its bound
    m ||grad L||^2 / (2 s_m(D)^2) along training at the largest width."""
    fig, axes = subplots(1, 4)
    ax = axes[0][0]
    _with_without(ax, chosen, "squared loss")
    ax.set_yscale("log")
    ax = axes[0][1]
    ax.plot(reach["width"], reach["fraction"], marker="o", color="black")
    if len(realizable):
        m, d = int(realizable["problem.m"].iloc[0]), int(realizable["problem.d"].iloc[0])
        ax.axvline(m / d, color="gray", ls=":", label=f"dn = m = {m}")
    ax.set_xscale("log", base=2)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("width n")
    ax.set_ylabel("fraction of inits reaching 1e-6")
    inits = int(reach["inits"].max()) if len(reach) else 0
    ax.set_title(f"realizable teacher, {inits} inits per width", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    ax = axes[0][2]
    if len(realizable):
        sc = ax.scatter(realizable["discrepancy"], realizable["data_loss"],
                        c=np.log2(realizable["model.width"]), cmap="viridis", s=12)
        fig.colorbar(sc, ax=ax, label="log2 width")
    ax.axhline(1e-6, color="gray", ls=":")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("final L2 lune discrepancy")
    ax.set_ylabel("final train loss")
    ax.set_title("realizable inits: loss vs discrepancy", fontsize=9)
    ax.grid(alpha=0.3)
    ax = axes[0][3]
    for i, (_, rows) in enumerate(along.groupby("run_id")):
        rows = rows.sort_values("step")
        ax.plot(rows["step"], rows["data_loss"], color="tab:blue", alpha=0.8,
                label="train loss" if i == 0 else None)
        ax.plot(rows["step"], rows["loss_bound"], color="tab:orange", ls="--", alpha=0.8,
                label="m |grad L|^2 / (2 s_m(D)^2)" if i == 0 else None)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_title("loss and its bound along training, widest", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.suptitle(title)
    return save(fig, directory, name)


def _with_without(ax, chosen: pd.DataFrame, label_of: str) -> None:
    """Mean over seeds of test (solid) and train (dashed) against width, without the
    regularizer (blue) and with the chosen lambda (red), bars min-max."""
    g = chosen.groupby("width")
    for col, train, color, label in (("test_0", "train_0", "tab:blue", "lambda = 0"),
                                     ("test_reg", "train_reg", "tab:red",
                                      "lambda chosen on validation")):
        mean, lo, hi = g[col].mean(), g[col].min(), g[col].max()
        ax.errorbar(mean.index, mean, yerr=[mean - lo, hi - mean], color=color, marker="o",
                    ms=4, capsize=2, label=f"test, {label}")
        ax.plot(mean.index, g[train].mean(), color=color, ls="--", lw=1,
                label=f"train, {label}")
    seeds = int(g.size().max()) if len(chosen) else 0
    ax.set_xscale("log", base=2)
    ax.set_xlabel("width n")
    ax.set_ylabel(label_of)
    ax.set_title(f"{label_of} vs width ({seeds} seeds, bars min-max)", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6)


def mnist_figure(chosen: pd.DataFrame, along: pd.DataFrame, runs: pd.DataFrame,
                 directory: Path, name: str, title: str) -> Path:
    """Three panels: test and train error (%) against width with the validation-chosen
    lambda and without the regularizer; test error along training (epochs, mean over
    seeds); the first layer's final discrepancy against lambda, per width."""
    fig, axes = subplots(1, 3)
    _with_without(axes[0][0], chosen, "error (%)")
    ax = axes[0][1]
    widths = sorted(set(along["model.width"])) if len(along) else []
    colors = dict(zip(widths, _cmap_colors(len(widths))))
    for (width, lam), rows in along.groupby(["model.width", "objective.diversity"]):
        mean = rows.groupby("epoch")["test_error_rate"].mean()
        ax.plot(mean.index, mean, color=colors[width], ls="-" if lam == 0 else "--",
                label=f"n = {int(width)}, " + ("lambda = 0" if lam == 0 else f"lambda = {lam:.3g}"))
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("test error (%)")
    ax.set_title("test error along training (mean over seeds)", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6)
    ax = axes[0][2]
    lams = sorted(set(runs["objective.diversity"])) if len(runs) else []
    for width, rows in runs.groupby("model.width"):
        mean = rows.groupby("objective.diversity")["discrepancy"].mean()
        ax.plot([lams.index(v) for v in mean.index], mean, marker="o", ms=4,
                color=colors.get(width), label=f"n = {int(width)}")
    ax.set_xticks(range(len(lams)), [f"{v:.2g}" for v in lams], fontsize=7)
    ax.set_xlabel("diversity weight lambda")
    ax.set_ylabel("final L2 lune discrepancy (first layer)")
    ax.set_title("the regularizer's effect on the units", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.suptitle(title)
    return save(fig, directory, name)


def _cmap_colors(n: int) -> list:
    import matplotlib

    cmap = matplotlib.colormaps["viridis"]
    return [cmap(i / max(n - 1, 1) * 0.9) for i in range(n)]
