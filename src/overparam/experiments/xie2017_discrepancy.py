"""Xie, Liang, Song 2017: the smallest singular value s_m(D) of the extended feature matrix
against the L2 discrepancy of the units.

The paper's figure plots s_m(D) against discrepancy; its settings are unknown (the notes,
``../shared/papers/xie2017.md``, sections 5 and 7, could not read the paper's body). Ours,
after the notes' numerical check: x uniform on S^(d-1), d = 10, m = 100 training inputs,
n = 400 units w_k proportional to mu + s g_k (one direction mu, g_k iid N(0, I), spread s
from 0.05 to 5: from nearly identical units to nearly uniform directions), read at
initialization (the step-0 log; one GD step is taken only because a run needs one). A larger
case repeats it at d = 20, m = 200, n = 1600. Along training: the same problem, n = 400
gaussian units trained by GD on a teacher of 5 units, with and without the diversity
regularizer, s_m(D) and the discrepancy logged as they move.

Claims (thresholds from the issue): lower discrepancy goes with larger s_m(D), a rank
correlation below -0.9 over the unit sets; at the largest spread s_m(D) comes within 5 % of
sqrt(n lambda_min(K)), the limit for perfectly diverse units. At n = 400 that holds with the
paper profile's 10 seeds (0.9535) and not with the quick profile's 3 (0.950): a known
mismatch of the quick profile only.
"""

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from overparam.experiments._base import Experiment
from overparam.experiments._claims import mark_known_mismatches
from overparam.sweep import SweepConfig
from overparam.viz._xie2017 import discrepancy_figure

REF = "Xie, Liang, Song 2017"
CASES = {"base": (10, 100, 400), "large": (20, 200, 1600)}  # (d, m, n)
SPREADS = [float(s) for s in np.geomspace(0.05, 5.0, 10)]
PROFILES = {"quick": {"seeds": [0, 1, 2], "steps": 2000},
            "paper": {"seeds": list(range(10)), "steps": 20000}}
RANK_CORRELATION = -0.9
LIMIT_TOL = 0.05
MEASURES = ["s_min_D", "discrepancy", "kernel_lambda_min", "data_loss"]
TRAIN_MEASURES = ["s_min_D", "discrepancy", "kernel_lambda_min", "data_loss", "loss_bound"]
LEARNING_RATE = 0.05
DIVERSITY = 0.1
# known on the quick profile (3 seeds per spread) only: the paper profile's 10 seeds give
# 0.9535 at n = 400, which holds
KNOWN_MISMATCHES = {
    "limit-base":
        "with 3 seeds the widest unit sets at n = 400 reach 0.950 of sqrt(n lambda_min(K)), "
        "0.94-0.955 on five data draws (the notes' own draw: 0.97; the paper profile's 10 "
        "seeds: 0.9535); at n = 1600 the gap is about halved",
}


def _problem(d: int, m: int) -> dict:
    return {"kind": "teacher_student", "d": d, "n_teacher": 5, "m": m, "m_test": 200}


