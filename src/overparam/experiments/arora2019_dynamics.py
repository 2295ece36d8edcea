"""Arora, Cohen, Hu, Luo 2019, Fig. 3: singular-value dynamics of deep matrix factorization.

Depths 1, 2, 3 on the 100x100 rank-5 completion problem with 2000 observations, identity
initialization W(0) = 1e-3 I (each factor 1e-3^(1/N) I), the MSE without 1/2, stop at train
MSE 1e-6, at most 200k steps, in two settings drawn side by side:

- **authors** (sweep ``dynamics-authors``): the setting that most likely drew the paper's
  figure. The authors' ``configs/dynamics.toml`` chooses no optimizer, and their README gives
  the SGD file only for the MovieLens row, so the synthetic row ran with the code's default,
  GroupRMSprop; the notebook prints lr 1e-3 beside those runs (see the notes,
  ``arora2019.md``, "Fig. 3: which optimizer drew the synthetic row"). Our reading, not a
  certainty: the notebook selects runs by dataset and depth only.
- **gradient flow** (sweep ``dynamics``): plain full-batch GD with step 0.01, where the paper's
  ODE (its Theorem 3) applies. Its logs record the measured and predicted rates of the
  singular values, so the ODE is checked along the trajectory. GroupRMSprop moves along the
  same path with a reparametrized time, so the ODE check is made on these runs only.

Every log records the top singular values and the alignment of the loss gradient with the
singular vectors. The authors' setting is compared with the figure: the steps where each of
the top five singular values reaches half its final value, against the ranges read off the
figure (:data:`FIGURE_RISE`), and the minimum reconstruction error against the notebook's.

The MovieLens-100K row (:data:`ML100K`) keeps plain GD at lr 0.01: the authors' README runs it
with ``configs/opt/SGD.toml``.
"""

import math

import numpy as np
import pandas as pd

from overparam.experiments._base import Experiment
from overparam.experiments._claims import mark_known_mismatches
from overparam.experiments._trajectories import first_step_at_or_above, run_trajectory, stacked
from overparam.sweep import SweepConfig
from overparam.viz._dynamics import ode_check, settings_side_by_side, singular_value_dynamics

REF = "Arora, Cohen, Hu, Luo 2019"
DEPTHS = (1, 2, 3)
RANK = 5
# (dtype, log_every) per profile
PROFILES = {"quick": ("float32", 250), "paper": ("float64", 100)}
# ODE check tolerance per dtype: central differences at h ~ eps^(1/3) leave ~eps^(2/3) error
ODE_TOL = {"float32": 5e-2, "float64": 1e-3}
LOG_MEASURES = ["train_loss", "recon_error", "singular_values", "sv_rate_measured",
                "sv_rate_predicted", "alignment_diag", "alignment_offdiag"]
# the authors' setting needs no ODE rates (they are checked on the gradient-flow runs)
AUTHORS_LOG_MEASURES = ["train_loss", "recon_error", "singular_values", "alignment_diag",
                        "alignment_offdiag"]
MEASURES = ["train_loss", "recon_error", "nuclear_norm", "effective_rank", "singular_values"]
# optimizer name -> setting
FLOW, AUTHORS = "gd", "group_rmsprop"
SETTING_NAMES = {AUTHORS: "authors' setting (GroupRMSprop, lr 1e-3)",
                 FLOW: "gradient flow (GD, step 0.01)"}
# the steps between which the top five singular values rise in the paper's figure, as read off
# the authors' notebook (notes, section 4), and the factor within which ours must fall
FIGURE_RISE = {2: (2_500, 10_000), 3: (8_500, 16_000)}
TIME_FACTOR = 2.0
PAPER_MIN_RECON = {1: 0.820, 2: 0.0988, 3: 0.00167}  # printed in the authors' notebook
# claims checked as stated that do not reproduce here (measured on the quick and paper
# profiles, and on problem seeds 0-5 of the quick one)
KNOWN_MISMATCHES = {
    "authors-time-axis-depth2":
        "depth 2's top five reach half their final value at 10.5k-21k steps, about 3x "
        "later than the figure's 2.5k-10k; depth 3 matches within 1.2x",
    "authors-deeper-later":
        "under GroupRMSprop depth 3's mean half-way step is within 3 % of depth 2's, earlier "
        "on 4 of 6 seeds: the shared normalized step speeds the flat start of depth 3",
}


