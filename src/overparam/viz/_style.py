"""Shared figure helpers (matplotlib, non-interactive)."""

from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

METHOD_STYLE = {
    "nuclear_norm": {"color": "black", "marker": "s", "linestyle": "--",
                     "label": "min nuclear norm"},
    "truth": {"color": "gray", "linestyle": ":", "label": "ground truth"},
}
DEPTH_COLORS = {1: "tab:purple", 2: "tab:blue", 3: "tab:orange", 4: "tab:green", 5: "tab:red"}


def depth_style(depth: int) -> dict:
    return {"color": DEPTH_COLORS.get(int(depth), None), "marker": "o",
            "label": f"depth {int(depth)}"}


def save(fig, directory: Path, name: str) -> Path:
    path = Path(directory) / f"{name}.png"
    fig.tight_layout()
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


def subplots(rows: int, cols: int, **kw):
    return plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows), squeeze=False, **kw)


def spread(df: pd.DataFrame, x: str, y: str, log: bool = False) -> pd.DataFrame:
    """Per value of ``x``: the ``center`` of ``y`` (its geometric mean when ``log``, for a
    log axis; else its mean), its ``min``, ``max`` and count ``n``, NaNs dropped. On a log
    axis non-positive values are dropped too (they cannot be drawn), so the bars, min to max,
    never cross zero: mean - std does, when the seeds' errors span decades."""
    values = df[y].astype(float)
    keep = values.notna() & (values > 0 if log else True)
    values, keys = values[keep], df[x][keep]
    g = (np.log(values) if log else values).groupby(keys)
    out = pd.DataFrame({"center": g.mean(), "min": g.min(), "max": g.max(), "n": g.size()})
    if log:
        out[["center", "min", "max"]] = np.exp(out[["center", "min", "max"]])
    return out.rename_axis(x).reset_index()


def errorbar(ax, stats: pd.DataFrame, x: str, **style) -> None:
    """Draw :func:`spread`'s ``stats``: the center, bars from min to max."""
    ax.errorbar(stats[x], stats["center"],
                yerr=[stats["center"] - stats["min"], stats["max"] - stats["center"]],
                capsize=2, **style)


def seeds_note(counts, log: bool = False) -> str:
    """How many runs each point summarizes and what its bar is, for a title or caption."""
    counts = sorted({int(c) for c in counts})
    if not counts:
        return ""
    n = str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
    center = "geometric mean" if log else "mean"
    return f"{n} seed{'s' if counts[-1] > 1 else ''}: {center}, bars min-max"
