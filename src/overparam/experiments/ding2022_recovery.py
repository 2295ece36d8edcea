r"""Ding, Drusvyatskiy, Fazel, Harchaoui 2022, "Flat minima generalize for low-rank matrix
recovery": where flat solutions recover the truth and where they do not.

Flat solutions are computed as in the paper, by their convex relaxations (the ``flat`` solver
kind, :mod:`overparam.solvers.kinds.flat`; no gradient descent), and a solve succeeds when
``||X - M||_F < 1e-6`` for the unit-norm truth (the paper's rule, the ``success`` column).

``ding2022-robust-pca`` (Secs. 6-7): exact recovery where the theorems' conditions hold, and
failure where they do not, for three problems:

- Robust PCA (Thm. 6.x): ``Y = M + S`` with ``M`` rank 2 and ``l`` corruptions per row and
  column; flat = :math:`\min \|X\|_*` s.t. :math:`\|Y - X\|_{1,1} \le \|S\|_{1,1}`. The
  condition is :math:`l \lesssim d / (\mu r)` with an unknown constant, and :math:`\mu` the
  (strong) incoherence of ``M``, which the problem does not control: it is measured here
  (:func:`incoherence`). At d = 20 and 30 the Gaussian truths have :math:`\mu_0 \approx`
  3.7 and 4.1 (row/column spaces) and :math:`\mu \approx` 18 and 22 (with
  :math:`\|UV^T\|_\infty`), so :math:`d / (\mu r)` is 2.7 and 3.6 corruptions per row with
  :math:`\mu_0`, 0.6 and 0.7 with the strong :math:`\mu`: the theory's bound, taken with
  constant 1, is met at l <= 2-3 or not at all. Recovery is claimed where the corruptions
  are few, ``l <= L_RECOVER * d`` (l <= 2 at d = 20, l <= 3 at d = 30), and failure where
  they are many, ``l >= L_FAIL * d``; both fractions are this experiment's choice, read off
  the measured transitions (10 seeds: recovery up to l = 2 at d = 20 and l = 4 at d = 30,
  failure from l = 5 and l = 10), not the paper's.
- Covariance estimation and phase retrieval (the quadratic network with ``r2 = 0``,
  Thm. 1.4/7.x): :math:`y_i = x_i^\top M x_i`, ``M`` PSD of rank ``r`` (2 and 1),
  flat = :math:`\min \|DZD\|_*` s.t. :math:`\mathcal{A}(Z) = y` over symmetric ``Z``. The
  condition is :math:`m \ge C r d` (and :math:`d \gtrsim \log m`, met at these sizes) with an
  unknown ``C``; recovery is claimed at ``m >= M_RECOVER * r * d`` (``C = 3`` covers the
  measured transitions, 10 seeds at d = 20 and 30: 2 r d for covariance, 2.5-3 r d for phase
  retrieval; it is not the paper's). Failure is claimed where recovery is impossible or not
  determined: below the dimension :math:`rd - r(r-1)/2` of the rank-``r`` symmetric
  matrices for covariance estimation (fewer measurements than the tangent space at ``M`` has
  dimensions: the truth is not an isolated solution, so no program recovers it; below ``d``
  the weights ``D`` are singular and there is no flat relaxation at all), and below
  ``2d - 1`` for phase retrieval (fewer than the ``2d - 1`` generic measurements needed to
  determine every real signal up to sign, Balan, Casazza, Edidin 2006: between ``d`` and
  ``2d - 1`` no method is guaranteed to recover a given signal, and the flat one is measured
  to fail).

``ding2022-depth`` (Sec. 9): sparse recovery with a depth-``k`` Hadamard factorization
:math:`x = v_1 \odot \cdots \odot v_k`. Its flattest factorizations minimize
:math:`\sum_j D_{jj} |x_j|^q`, :math:`q = 2(k-1)/k` (the notes' derivation, Sec. 4): weighted
l1 at k = 2, which recovers the 5-sparse truth; strictly convex for k >= 3, whose solutions
are dense and wrong, tending to the minimum-l2-norm interpolant (the ``nuclear_norm`` baseline
of a ``d x 1`` problem) as k grows. The relative error is ``frob_error``, the truth having unit
l2 norm (:func:`~overparam.problems.kinds.sparse_recovery.sparse_truth`), and the nonzeros are
the ``support_size`` measure (entries above 1e-6).

What the paper leaves open is chosen here and stated in the claims: sizes, grids, the rank 2
of the robust-PCA and covariance truths (the rank of Sec. 8's problems), the corruptions'
support (``l`` permutation patterns) and values (N(0, 1)), and the solver (ADMM to relative
residuals 1e-9 in float64). Rates count the solves that finished: a ``max_steps`` solve (the
ADMM stopped short of its tolerance) is counted apart, never as a success or a failure; a
``singular_weights`` one (no relaxation) is a failure.
"""

