"""Shared by the Xie, Liang, Song 2017 experiments: the diversity weight chosen on the
validation split, and its effect on the test metric as paired differences over seeds."""

import numpy as np
import pandas as pd

LAMBDA = "objective.diversity"


def chosen(runs: pd.DataFrame, select: str, score: str, train: str) -> pd.DataFrame:
    """Per width: the lambda of least mean ``select`` (a validation metric) over the seeds
    (ties to the smaller lambda), and per seed ``score`` and ``train`` at it and at
    lambda = 0. Columns: width, lambda, seed, test_reg, test_0, train_reg, train_0."""
    valid = runs.groupby(["model.width", LAMBDA])[select].mean()
    rows = []
    for width, per_lam in valid.groupby(level=0):
        per_lam = per_lam.droplevel(0).sort_index()
        lam = float(per_lam.idxmin())
        at = runs[runs["model.width"] == width]
        reg = at[at[LAMBDA] == lam].set_index("seed")
        base = at[at[LAMBDA] == 0.0].set_index("seed")
        for seed in sorted(set(reg.index) & set(base.index)):
            rows.append({"width": int(width), "lambda": lam, "seed": seed,
                         "test_reg": float(reg.at[seed, score]),
                         "test_0": float(base.at[seed, score]),
                         "train_reg": float(reg.at[seed, train]),
                         "train_0": float(base.at[seed, train])})
    return pd.DataFrame(rows, columns=["width", "lambda", "seed", "test_reg", "test_0",
                                       "train_reg", "train_0"])


def effects(chosen_rows: pd.DataFrame) -> pd.DataFrame:
    """Per width of :func:`chosen`'s table: the chosen lambda, the mean test metric with and
    without it, the mean paired difference (with minus without), its standard error, the
    relative change, whether it is lower by more than two standard errors, and the seeds."""
    rows = []
    for width, g in chosen_rows.groupby("width"):
        diff = g["test_reg"] - g["test_0"]
        se = float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else float("inf")
        base = float(g["test_0"].mean())
        rows.append({"width": int(width), "lambda": float(g["lambda"].iloc[0]),
                     "test_reg": float(g["test_reg"].mean()), "test_0": base,
                     "diff": float(diff.mean()), "se": se,
                     "relative": float(diff.mean() / base) if base else float("nan"),
                     "lower": bool(diff.mean() < -2 * se), "seeds": len(diff)})
    return pd.DataFrame(rows, columns=["width", "lambda", "test_reg", "test_0", "diff", "se",
                                       "relative", "lower", "seeds"])


def sig(x: float, digits: int = 4) -> float:
    """``x`` rounded to ``digits`` significant digits (for claims.json)."""
    return float(f"{x:.{digits}g}")
