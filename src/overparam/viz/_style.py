"""Shared figure helpers (matplotlib, non-interactive)."""

from pathlib import Path

import matplotlib

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