def sweeps(profile: str) -> list[SweepConfig]:
    dtype, log_every = PROFILES[profile]
    common = dict(
        problem={"kind": "completion", "d1": 100, "d2": 100, "rank": RANK, "m": 2000, "seed": 0},
        model={"kind": "deep_factorization", "init": "identity", "init_scale": 1e-3},
        grid={"model.depth": list(DEPTHS)}, measures=MEASURES)
    train = {"max_steps": 200_000, "log_every": log_every, "stop_loss": 1e-6, "dtype": dtype}
    return [SweepConfig(name="dynamics", optimizer={"name": FLOW, "learning_rate": 0.01},
                        train=train, log_measures=LOG_MEASURES, **common),
            SweepConfig(name="dynamics-authors",
                        optimizer={"name": AUTHORS, "learning_rate": 1e-3},
                        train=train, log_measures=AUTHORS_LOG_MEASURES, **common)]


def per_depth(runs: pd.DataFrame, traj: pd.DataFrame, optimizer: str) -> dict:
    """Depth -> the logged rows of the GD run of that depth trained by ``optimizer``."""
    sel = runs[(runs["method"] == "gd") & (runs["optimizer.name"] == optimizer)]
    return {int(d): run_trajectory(sel, traj, **{"model.depth": d})
            for d in sorted(sel["model.depth"].unique())}


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


def _shape_claims(per: dict, cross: dict, prefix: str, setting: str) -> list[dict]:
    """The picture of Fig. 3 in one setting: later, sharper, separated, aligned."""
    deep = [d for d in cross if d >= 2]
    out = [
        {"name": f"{prefix}deeper-later",
         "statement": f"{setting}: deeper factorizations move their top singular values "
                      "later: the mean step where each of the top 5 reaches half its final "
                      "value grows with depth (depths >= 2)",
         "paper": "Fig. 3: depth 2 rises between steps ~2.5k-10k, depth 3 jumps later "
                  "(~8.5k-16k)",
         "measured": {f"depth {d}": {"half_steps": cross[d]["half_steps"],
                                     "mean_half_step": cross[d]["mean_half_step"],
                                     "final_top5": cross[d]["final_top"]} for d in cross},
         "holds": _increasing([cross[d]["mean_half_step"] for d in deep])},
        {"name": f"{prefix}deeper-sharper",
         "statement": f"{setting}: ...and more sharply: the rise from 10 % to 90 % of the "
                      "final value, relative to the half-way step, shrinks with depth",
         "paper": "Fig. 3: depth 1 rises smoothly, depth 3 in sharp jumps",
         "measured": {f"depth {d}": round(cross[d]["relative_rise_width"], 4)
                      for d in cross},
         "holds": _increasing([-cross[d]["relative_rise_width"] for d in cross])},
        {"name": f"{prefix}deeper-separates",
         "statement": f"{setting}: at the end, the 6th singular value relative to the 5th "
                      "(rank 5 truth) falls with depth: the rest stay small",
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
        "name": f"{prefix}offdiag-small",
        "statement": f"{setting}: off the diagonal U^T grad l(W) V stays small: median over "
                     "training of mean |off-diagonal| / mean |diagonal| <= 0.2 (per entry, at "
                     "least 5x smaller) at every depth",
        "paper": "Fig. 3, right: off-diagonal much smaller than diagonal (depth 2)",
        "measured": {f"depth {d}": {"median": round(m, 5), "max": round(x, 5)}
                     for d, (m, x) in ratios.items()},
        "holds": all(m <= 0.2 for m, _ in ratios.values())})
    return out


def time_ratio(half_steps: list[float], rise: tuple[float, float]) -> float:
    """Geometric mean of the measured half-way steps over the geometric centre of the
    figure's range: 1 when ours sit where the figure's rise does."""
    return float(np.exp(np.mean(np.log(half_steps))) / math.sqrt(rise[0] * rise[1]))


