"""Arora, Cohen, Hu, Luo 2019, "Implicit Regularization in Deep Matrix Factorization".

Figures 1 and 2 (completion) and their matrix-sensing versions (appendix). Settings follow the
authors' code: 100x100 ground truth with RMS-1 entries, gaussian init with per-layer std
init_scale^(1/N)/sqrt(n), GroupRMSprop (lr 1e-3), MSE without 1/2, stop at train MSE <= 1e-6,
and the nuclear-norm baseline within 1e-3 of every observation.
"""

import math
from pathlib import Path

import pandas as pd

from overparam.experiments._base import Experiment
from overparam.experiments._claims import ClaimSpec, Selection
from overparam.sweep import SweepConfig
from overparam.viz._arora2019 import error_vs_observations, loss_trajectories, measures_vs_init

REF = "Arora, Cohen, Hu, Luo 2019"
RECOVERED = 1e-3  # error at or below which a method counts as having recovered W*


def _sweep(name: str, kind: str, grid: dict, *, rank: int = 5, seeds=(0,),
           baselines=("nuclear_norm",), max_steps: int = 200_000) -> SweepConfig:
    return SweepConfig(
        name=name,
        problem={"kind": kind, "d1": 100, "d2": 100, "rank": rank, "seed": 0},
        model={"kind": "deep_factorization", "init": "gaussian", "init_scale": 1e-3},
        optimizer={"name": "group_rmsprop", "learning_rate": 1e-3},
        train={"max_steps": max_steps, "log_every": 1000, "stop_loss": 1e-6},
        grid=grid,
        seeds=list(seeds),
        baselines=list(baselines),
    )


# --- completion vs number of observations (Fig. 1) --------------------------------------------

def completion_sweeps(profile: str) -> list[SweepConfig]:
    if profile == "quick":
        return [_sweep("completion-r5", "completion",
                       {"model.depth": [2, 3, 4], "problem.m": [1000, 2000, 3000, 4000, 5000]})]
    return [
        _sweep("completion-r5", "completion",
               {"model.depth": [2, 3, 4], "problem.m": list(range(1000, 5001, 500))},
               seeds=(0, 1, 2)),
        _sweep("completion-r10", "completion",
               {"model.depth": [2, 3, 4], "problem.m": list(range(2000, 8001, 1000))},
               rank=10, seeds=(0, 1, 2)),
    ]


def _at(m: int, rank: int = 5, **where) -> dict:
    return {"problem.m": m, "problem.rank": rank, **where}


GD3 = {"method": "gd", "model.depth": 3, "model.init_scale": 1e-3}


def completion_claims(profile: str) -> list[ClaimSpec]:
    return [
        ClaimSpec(name="deep-recovers-2000",
                  statement="With 2000 observations depth-3 and depth-4 GD recover W* "
                            "(error <= 1e-4)",
                  paper="depth 3/4 ≈ 2.5-4e-5 (Fig. 2 at init 1e-3; 3.7e-5 with the authors' code)",
                  measure="recon_error", stat="max", op="<=", value=1e-4,
                  where=_at(2000, method="gd", **{"model.depth": [3, 4]})),
        ClaimSpec(name="depth2-fails-2000",
                  statement="With 2000 observations depth-2 GD does not recover (error >= 1e-2)",
                  paper="depth 2 ≈ 0.065-0.11 at init 1e-3", measure="recon_error", stat="min",
                  op=">=", value=1e-2, where=_at(2000, method="gd", **{"model.depth": 2})),
        ClaimSpec(name="nuclear-fails-2000",
                  statement="With 2000 observations the min-nuclear-norm solution does not "
                            "recover (error >= 1e-2)",
                  paper="≈ 0.09-0.11", measure="recon_error", stat="min", op=">=", value=1e-2,
                  where=_at(2000, method="nuclear_norm")),
        ClaimSpec(name="nuclear-norm-lower-than-gd",
                  statement="GD (depth 3) does not minimize the nuclear norm: the nuclear-norm "
                            "solution's nuclear norm is lower",
                  paper="210.15 (nuclear-norm solution) vs ≈219.4 (depth 3)",
                  measure="nuclear_norm", stat="max", op="<",
                  where=_at(2000, method="nuclear_norm"),
                  than=Selection(where=_at(2000, **GD3), stat="min")),
        ClaimSpec(name="nuclear-erank-higher-than-gd",
                  statement="...yet its effective rank is higher than depth-3 GD's",
                  paper="≈ 9.5 (nuclear-norm solution) vs ≈ 4.9-5.0 (depth 3)",
                  measure="effective_rank", stat="min", op=">",
                  where=_at(2000, method="nuclear_norm"),
                  than=Selection(where=_at(2000, **GD3), stat="max")),
        ClaimSpec(name="all-recover-5000",
                  statement="With 5000 observations every method recovers W* (error <= 1e-3)",
                  paper="depth 2-4 ≈ 4e-6-9e-5, nuclear norm ≈ 8e-7",
                  measure="recon_error", stat="max", op="<=", value=1e-3,
                  where=_at(5000, method=["gd", "nuclear_norm"])),
    ]