import json
import math

import numpy as np
import pandas as pd

from overparam.experiments._base import Experiment
from overparam.sweep import SweepConfig

REF = "Ding, Drusvyatskiy, Fazel, Harchaoui 2022"
RANK = 2  # rank of the robust-PCA truth and of the covariance truth (Sec. 8's rank 2)
SUCCESS_RATE, FAILURE_RATE = 0.9, 0.1  # "recovers": >= 9 of 10 solves; "fails": <= 1 of 10
COUNTED = ("converged", "singular_weights")  # statuses that count in a rate (module doc)
NUCLEAR = {"kind": "nuclear_norm", "tol": 0.0, "eps": 1e-9}  # the exact-fit baseline
MEASURES = ["frob_error", "success"]
REPS = {"quick": 3, "paper": 10}

# --- ding2022-robust-pca -----------------------------------------------------------------------

L_RECOVER, L_FAIL = 0.1, 0.3  # claimed: recovery at l <= 0.1 d, failure at l >= 0.3 d
M_RECOVER = 3.0  # claimed: recovery at m >= 3 r d (covariance estimation, phase retrieval)
# corruptions per row/column, per side d. Quick leaves out l = 5 at d = 20, where ADMM
# solves near the transition are slow (thousands of iterations; seed 9 stops at max_steps).
ROBUST_L = {"quick": {20: [1, 2, 3, 4, 6, 8, 10]},
            "paper": {20: [1, 2, 3, 4, 5, 6, 7, 8, 10, 12],
                      30: [1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 15]}}
# name -> (r1, {d: measurement counts}) of the quadratic network with r2 = 0
NETWORK = {
    "quick": {"covariance": (2, {20: [30, 50, 60, 70, 80, 120, 160]}),
              "phase-retrieval": (1, {20: [30, 40, 50, 60, 80]})},
    "paper": {"covariance": (2, {20: [20, 30, 39, 50, 60, 70, 80, 100, 120, 160],
                                 30: [30, 45, 59, 75, 90, 105, 120, 150, 180, 240]}),
              "phase-retrieval": (1, {20: [19, 20, 30, 39, 45, 50, 60, 80, 100],
                                      30: [29, 30, 45, 59, 70, 80, 90, 120, 150]})},
}
NETWORK_BASELINE = {"quick": [], "paper": [NUCLEAR]}


def robust_pca_sweeps(profile: str) -> list[SweepConfig]:
    seeds = list(range(REPS[profile]))
    sweeps = [SweepConfig(
        name=f"robust-pca-d{d}",
        problem={"kind": "robust_pca", "d1": d, "d2": d, "rank": RANK},
        solver={"kind": "flat"},
        grid={"problem.l": ls, "problem.seed": seeds},
        measures=MEASURES,
    ) for d, ls in ROBUST_L[profile].items()]
    for name, (r1, grids) in NETWORK[profile].items():
        sweeps += [SweepConfig(
            name=f"{name}-d{d}",
            problem={"kind": "quadratic_network", "d": d, "r1": r1, "r2": 0},
            solver={"kind": "flat"},
            grid={"problem.m": ms, "problem.seed": seeds},
            baselines=NETWORK_BASELINE[profile],
            measures=MEASURES,
        ) for d, ms in grids.items()]
    return sweeps


