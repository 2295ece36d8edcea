"""Arora, Cohen, Hu, Luo 2019, Fig. 3: singular-value dynamics of deep matrix factorization.

Depths 1, 2, 3 on the 100x100 rank-5 completion problem with 2000 observations, trained as in
the authors' ``configs/dynamics.toml``: identity initialization W(0) = 1e-3 I (each factor
1e-3^(1/N) I), plain full-batch GD with step 0.01, the MSE without 1/2, stop at train MSE
1e-6, at most 200k steps. Every log records the top singular values, the alignment of the loss
gradient with the singular vectors, and the measured and predicted rates of the singular
values, so the paper's ODE (its Theorem 3) is checked along the trajectory.
"""

import math

import numpy as np
import pandas as pd

from overparam.experiments._base import Experiment
from overparam.experiments._trajectories import first_step_at_or_above, run_trajectory, stacked
from overparam.sweep import SweepConfig
from overparam.viz._dynamics import ode_check, singular_value_dynamics

REF = "Arora, Cohen, Hu, Luo 2019"
DEPTHS = (1, 2, 3)
RANK = 5
# (dtype, log_every) per profile
PROFILES = {"quick": ("float32", 250), "paper": ("float64", 100)}
# ODE check tolerance per dtype: central differences at h ~ eps^(1/3) leave ~eps^(2/3) error
ODE_TOL = {"float32": 5e-2, "float64": 1e-3}
LOG_MEASURES = ["train_loss", "recon_error", "singular_values", "sv_rate_measured",
                "sv_rate_predicted", "alignment_diag", "alignment_offdiag"]


def sweeps(profile: str) -> list[SweepConfig]:
    dtype, log_every = PROFILES[profile]
    return [SweepConfig(
        name="dynamics",
        problem={"kind": "completion", "d1": 100, "d2": 100, "rank": RANK, "m": 2000, "seed": 0},
        model={"kind": "deep_factorization", "init": "identity", "init_scale": 1e-3},
        optimizer={"name": "gd", "learning_rate": 0.01},
        train={"max_steps": 200_000, "log_every": log_every, "stop_loss": 1e-6, "dtype": dtype},
        grid={"model.depth": list(DEPTHS)},
        measures=["train_loss", "recon_error", "nuclear_norm", "effective_rank",
                  "singular_values"],
        log_measures=LOG_MEASURES,
    )]


def _crossings(rows: pd.DataFrame) -> dict:
    """Per top singular value: the steps where it first reaches 10 %, 50 % and 90 % of its
    final value."""
    steps = rows["step"].to_numpy()
    sv = stacked(rows, "singular_values")[:, :RANK]
    final = sv[-1]
    at = {q: [first_step_at_or_above(steps, sv[:, r], q * final[r]) for r in range(RANK)]
          for q in (0.1, 0.5, 0.9)}
    half = float(np.mean(at[0.5]))
    width = float(np.mean(np.subtract(at[0.9], at[0.1])))
    return {"half_steps": at[0.5], "mean_half_step": half, "rise_width": width,
            "relative_rise_width": width / half if half > 0 else math.inf,
            "final_top": final.round(3).tolist(),
            "gap_ratio": float(stacked(rows, "singular_values")[-1, RANK] / final[RANK - 1])}


def ode_errors(rows: pd.DataFrame) -> np.ndarray:
    """Per log (step 0 excluded: identity init has one repeated singular value), the relative
    error ||measured - predicted|| / ||predicted|| of the top-``RANK`` singular-value rates."""
    rows = rows[rows["step"] > 0]
    meas = stacked(rows, "sv_rate_measured")[:, :RANK]
    pred = stacked(rows, "sv_rate_predicted")[:, :RANK]
    return np.linalg.norm(meas - pred, axis=1) / np.linalg.norm(pred, axis=1)


def _increasing(values: list[float]) -> bool:
    return all(a < b for a, b in zip(values, values[1:]))