def _recovery_threshold(runs: pd.DataFrame, **where) -> float:
    """Smallest m whose mean error is <= RECOVERED (inf if none)."""
    sel = runs
    for k, v in where.items():
        sel = sel[sel[k] == v]
    errors = sel.groupby("problem.m")["recon_error"].mean()
    ok = errors[errors <= RECOVERED]
    return float(ok.index.min()) if len(ok) else math.inf


def depth_needs_fewer_observations(runs: pd.DataFrame, traj: pd.DataFrame) -> list[dict]:
    """Fig. 1: the number of observations needed to recover shrinks with depth."""
    out = []
    for rank in sorted(runs["problem.rank"].dropna().unique()):
        r = runs[runs["problem.rank"] == rank]
        depths = sorted(r[r["method"] == "gd"]["model.depth"].dropna().unique())
        need = {f"depth {int(d)}": _recovery_threshold(r, method="gd", **{"model.depth": d})
                for d in depths}
        need["nuclear norm"] = _recovery_threshold(r, method="nuclear_norm")
        seq = [need[f"depth {int(d)}"] for d in depths]
        holds = all(a >= b for a, b in zip(seq, seq[1:])) and seq[-1] < need["nuclear norm"]
        out.append({
            "name": f"depth-lowers-sample-complexity-r{int(rank)}",
            "statement": f"Rank {int(rank)}: the smallest m with error <= {RECOVERED:g} does not "
                         "increase with depth, and the deepest GD needs fewer observations "
                         "than the nuclear-norm solution",
            "paper": "Fig. 1: deeper factorizations recover from fewer observations",
            "measured": {k: (None if math.isinf(v) else v) for k, v in need.items()},
            "holds": bool(holds),
        })
    return out


def completion_plot(runs: pd.DataFrame, traj: pd.DataFrame, directory: Path) -> list[Path]:
    return [
        error_vs_observations(runs, directory, "completion",
                              f"{REF}, Fig. 1: matrix completion"),
        loss_trajectories(runs, traj, directory, "trajectories", "training curves"),
    ]


# --- measures vs initialization scale (Fig. 2; sensing appendix) -------------------------------

INIT_SCALES = [1e-6, 1e-5, 1e-4, 1e-3]
# (size, rank, (few, many) observations) per kind and profile. Quick sensing is 50x50 rank 3 with
# the paper's ratios of m to the r(2n - r) degrees of freedom (2000/975 and 5000/975): 100x100
# sensing streams an m x 10^4 operator every step, minutes per run on a 2-core CPU.
SIZES = {
    ("completion", "quick"): (100, 5, (2000, 5000)),
    ("completion", "paper"): (100, 5, (2000, 5000)),
    ("sensing", "quick"): (50, 3, (600, 1500)),
    ("sensing", "paper"): (100, 5, (2000, 5000)),
}

PAPER_INIT = {
    "completion": {
        "depth3": "≈ 2.5-4e-5, flat in init (Fig. 2, m = 2000)",
        "depth2": "2.5e-2 (init 1e-6) -> 1.1e-1 (init 1e-3)",
        "nuclear": "≈ 0.11 vs ≈ 3e-5",
        "nuclear_norm": "≈ 219.4 vs 210.15",
        "erank": "≈ 4.9-5.0 vs ≈ 9.5",
        "erank_truth": "≈ 4.9-5.0 vs truth ≈ 4.9",
        "many": "m = 5000: depth 2 5e-6-9e-5, depth 3 ≈ 4e-6, nuclear norm ≈ 8e-7",
    },
    "sensing": {
        "depth3": "≈ 9e-6 (100x100, m = 2000)",
        "depth2": "5e-4 (init 1e-7) -> 4e-2 (init 1e-3)",
        "nuclear": "≈ 7e-4 vs ≈ 9e-6",
        "nuclear_norm": "≈ 220.3 vs 220.10",
        "erank": "4.9 vs ≈ 5.5",
        "erank_truth": "4.9 vs truth 4.9",
        "many": "m = 5000: depth 2-4 ≈ 3e-6-1.5e-5, nuclear norm ≈ 8.5e-7",
    },
}


def init_sweeps(kind: str):
    def sweeps(profile: str) -> list[SweepConfig]:
        n, rank, ms = SIZES[kind, profile]
        depths = [2, 3] if profile == "quick" else [2, 3, 4]
        seeds = (0,) if profile == "quick" else (0, 1, 2)
        scales = INIT_SCALES if kind == "completion" else [1e-7] + INIT_SCALES
        if profile == "quick" and kind == "sensing":
            scales = [1e-6, 1e-3]
        sweep = _sweep(f"{kind}-init", kind,
                       {"model.depth": depths, "problem.m": list(ms),
                        "model.init_scale": scales},
                       rank=rank, seeds=seeds, baselines=("nuclear_norm", "truth"))
        problem = {**sweep.problem, "d1": n, "d2": n}
        return [sweep.model_copy(update={"problem": problem})]
    return sweeps