def dof(d: int, r: int) -> int:
    """Dimension of the manifold of symmetric ``d x d`` matrices of rank ``r``."""
    return r * d - r * (r - 1) // 2


def network_fail_below(d: int, r: int) -> int:
    """The measurement count below which failure is claimed (module doc): ``2d - 1`` for phase
    retrieval (``r = 1``), the dimension :func:`dof` otherwise."""
    return 2 * d - 1 if r == 1 else dof(d, r)


def incoherence(d1: int, d2: int, rank: int, seed: int) -> tuple[float, float]:
    r"""``(mu_0, mu_inf)`` of the robust-PCA truth of a seed: the smallest :math:`\mu` with
    :math:`\|U\|_{2,\infty}^2 \le \mu r / d_1`, :math:`\|V\|_{2,\infty}^2 \le \mu r / d_2`
    and, for the second, :math:`\|UV^\top\|_\infty^2 \le \mu r / (d_1 d_2)` (Sec. 6's
    strong incoherence)."""
    import jax.numpy as jnp

    from overparam.problems.kinds._unit import unit_truth
    from overparam.problems.kinds.robust_pca import RobustPCAConfig

    cfg = RobustPCAConfig(d1=d1, d2=d2, rank=rank, l=0, seed=seed)
    u, _, vt = np.linalg.svd(np.asarray(unit_truth(cfg, jnp.float32), np.float64))
    u, v = u[:, :rank], vt[:rank].T
    mu0 = max(d1 / rank * float((u ** 2).sum(1).max()), d2 / rank * float((v ** 2).sum(1).max()))
    return mu0, max(mu0, d1 * d2 / rank * float(np.abs(u @ v.T).max()) ** 2)


def rates(runs: pd.DataFrame, x: str) -> pd.DataFrame:
    """Per value of column ``x``: successes, counted solves (:data:`COUNTED`), their rate,
    solves stopped at max_steps, and the median Frobenius error."""
    counted = runs[runs["status"].isin(COUNTED)]
    table = pd.DataFrame({
        "successes": counted.groupby(x)["success"].sum(),
        "n": counted.groupby(x)["success"].size(),
        "max_steps": runs[runs["status"] == "max_steps"].groupby(x).size(),
        "median_error": counted.groupby(x)["frob_error"].median(),
    }).fillna({"successes": 0, "n": 0, "max_steps": 0})
    table["rate"] = table["successes"] / table["n"].where(table["n"] > 0)
    table.index = table.index.astype(int)
    return table.sort_index()


def transition(table: pd.DataFrame) -> float:
    """The smallest grid value from which every larger one (itself included) recovers at
    :data:`SUCCESS_RATE` (inf when the largest does not)."""
    ok = (table["rate"] >= SUCCESS_RATE).to_numpy()
    start = len(ok)
    while start > 0 and ok[start - 1]:
        start -= 1
    return float(table.index[start]) if start < len(ok) else math.inf


def _cells(table: pd.DataFrame) -> dict:
    return {int(v): {"successes": f"{int(t['successes'])}/{int(t['n'])}",
                     "median_frob_error": float(f"{t['median_error']:.3g}"),
                     **({"max_steps": int(t["max_steps"])} if t["max_steps"] else {})}
            for v, t in table.iterrows()}


def _region_claim(name, statement, paper, tables: dict, region, recover: bool,
                  extra: dict) -> dict:
    """Claim that every cell of ``region(key, table)`` (per table) has rate >= SUCCESS_RATE
    (``recover``) or <= FAILURE_RATE; no such cell: does not hold."""
    measured, holds, cells = {}, True, 0
    for key, table in tables.items():
        sub = table[region(key, table.index.to_numpy())]
        cells += len(sub)
        ok = sub["rate"] >= SUCCESS_RATE if recover else sub["rate"] <= FAILURE_RATE
        holds &= bool(ok.all()) and bool(sub["n"].gt(0).all())
        measured[key] = {**extra.get(key, {}), "cells": _cells(sub)}
    return {"name": name, "statement": statement, "paper": paper, "measured": measured,
            "holds": bool(holds and cells > 0)}