def check_claims(runs: pd.DataFrame, traj: pd.DataFrame) -> list[dict]:
    gd = runs[runs["method"] == "gd"]
    tol = max(ODE_TOL[dt] for dt in gd["dtype"].unique())
    per = {int(d): run_trajectory(gd, traj, **{"model.depth": d})
           for d in sorted(gd["model.depth"].unique())}
    cross = {d: _crossings(rows) for d, rows in per.items()}
    deep = [d for d in cross if d >= 2]
    out = [
        {"name": "deeper-later",
         "statement": "Deeper factorizations move their top singular values later: the mean "
                      "step where each of the top 5 reaches half its final value grows "
                      "with depth (depths >= 2)",
         "paper": "Fig. 3: depth 2 rises between steps ~2.5k-10k, depth 3 jumps later "
                  "(~8.5k-16k)",
         "measured": {f"depth {d}": {"half_steps": cross[d]["half_steps"],
                                     "final_top5": cross[d]["final_top"]} for d in cross},
         "holds": _increasing([cross[d]["mean_half_step"] for d in deep])},
        {"name": "deeper-sharper",
         "statement": "...and more sharply: the rise from 10 % to 90 % of the final value, "
                      "relative to the half-way step, shrinks with depth",
         "paper": "Fig. 3: depth 1 rises smoothly, depth 3 in sharp jumps",
         "measured": {f"depth {d}": round(cross[d]["relative_rise_width"], 4)
                      for d in cross},
         "holds": _increasing([-cross[d]["relative_rise_width"] for d in cross])},
        {"name": "deeper-separates",
         "statement": "At the end, the 6th singular value relative to the 5th (rank 5 truth) "
                      "falls with depth: the rest stay small",
         "paper": "Fig. 3: depth 2 keeps the rest below ~6, depth 3 near 0",
         "measured": {f"depth {d}": round(cross[d]["gap_ratio"], 5) for d in cross},
         "holds": _increasing([-cross[d]["gap_ratio"] for d in cross])},
    ]
    ratios = {}
    for d, rows in per.items():
        r = rows[rows["step"] > 0]
        ratio = r["alignment_offdiag"] / r["alignment_diag"]
        ratios[d] = (float(ratio.median()), float(ratio.max()))
    out.append({
        "name": "offdiag-small",
        "statement": "Off the diagonal U^T grad l(W) V stays small: median over training of "
                     "mean |off-diagonal| / mean |diagonal| <= 0.2 (per entry, at least 5x "
                     "smaller) at every depth",
        "paper": "Fig. 3, right: off-diagonal much smaller than diagonal (depth 2)",
        "measured": {f"depth {d}": {"median": round(m, 5), "max": round(x, 5)}
                     for d, (m, x) in ratios.items()},
        "holds": all(m <= 0.2 for m, _ in ratios.values())})
    for d, rows in per.items():
        err = ode_errors(rows)
        out.append({
            "name": f"ode-depth{d}",
            "statement": f"Depth {d}: the finite-difference rates of the top {RANK} singular "
                         "values match -N (sigma^2)^(1-1/N) <grad l(W), u v^T> (90th "
                         f"percentile of the relative error over logs <= {tol:g})",
            "paper": "Theorem 3 (balanced init, gradient flow); identity init is balanced",
            "measured": {"median": float(np.median(err)),
                         "p90": float(np.quantile(err, 0.9)), "max": float(err.max()),
                         "logs": int(len(err))},
            "holds": bool(np.quantile(err, 0.9) <= tol)})
    return out


def plot(runs: pd.DataFrame, traj: pd.DataFrame, directory):
    gd = runs[runs["method"] == "gd"]
    per = {int(d): run_trajectory(gd, traj, **{"model.depth": d})
           for d in sorted(gd["model.depth"].unique())}
    title = f"{REF}, Fig. 3: completion 100x100, rank {RANK}, 2000 entries, identity init, GD"
    return [singular_value_dynamics(per, directory, "dynamics", title),
            ode_check(per, RANK, directory, "ode_check",
                      "singular-value rates: measured vs predicted (Theorem 3)")]