def _authors_claims(per: dict, cross: dict) -> list[dict]:
    out = []
    for d, rise in FIGURE_RISE.items():
        if d not in cross:
            continue
        ratio = time_ratio(cross[d]["half_steps"], rise)
        out.append({
            "name": f"authors-time-axis-depth{d}",
            "statement": f"Authors' setting, depth {d}: the steps where the top 5 reach half "
                         "their final value sit within a factor "
                         f"{TIME_FACTOR:g} of the figure's rise (geometric mean of ours over "
                         "the geometric centre of the figure's range)",
            "paper": f"Fig. 3, depth {d}: the top 5 rise between steps ~{rise[0]:,} and "
                     f"~{rise[1]:,}",
            "measured": {"half_steps": cross[d]["half_steps"], "ratio": round(ratio, 3)},
            "holds": 1 / TIME_FACTOR <= ratio <= TIME_FACTOR})
    best = {d: float(rows["recon_error"].min()) for d, rows in per.items()}
    out.append({
        "name": "authors-recon-error",
        "statement": "Authors' setting: the minimum reconstruction error over training falls "
                     "with depth",
        "paper": "notebook: " + ", ".join(f"depth {d}: {v}" for d, v in PAPER_MIN_RECON.items()),
        "measured": {f"depth {d}": float(f"{v:.4g}") for d, v in best.items()},
        "holds": _increasing([-best[d] for d in best])})
    return out


def check_claims(runs: pd.DataFrame, traj: pd.DataFrame) -> list[dict]:
    out = []
    flow = per_depth(runs, traj, FLOW)
    if flow:
        gd = runs[(runs["method"] == "gd") & (runs["optimizer.name"] == FLOW)]
        tol = max(ODE_TOL[dt] for dt in gd["dtype"].unique())
        cross = {d: _crossings(rows) for d, rows in flow.items()}
        out += _shape_claims(flow, cross, "", SETTING_NAMES[FLOW].capitalize())
        for d, rows in flow.items():
            err = ode_errors(rows)
            out.append({
                "name": f"ode-depth{d}",
                "statement": f"Gradient flow, depth {d}: the finite-difference rates of the "
                             f"top {RANK} singular values match -N (sigma^2)^(1-1/N) "
                             "<grad l(W), u v^T> (90th percentile of the relative error over "
                             f"logs <= {tol:g})",
                "paper": "Theorem 3 (balanced init, gradient flow); identity init is balanced",
                "measured": {"median": float(np.median(err)),
                             "p90": float(np.quantile(err, 0.9)), "max": float(err.max()),
                             "logs": int(len(err))},
                "holds": bool(np.quantile(err, 0.9) <= tol)})
    authors = per_depth(runs, traj, AUTHORS)
    if authors:
        cross = {d: _crossings(rows) for d, rows in authors.items()}
        out += _shape_claims(authors, cross, "authors-", "Authors' setting")
        out += _authors_claims(authors, cross)
        mark_known_mismatches(out, KNOWN_MISMATCHES)
    return out


def plot(runs: pd.DataFrame, traj: pd.DataFrame, directory):
    settings = {SETTING_NAMES[o]: p for o in (AUTHORS, FLOW)
                if (p := per_depth(runs, traj, o))}
    title = f"{REF}, Fig. 3: completion 100x100, rank {RANK}, 2000 entries, identity init"
    out = [settings_side_by_side(settings, directory, "dynamics", title,
                                 bands={SETTING_NAMES[AUTHORS]: FIGURE_RISE})]
    if flow := per_depth(runs, traj, FLOW):
        out.append(ode_check(flow, RANK, directory, "ode_check",
                             "gradient flow: singular-value rates, measured vs predicted "
                             "(Theorem 3)"))
    return out


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
    summary="singular values of depths 1/2/3 vs step, authors' setting and gradient flow, "
            "ODE check (Fig. 3)",
    paper=f"{REF}, Fig. 3 (top row)",
    sweeps={p: (lambda p=p: sweeps(p)) for p in PROFILES},
    plot=plot,
    custom_claims=check_claims,
    converges=False,
)