def _robust_tables(runs: pd.DataFrame) -> dict:
    flat = runs[(runs["method"] == "flat") & (runs["problem.kind"] == "robust_pca")]
    return {f"d={int(d)}": rates(g, "problem.l") for d, g in flat.groupby("problem.d1")}


def _network_tables(runs: pd.DataFrame, r1: int, method: str = "flat") -> dict:
    net = runs[(runs["method"] == method) & (runs["problem.kind"] == "quadratic_network")]
    net = net[(net["problem.r1"] == r1) & (net["problem.r2"] == 0)]
    return {f"d={int(d)}": rates(g, "problem.m") for d, g in net.groupby("problem.d")}


def _d(key: str) -> int:
    return int(key.split("=")[1])


def robust_pca_incoherence(runs: pd.DataFrame) -> dict:
    """Per side ``d`` of the robust-PCA runs: mean incoherences of their truths and the
    theory's scale d / (mu r) with each."""
    rp = runs[runs["problem.kind"] == "robust_pca"]
    out = {}
    for d, g in rp.groupby("problem.d1"):
        mus = np.array([incoherence(int(d), int(d), int(r), int(s)) for r, s in
                        g[["problem.rank", "problem.seed"]].drop_duplicates().to_numpy()])
        rank = int(g["problem.rank"].iloc[0])
        out[f"d={int(d)}"] = {"mu_0": round(float(mus[:, 0].mean()), 2),
                              "mu_strong": round(float(mus[:, 1].mean()), 2),
                              "d/(mu_0 r)": round(float(d / (mus[:, 0].mean() * rank)), 2),
                              "d/(mu_strong r)": round(float(d / (mus[:, 1].mean() * rank)), 2)}
    return out


def robust_pca_claims(runs: pd.DataFrame, traj: pd.DataFrame) -> list[dict]:
    del traj
    rp = _robust_tables(runs)
    mu = robust_pca_incoherence(runs) if len(rp) else {}
    extra = {k: {**mu.get(k, {}), "measured transition (largest l with all l' <= l at "
                 ">= 9/10)": _last_recovered(t)} for k, t in rp.items()}
    out = [
        _region_claim(
            "robust-pca-recovers-few-corruptions",
            f"Robust PCA, rank-{RANK} d x d truth: with at most {L_RECOVER:g} d corruptions "
            f"per row and column the flat solution recovers M (||X - M||_F < 1e-6) in at "
            f">= {SUCCESS_RATE:.0%} of the solves, at every such l",
            "Thm. 6.x: every flat minimizer recovers M when l ≲ d / (mu r) (constant unknown; "
            "mu_0, mu_strong and d / (mu r) measured for these truths)",
            rp, lambda key, ls: ls <= L_RECOVER * _d(key), True, extra),
        _region_claim(
            "robust-pca-fails-many-corruptions",
            f"Robust PCA: with at least {L_FAIL:g} d corruptions per row and column the flat "
            f"solution recovers in at most {FAILURE_RATE:.0%} of the solves, at every such l",
            "outside l ≲ d / (mu r) Thm. 6.x gives no guarantee (the threshold's constant "
            "is unknown: 0.3 d is this experiment's choice)",
            rp, lambda key, ls: ls >= L_FAIL * _d(key), False, extra),
    ]
    for name, r1, label in (("covariance", 2, "Covariance estimation"),
                            ("phase-retrieval", 1, "Phase retrieval")):
        tables = _network_tables(runs, r1)
        nuclear = _network_tables(runs, r1, "nuclear_norm")
        info = {k: {"r d": r1 * _d(k), "dof r d - r(r-1)/2": dof(_d(k), r1),
                    "fail below": network_fail_below(_d(k), r1),
                    "recover from": M_RECOVER * r1 * _d(k),
                    "measured transition m (every m above at >= 9/10)": transition(t),
                    "in units of r d": round(transition(t) / (r1 * _d(k)), 2),
                    **({"nuclear-norm transition m": transition(nuclear[k])}
                       if k in nuclear else {})}
                for k, t in tables.items()}
        below = ("2d - 1 (real phase retrieval's injectivity count)" if r1 == 1 else
                 "r d - r(r-1)/2 (the dimension of rank-r symmetric matrices)")
        out += [
            _region_claim(
                f"{name}-recovers",
                f"{label} (rank-{r1} PSD truth, m measurements x^T M x): with m >= "
                f"{M_RECOVER:g} r d the flat solution recovers M in >= {SUCCESS_RATE:.0%} of "
                "the solves, at every such m",
                "Thm. 1.4/7.x: flat solutions recover M w.h.p. when m ≳ C (r1 + r2) d and "
                "d ≳ log m (C unknown)",
                tables, lambda key, ms, r1=r1: ms >= M_RECOVER * r1 * _d(key), True, info),
            _region_claim(
                f"{name}-fails-below-{'2d-1' if r1 == 1 else 'dof'}",
                f"{label}: with m below {below} the flat solution recovers in at most "
                f"{FAILURE_RATE:.0%} of the solves, at every such m",
                ("below 2d - 1 not every real signal is determined by its measurements "
                 "(Balan, Casazza, Edidin 2006)" if r1 == 1 else
                 "below the dimension of the rank-r symmetric matrices no program recovers "
                 "M") + "; m < d: D singular, no flat relaxation",
                tables, lambda key, ms, r1=r1: ms < network_fail_below(_d(key), r1), False,
                info),
        ]
    return out