# --- MovieLens-100K (Fig. 3, bottom row) -----------------------------------------------------

PAPER_ML100K = {1: 13.73, 2: 1.450, 3: 1.398}  # minimum test MSE printed in the authors' notebook


def ml100k_sweeps() -> list[SweepConfig]:
    """10,000 random ratings observed, the other 90,000 held out; ratings raw (1-5)."""
    return [SweepConfig(
        name="dynamics-ml100k",
        problem={"kind": "movielens100k", "n_train": 10_000, "seed": 0},
        model={"kind": "deep_factorization", "init": "identity", "init_scale": 1e-3},
        optimizer={"name": "gd", "learning_rate": 0.01},
        train={"max_steps": 200_000, "log_every": 100, "stop_loss": 1e-6},
        grid={"model.depth": list(DEPTHS)},
        measures=["train_loss", "test_error", "effective_rank", "singular_values"],
        log_measures=["train_loss", "test_error", "singular_values", "alignment_diag",
                      "alignment_offdiag"],
    )]


def ml100k_claims(runs: pd.DataFrame, traj: pd.DataFrame) -> list[dict]:
    gd = runs[runs["method"] == "gd"]
    per = {int(d): run_trajectory(gd, traj, **{"model.depth": d})
           for d in sorted(gd["model.depth"].unique())}
    best = {d: float(rows["test_error"].min()) for d, rows in per.items()}
    top = {d: stacked(rows, "singular_values")[-1] for d, rows in per.items()}
    return [
        {"name": "depth-helps-test-error",
         "statement": "The best test MSE over training falls with depth and is below 2 for "
                      "depths 2 and 3 (predicting the mean rating gives ~1.27)",
         "paper": ", ".join(f"depth {d}: {v}" for d, v in PAPER_ML100K.items()),
         "measured": {f"depth {d}": round(v, 4) for d, v in best.items()},
         "holds": _increasing([-best[d] for d in best])
         and all(best[d] < 2 for d in best if d >= 2)},
        {"name": "one-dominant-singular-value",
         "statement": "Depths 2 and 3 end with one dominant singular value (>= 5x the second)",
         "paper": "≈ 3400 (depth 2), ≈ 3770 (depth 3) for the top one",
         "measured": {f"depth {d}": np.round(v[:3], 2).tolist() for d, v in top.items()},
         "holds": all(top[d][0] >= 5 * top[d][1] for d in top if d >= 2)},
    ]


def ml100k_plot(runs: pd.DataFrame, traj: pd.DataFrame, directory):
    gd = runs[runs["method"] == "gd"]
    per = {int(d): run_trajectory(gd, traj, **{"model.depth": d})
           for d in sorted(gd["model.depth"].unique())}
    return [singular_value_dynamics(per, directory, "dynamics-ml100k",
                                    f"{REF}, Fig. 3 (bottom): MovieLens-100K, 10,000 ratings, "
                                    "identity init, GD")]


ML100K = Experiment(
    name="arora2019-ml100k",
    summary="Fig. 3 on MovieLens-100K (needs u.data: set OVERPARAM_ML100K; a GPU job)",
    paper=f"{REF}, Fig. 3 (bottom row)",
    sweeps={"paper": ml100k_sweeps},
    plot=ml100k_plot,
    custom_claims=ml100k_claims,
    converges=False,
)

EXPERIMENT = Experiment(
    name="arora2019-dynamics",
    summary="singular-value trajectories of depths 1/2/3, gradient alignment, ODE check (Fig. 3)",
    paper=f"{REF}, Fig. 3 (top row)",
    sweeps={p: (lambda p=p: sweeps(p)) for p in PROFILES},
    plot=plot,
    custom_claims=check_claims,
    converges=False,
)
