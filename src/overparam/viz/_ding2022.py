"""Phase maps and regularity maps of Ding, Drusvyatskiy, Fazel, Harchaoui 2022 (Figs. 3, 4).

Cells are drawn as rectangles around their grid point, since the measurement counts of the
(d, m) maps change with d: each column spans half-way to its neighbouring d, each cell
half-way to its neighbouring m (or p) in that column.
"""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.collections import PatchCollection
from matplotlib.colors import Normalize
from matplotlib.patches import Rectangle

from overparam.experiments.ding2022 import (
    BILINEAR,
    COMPLETION,
    NETWORK,
    NETWORK_R1,
    NETWORK_R2,
    RANK,
    SENSING,
    TITLES,
    dof,
    symmetric_dof,
)
from overparam.viz._style import save, subplots

ORDER = (SENSING, BILINEAR, COMPLETION, NETWORK)  # the paper's panels (a) - (d)
METHODS = {"flat": "flat (convex relaxation)", "nuclear_norm": "min nuclear norm"}


def _edges(values: np.ndarray) -> np.ndarray:
    """Cell edges half-way between sorted ``values``, the end cells as wide as their
    neighbour (a single value gets +-10 % of itself, at least +-0.5)."""
    v = np.asarray(sorted(values), float)
    if len(v) == 1:
        half = max(0.1 * abs(v[0]), 0.5)
        return np.array([v[0] - half, v[0] + half])
    mid = (v[1:] + v[:-1]) / 2
    return np.concatenate([[2 * v[0] - mid[0]], mid, [2 * v[-1] - mid[-1]]])


def _rectangles(table: pd.DataFrame) -> list[tuple[Rectangle, pd.Series]]:
    """A rectangle per (d, x) row of ``table``, with its row."""
    out = []
    ds = np.sort(table["d"].unique())
    dedge = _edges(ds)
    for j, d in enumerate(ds):
        col = table[table["d"] == d].sort_values("x")
        xedge = _edges(col["x"].to_numpy())
        for i, (_, row) in enumerate(col.iterrows()):
            out.append((Rectangle((dedge[j], xedge[i]), dedge[j + 1] - dedge[j],
                                  xedge[i + 1] - xedge[i]), row))
    return out


def _curves(ax, kind: str, ds: np.ndarray) -> None:
    """The degrees-of-freedom curve on a map (and the symmetric one for the network)."""
    grid = np.linspace(ds.min() - 1, ds.max() + 1, 200)
    if kind == COMPLETION:
        ax.plot(grid, dof(grid) / grid**2, color="tab:red", lw=1.5,
                label=f"p = r(2d - r)/d², r = {RANK}")
        return
    r = NETWORK_R1 + NETWORK_R2 if kind == NETWORK else RANK
    ax.plot(grid, dof(grid, r), color="tab:red", lw=1.5, label=f"m = r(2d - r), r = {r}")
    if kind == NETWORK:
        ax.plot(grid, symmetric_dof(grid, r), color="tab:red", lw=1.2, ls="--",
                label="m = r(2d - r + 1)/2 (symmetric)")


def _map(ax, table: pd.DataFrame, value: str, cmap, norm) -> PatchCollection:
    rects = _rectangles(table)
    coll = PatchCollection([r for r, _ in rects], cmap=cmap, norm=norm, edgecolor="0.5",
                           linewidth=0.3)
    coll.set_array(np.array([row[value] for _, row in rects], float))
    ax.add_collection(coll)
    ax.autoscale_view()
    return coll


def _marks(ax, table: pd.DataFrame) -> None:
    """Hatch cells where any flat solve had singular weights; cross cells with max_steps."""
    for rect, row in _rectangles(table):
        if row.get("singular", 0) > 0:
            ax.add_patch(Rectangle(rect.get_xy(), rect.get_width(), rect.get_height(),
                                   fill=False, hatch="///", edgecolor="tab:orange", lw=0))
        if row.get("max_steps", 0) > 0:
            x0, y0 = rect.get_xy()
            ax.plot(x0 + rect.get_width() / 2, y0 + rect.get_height() / 2, "x",
                    color="tab:blue", ms=6, mew=1.5)