def _last_recovered(table: pd.DataFrame) -> float:
    """The largest l such that every l' <= l recovers at SUCCESS_RATE (0 when l = min fails)."""
    ok = (table["rate"] >= SUCCESS_RATE).to_numpy()
    n = 0
    while n < len(ok) and ok[n]:
        n += 1
    return float(table.index[n - 1]) if n else 0.0


def robust_pca_plot(runs: pd.DataFrame, traj: pd.DataFrame, directory):
    from overparam.viz._ding2022_recovery import Curve, Mark, Panel, success_rates

    del traj
    panels = []
    mu = robust_pca_incoherence(runs)
    rp = _robust_tables(runs)
    if rp:
        curves = [Curve(key, t.index.to_numpy(), t["rate"].to_numpy()) for key, t in rp.items()]
        marks = []
        for key, t in rp.items():
            m = mu[key]
            marks += [Mark(m["d/(mu_strong r)"], f"{key}: d/(mu r), strong mu", (0, (1, 3))),
                      Mark(m["d/(mu_0 r)"], f"{key}: d/(mu_0 r)", ":"),
                      Mark(L_RECOVER * _d(key), f"{key}: {L_RECOVER:g} d (recovery claimed)",
                           "-."),
                      Mark(L_FAIL * _d(key), f"{key}: {L_FAIL:g} d (failure claimed)", "--")]
        panels.append(Panel(f"robust PCA, rank {RANK}", "corruptions l per row/column",
                            curves, marks))
    for name, r1 in (("covariance estimation", 2), ("phase retrieval", 1)):
        tables = _network_tables(runs, r1)
        if not tables:
            continue
        nuclear = _network_tables(runs, r1, "nuclear_norm")
        curves = [Curve(f"flat, {k}", t.index.to_numpy(), t["rate"].to_numpy())
                  for k, t in tables.items()]
        curves += [Curve(f"min nuclear norm, {k}", t.index.to_numpy(), t["rate"].to_numpy(),
                         dashed=True) for k, t in nuclear.items()]
        marks = []
        for key in tables:
            d = _d(key)
            marks += [Mark(r1 * d, f"{key}: r d (C = 1)", ":"),
                      Mark(network_fail_below(d, r1),
                           f"{key}: {'2d - 1' if r1 == 1 else 'dof'}", "-."),
                      Mark(M_RECOVER * r1 * d, f"{key}: {M_RECOVER:g} r d (claimed)", "--")]
        panels.append(Panel(f"{name}, rank {r1}", "measurements m", curves, marks))
    return [success_rates(panels, directory, "recovery",
                          f"{REF}: flat solutions, success ||X - M||_F < 1e-6")]