def sweeps(profile: str) -> list[SweepConfig]:
    seeds, steps = PROFILES[profile]["seeds"], PROFILES[profile]["steps"]
    out = [SweepConfig(
        name=f"spread-{case}", problem=_problem(d, m),
        model={"kind": "relu_network", "width": n, "init": "spread", "init_scale": 1.0},
        objective={"kind": "data_squared"},
        optimizer={"name": "gd", "learning_rate": 1e-3},
        train={"max_steps": 1, "log_every": 1, "stop_loss": 0.0},
        grid={"model.spread": SPREADS}, seeds=seeds,
        measures=MEASURES, log_measures=MEASURES) for case, (d, m, n) in CASES.items()]
    d, m, n = CASES["base"]
    out.append(SweepConfig(
        name="training", problem=_problem(d, m),
        model={"kind": "relu_network", "width": n, "init_scale": 1.0},
        objective={"kind": "data_squared"},
        optimizer={"name": "gd", "learning_rate": LEARNING_RATE},
        train={"max_steps": steps, "log_every": steps // 20, "stop_loss": 0.0},
        grid={"objective.diversity": [0.0, DIVERSITY]}, seeds=seeds[:2],
        measures=TRAIN_MEASURES, log_measures=TRAIN_MEASURES))
    return out


def unit_sets(runs: pd.DataFrame, traj: pd.DataFrame) -> pd.DataFrame:
    """One row per spread-sweep run at initialization: case, spread, seed, width, s_min_D,
    discrepancy and the kernel limit sqrt(n lambda_min(K))."""
    gd = runs[(runs["method"] == "gd") & (runs.get("model.init") == "spread")]
    init = traj[traj["step"] == 0][["run_id", "s_min_D", "discrepancy", "kernel_lambda_min"]]
    rows = gd[["run_id", "model.spread", "seed", "model.width", "problem.d"]].merge(
        init, on="run_id")
    case = {d: c for c, (d, _, _) in CASES.items()}
    rows["case"] = rows["problem.d"].map(case)
    rows["limit"] = np.sqrt(rows["model.width"] * rows["kernel_lambda_min"])
    return rows.rename(columns={"model.spread": "spread"})


def claims(runs: pd.DataFrame, traj: pd.DataFrame) -> list[dict]:
    sets = unit_sets(runs, traj)
    out = []
    for case, rows in sets.groupby("case"):
        d, m, n = CASES[case]
        rho = float(spearmanr(rows["discrepancy"], rows["s_min_D"]).statistic)
        out.append({
            "name": f"rank-correlation-{case}",
            "statement": f"d = {d}, m = {m}, n = {n}: lower discrepancy goes with larger "
                         f"s_m(D): Spearman rank correlation over the {len(rows)} unit sets "
                         f"< {RANK_CORRELATION}",
            "paper": "Fig.: s_m(D) against discrepancy (seed summary: lower discrepancy, "
                     "higher singular value)",
            "measured": {"spearman": round(rho, 4), "unit_sets": len(rows)},
            "holds": rho < RANK_CORRELATION})
        widest = rows[rows["spread"] == rows["spread"].max()]
        ratio = float((widest["s_min_D"] / widest["limit"]).mean())
        out.append({
            "name": f"limit-{case}",
            "statement": f"d = {d}, m = {m}, n = {n}: at the largest spread the mean s_m(D) "
                         f"is within {LIMIT_TOL:.0%} of sqrt(n lambda_min(K))",
            "paper": "notes' check: 4.54 against the limit 4.68 (d = 10, m = 100, n = 400)",
            "measured": {"s_min_D": round(float(widest["s_min_D"].mean()), 4),
                         "limit": round(float(widest["limit"].mean()), 4),
                         "ratio": round(ratio, 4)},
            "holds": abs(ratio - 1) <= LIMIT_TOL})
    seeds = sets.groupby(["case", "spread"])["seed"].nunique().min() if len(sets) else 0
    if seeds >= len(PROFILES["paper"]["seeds"]):
        return out  # the paper profile: every claim is expected to hold
    return mark_known_mismatches(out, {k: v for k, v in KNOWN_MISMATCHES.items()
                                       if k in {c["name"] for c in out}})


def plot(runs: pd.DataFrame, traj: pd.DataFrame, directory):
    gd = runs[(runs["method"] == "gd") & (runs.get("model.init") == "gaussian")]
    trained = traj[traj["run_id"].isin(gd["run_id"])].merge(
        gd[["run_id", "objective.diversity", "seed"]], on="run_id")
    return [discrepancy_figure(unit_sets(runs, traj), trained, directory, "discrepancy",
                               f"{REF}: s_m(D) against the L2 discrepancy of the units")]


EXPERIMENT = Experiment(
    name="xie2017-discrepancy",
    summary="s_m(D) of the extended feature matrix vs the units' L2 discrepancy, at "
            "controlled spread and along training",
    paper=f"{REF}, s_m(D) vs discrepancy",
    sweeps={p: (lambda p=p: sweeps(p)) for p in PROFILES},
    plot=plot,
    custom_claims=claims,
    converges=False,
)