def init_claims(kind: str):
    def claims(profile: str) -> list[ClaimSpec]:
        n, rank, (few, many) = SIZES[kind, profile]
        gd3 = {"method": "gd", "model.depth": 3}
        gd2 = {"method": "gd", "model.depth": 2}
        paper = PAPER_INIT[kind]

        def at(m: int, **where) -> dict:
            return {"problem.m": m, "problem.rank": rank, **where}

        return [
            ClaimSpec(name="depth3-recovers-any-init",
                      statement=f"With {few} observations depth-3 GD recovers W* (error <= "
                                "1e-4) at every init scale",
                      paper=paper["depth3"], measure="recon_error", stat="max", op="<=",
                      value=1e-4, where=at(few, **gd3)),
            ClaimSpec(name="depth2-worse-with-larger-init",
                      statement=f"Depth-2 error grows with the init scale ({few} observations)",
                      paper=paper["depth2"], measure="recon_error", stat="mean", op=">",
                      where=at(few, **gd2, **{"model.init_scale": 1e-3}),
                      than=Selection(where=at(few, **gd2, **{"model.init_scale": 1e-6}))),
            ClaimSpec(name="nuclear-worse-than-depth3",
                      statement=f"With {few} observations the nuclear-norm solution's error is "
                                "above depth-3 GD's",
                      paper=paper["nuclear"], measure="recon_error", stat="min", op=">",
                      where=at(few, method="nuclear_norm"),
                      than=Selection(where=at(few, **gd3), stat="max")),
            ClaimSpec(name="gd-nuclear-norm-above-minimum",
                      statement="Depth-3 GD ends with a higher nuclear norm than the minimum",
                      paper=paper["nuclear_norm"], measure="nuclear_norm", stat="min", op=">",
                      where=at(few, **gd3),
                      than=Selection(where=at(few, method="nuclear_norm"), stat="max")),
            ClaimSpec(name="gd-erank-below-nuclear",
                      statement="Depth-3 GD ends with a lower effective rank than the "
                                "nuclear-norm solution",
                      paper=paper["erank"], measure="effective_rank", stat="max", op="<",
                      where=at(few, **gd3),
                      than=Selection(where=at(few, method="nuclear_norm"), stat="min")),
            ClaimSpec(name="gd-erank-near-truth",
                      statement="Depth-3 GD's effective rank is within 10% of the truth's",
                      paper=paper["erank_truth"], measure="effective_rank", stat="max",
                      op="<=", where=at(few, **gd3),
                      than=Selection(where=at(few, method="truth"), scale=1.1)),
            ClaimSpec(name="all-recover-many",
                      statement=f"With {many} observations every method recovers W* "
                                "(error <= 1e-3)",
                      paper=paper["many"], measure="recon_error", stat="max", op="<=",
                      value=1e-3, where=at(many, method=["gd", "nuclear_norm"])),
        ]
    return claims


def init_plot(kind: str):
    def plot(runs, traj, directory):
        where = " (sensing, appendix)" if kind == "sensing" else ""
        n = int(runs["problem.d1"].iloc[0])
        rank = int(runs["problem.rank"].iloc[0])
        return [measures_vs_init(runs, directory, f"{kind}-init",
                                 f"{REF}, Fig. 2{where}: {kind}, {n}x{n}, rank {rank}"),
                loss_trajectories(runs, traj, directory, "trajectories", "training curves")]
    return plot


COMPLETION = Experiment(
    name="arora2019-completion",
    summary="error vs number of observed entries, depths 2/3/4 vs nuclear norm (Fig. 1)",
    paper=f"{REF}, Fig. 1",
    sweeps={p: (lambda p=p: completion_sweeps(p)) for p in ("quick", "paper")},
    plot=completion_plot,
    claims=completion_claims,
    custom_claims=depth_needs_fewer_observations,
)
INIT = Experiment(
    name="arora2019-init",
    summary="error, nuclear norm, effective rank vs init scale at 2000/5000 entries (Fig. 2)",
    paper=f"{REF}, Fig. 2",
    sweeps={p: (lambda p=p: init_sweeps("completion")(p)) for p in ("quick", "paper")},
    plot=init_plot("completion"),
    claims=init_claims("completion"),
)
SENSING = Experiment(
    name="arora2019-sensing",
    summary="Gaussian matrix sensing: Fig. 2's measures vs init scale, few/many measurements "
            "(appendix)",
    paper=f"{REF}, appendix (sensing)",
    sweeps={p: (lambda p=p: init_sweeps("sensing")(p)) for p in ("quick", "paper")},
    plot=init_plot("sensing"),
    claims=init_claims("sensing"),
)
EXPERIMENTS = [COMPLETION, INIT, SENSING]