ROBUST_PCA = Experiment(
    name="ding2022-robust-pca",
    summary="flat solutions recover or fail: robust PCA vs l, covariance/phase retrieval vs m "
            "(Secs. 6-7)",
    paper=f"{REF}, Secs. 6-7 (robust PCA, quadratic network)",
    sweeps={p: (lambda p=p: robust_pca_sweeps(p)) for p in REPS},
    plot=robust_pca_plot,
    custom_claims=robust_pca_claims,
)

# --- ding2022-depth -----------------------------------------------------------------------------

SPARSE = {"kind": "sparse_recovery", "d": 100, "s": 5, "m": 40}
DEPTHS = {"quick": [2, 3, 4, 8], "paper": [2, 3, 4, 5, 6, 8, 16]}
DENSE_ERROR, DENSE_NONZEROS = 0.1, 50  # "dense and wrong": error > 0.1, > 50 nonzeros
RECOVERED_ERROR = 1e-6
# the notes' table (Sec. 4: d = 100, s = 5, m = 40), depth -> (relative error, nonzeros)
NOTES = {2: ("~1e-9", "5"), 3: ("0.26-0.36", "86-93"), 4: ("~0.5", "~96"), 8: ("~0.7", "100")}


def depth_sweeps(profile: str) -> list[SweepConfig]:
    return [SweepConfig(
        name="hadamard-depth",
        problem=dict(SPARSE),
        solver={"kind": "flat"},
        grid={"problem.seed": list(range(REPS[profile])), "solver.depth": DEPTHS[profile]},
        baselines=[NUCLEAR],
        measures=["frob_error", "support_size", "success"],
    )]