def phase_maps(cells: pd.DataFrame, directory: Path, name: str, title: str,
               methods: dict[str, str] | None = None) -> Path:
    """Success frequency per cell (gray, white = every solve recovers), methods as rows
    (``methods``: method -> row label; default flat and nuclear norm), problems as columns;
    the degrees-of-freedom curve on each; orange hatching where a flat solve had singular
    weights, a blue cross where a solve stopped at its iteration cap."""
    methods = methods or METHODS
    kinds = [k for k in ORDER if k in set(cells["kind"])]
    fig, axes = subplots(len(methods), max(len(kinds), 1))
    norm = Normalize(0.0, 1.0)
    coll = None
    keys = ["kind", "d", "x"]
    singular = cells.groupby(keys)["singular"].sum().rename("any_singular").reset_index()
    for j, kind in enumerate(kinds):
        for i, (method, label) in enumerate(methods.items()):
            ax = axes[i, j]
            table = cells[(cells["kind"] == kind) & (cells["method"] == method)]
            # a cell is hatched on both maps when any of its flat solves had singular weights
            table = table.merge(singular, on=keys, how="left").assign(
                singular=lambda t: t["any_singular"])
            if not len(table):
                ax.axis("off")
                continue
            coll = _map(ax, table, "rate", "gray", norm)
            _marks(ax, table)
            ylim, xlim = ax.get_ylim(), ax.get_xlim()
            _curves(ax, kind, np.sort(table["d"].unique()))
            ax.set_ylim(ylim)
            ax.set_xlim(xlim)
            ax.set_title(f"{TITLES[kind]}\n{label}", fontsize=9)
            ax.set_xlabel("d")
            ax.set_ylabel("p" if kind == COMPLETION else "m")
            if i == 0:
                ax.legend(fontsize=6, loc="upper left")
    fig.subplots_adjust(hspace=0.55, wspace=0.35)
    if coll is not None:
        fig.colorbar(coll, ax=axes.ravel().tolist(), shrink=0.6, label="success frequency")
    handles = [Rectangle((0, 0), 1, 1, fill=False, hatch="///", edgecolor="tab:orange",
                         label="singular weights (flat)"),
               plt.Line2D([], [], marker="x", color="tab:blue", ls="", label="max_steps solve")]
    fig.legend(handles=handles, loc="lower center", ncol=2, fontsize=8)
    fig.suptitle(title)
    return _save(fig, directory, name)


def _save(fig, directory: Path, name: str) -> Path:
    """:func:`~overparam.viz._style.save` without tight_layout (it fights the colorbar)."""
    fig.set_layout_engine("none")
    path = Path(directory) / f"{name}.png"
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


GAPS = {"norm_gap": "log10 norm gap", "balance_gap": "log10 balance gap"}
REGULARITY_ORDER = (SENSING, BILINEAR, COMPLETION)


def regularity_maps(solves: pd.DataFrame, exact: pd.DataFrame, directory: Path, name: str,
                    title: str) -> Path:
    """Median over exact flat solves of log10 of each gap per cell (gaps as rows, problems as
    columns); cells without an exact solve are left white with a gray outline."""
    kinds = [k for k in REGULARITY_ORDER if k in set(solves["kind"])]
    fig, axes = subplots(len(GAPS), max(len(kinds), 1))
    flat = solves[solves["method"] == "flat"]
    for j, kind in enumerate(kinds):
        grid = flat[flat["kind"] == kind][["d", "x"]].drop_duplicates()
        sub = exact[exact["kind"] == kind]
        for i, (gap, label) in enumerate(GAPS.items()):
            ax = axes[i, j]
            logs = sub.assign(v=np.log10(np.maximum(sub[gap].astype(float), 1e-300)))
            med = logs.groupby(["d", "x"])["v"].median().rename("v").reset_index()
            table = grid.merge(med, on=["d", "x"], how="left")
            values = table["v"].dropna()
            lo, hi = (values.min(), values.max()) if len(values) else (-3.0, 0.0)
            norm = Normalize(lo - 0.1, hi + 0.1)
            coll = _map(ax, table, "v", plt.get_cmap("viridis").with_extremes(bad="white"),
                        norm)
            coll.set_array(np.ma.masked_invalid(coll.get_array()))
            for rect, row in _rectangles(table):
                if np.isfinite(row["v"]):
                    x0, y0 = rect.get_xy()
                    ax.text(x0 + rect.get_width() / 2, y0 + rect.get_height() / 2,
                            f"{row['v']:.1f}", ha="center", va="center", fontsize=6,
                            color="white" if norm(row["v"]) < 0.5 else "black")
            fig.colorbar(coll, ax=ax, label=label)
            ax.set_title(f"{TITLES[kind]}\n{label} (median over exact solves)",
                         fontsize=9)
            ax.set_xlabel("d")
            ax.set_ylabel("p" if kind == COMPLETION else "m")
    fig.suptitle(title)
    return save(fig, directory, name)