def depth_table(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per finished solve: method, depth (inf for the min-l2 baseline), seed, relative
    error (``frob_error``: the truth has unit norm) and nonzeros (``support_size``)."""
    ok = runs[runs["status"] == "converged"]
    depth = np.where(ok["method"] == "flat", ok.get("solver.depth", np.nan), np.inf)
    return pd.DataFrame({"method": ok["method"].to_numpy(), "depth": depth.astype(float),
                         "seed": ok["problem.seed"].to_numpy(),
                         "error": ok["frob_error"].to_numpy(float),
                         "nonzeros": ok["support_size"].to_numpy(float)})


def _summary(t: pd.DataFrame) -> dict:
    return {"runs": len(t),
            "relative error": [float(f"{t['error'].min():.3g}"),
                               float(f"{t['error'].max():.3g}")],
            "median error": float(f"{t['error'].median():.3g}"),
            "nonzeros": [int(t["nonzeros"].min()), int(t["nonzeros"].max())]}


def depth_claims(runs: pd.DataFrame, traj: pd.DataFrame) -> list[dict]:
    del traj
    t = depth_table(runs)
    s = int(runs["problem.s"].iloc[0]) if len(runs) else 0
    flat = t[t["method"] == "flat"]
    two, deep = flat[flat["depth"] == 2], flat[flat["depth"] >= 3]
    l2 = t[t["method"] == "nuclear_norm"]
    by_depth = {f"k={int(k)}": {**_summary(g), **({"notes": dict(zip(
        ("relative error", "nonzeros"), NOTES[int(k)]))} if int(k) in NOTES else {})}
        for k, g in flat.groupby("depth")}
    medians = [float(g["error"].median()) for _, g in flat.groupby("depth")]
    if len(l2):
        by_depth["min l2 norm (k -> inf)"] = _summary(l2)
    statuses = runs["status"].value_counts().to_dict()
    return [
        {"name": "depth-2-recovers",
         "statement": f"d = 100, {s}-sparse, m = 40 Gaussian measurements: the flattest depth-2 "
                      f"Hadamard solution (weighted l1) has relative error < {RECOVERED_ERROR:g} "
                      f"and exactly {s} entries above 1e-6 in every repetition",
         "paper": "Sec. 9 / notes Sec. 4: q = 1 at k = 2, flat solutions recover x* "
                  "(notes: ~1e-9, 5 nonzeros)",
         "measured": {"k=2": by_depth.get("k=2", {}), "statuses": statuses},
         "holds": bool(len(two) and (two["error"] < RECOVERED_ERROR).all()
                       and (two["nonzeros"] == s).all())},
        {"name": "deeper-is-dense-and-wrong",
         "statement": f"At every depth k >= 3 the flattest solution (min sum D_jj |x_j|^q, "
                      f"q = 2(k-1)/k) has relative error > {DENSE_ERROR:g} and more than "
                      f"{DENSE_NONZEROS} of 100 entries above 1e-6 in every repetition",
         "paper": "Sec. 9: 'depth may not bode well for generalization of flat solutions' "
                  "(notes: 0.26-0.36 / 86-93 nonzeros at k = 3, ~0.5 / ~96 at 4, ~0.7 / 100 "
                  "at 8)",
         "measured": {k: v for k, v in by_depth.items() if k != "k=2"},
         "holds": bool(len(deep) and (deep["error"] > DENSE_ERROR).all()
                       and (deep["nonzeros"] > DENSE_NONZEROS).all())},
        {"name": "error-grows-with-depth-to-min-l2",
         "statement": "The median relative error grows with the depth k and stays below that "
                      "of the minimum-l2-norm interpolant, the k -> inf limit (q -> 2)",
         "paper": "notes Sec. 4: as k -> inf flat solutions approach the minimum-l2-norm "
                  "solution",
         "measured": {"median error by depth": {f"k={int(k)}": float(f"{v:.3g}") for k, v in
                                                zip(sorted(flat["depth"].unique()), medians)},
                      "min l2 norm": float(f"{l2['error'].median():.3g}") if len(l2)
                      else None},
         "holds": bool(len(medians) > 1 and len(l2) and np.all(np.diff(medians) > 0)
                       and medians[-1] < l2["error"].median())},
    ]


def flat_vectors(runs: pd.DataFrame) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """The truth and each depth's flat solution for the smallest seed, solved again from the
    stored configs (the runs table keeps measures, not vectors)."""
    from overparam._runtime import dtype_context, full_precision
    from overparam.solvers.kinds.flat import solve_one
    from overparam.sweep import RunConfig
    from overparam.sweep._build import build_problem

    flat = runs[(runs["method"] == "flat") & (runs["status"] == "converged")]
    first = flat[flat["problem.seed"] == flat["problem.seed"].min()]
    truth, vectors = None, {}
    for config in first.sort_values("solver.depth")["config"]:
        run = RunConfig.model_validate(json.loads(config))
        with dtype_context(run.solver.dtype), full_precision():
            problem = build_problem(run.problem, run.solver.dtype)
            x = np.asarray(solve_one(run.solver, problem).x, np.float64).ravel()
            truth = np.asarray(problem.truth, np.float64).ravel()
        vectors[run.solver.depth] = x
    return truth, vectors


def depth_plot(runs: pd.DataFrame, traj: pd.DataFrame, directory):
    from overparam.viz._ding2022_recovery import depth_summary

    del traj
    truth, vectors = flat_vectors(runs)
    seed = int(runs[runs["method"] == "flat"]["problem.seed"].min())
    return [depth_summary(depth_table(runs), truth, vectors, NOTES, directory, "depth",
                          f"{REF}, Sec. 9: flattest depth-k Hadamard solutions, d = 100, "
                          f"s = 5, m = 40", seed)]


DEPTH = Experiment(
    name="ding2022-depth",
    summary="flat depth-k Hadamard sparse recovery: k = 2 recovers, k >= 3 dense and wrong "
            "(Sec. 9)",
    paper=f"{REF}, Sec. 9 (effect of depth)",
    sweeps={p: (lambda p=p: depth_sweeps(p)) for p in REPS},
    plot=depth_plot,
    custom_claims=depth_claims,
)
