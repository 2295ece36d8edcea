"""The flat-by-gradient experiment: its sweeps, the method and cell labels of its rows, known
answers of its claim functions on hand-built tables, and a smoke-size run end to end."""

import json

import numpy as np
import pandas as pd
import pytest

from helpers import all_but, holds
from overparam.experiments import EXPERIMENTS, check_sweep
from overparam.experiments import flat_by_gradient as fbg
from overparam.sweep import expand
from overparam.sweep._grid import flatten

D = fbg.PROFILES["quick"]["d"]


def test_quick_sweeps_cover_every_method_problem_and_cell():
    sweeps = fbg.sweeps("quick")
    assert len(sweeps) == len(fbg.PROBLEMS) * len(fbg.METHODS)
    rows = pd.DataFrame([flatten(r) for s in sweeps for r in expand(s)])
    gd = rows[rows["model.kind"].notna()]
    reps = fbg.PROFILES["quick"]["reps"]
    assert len(gd) == len(fbg.METHODS) * len(fbg.PROBLEMS) * 2 * reps
    gd = gd.assign(method="gd")
    names, cells = fbg.method_of(gd), fbg.cell_of(gd)
    assert set(names) == set(fbg.METHODS) and set(cells) == {fbg.RECOVERS, fbg.FAILS}
    counts = pd.crosstab(names, [gd["problem.kind"], cells])
    assert (counts.to_numpy() == reps).all(), counts
    # baselines once per problem: flat and nuclear norm
    solvers = rows[rows["model.kind"].isna()]
    assert sorted(solvers["solver.kind"].value_counts().to_dict().items()) == [
        ("flat", len(fbg.PROBLEMS) * 2 * reps), ("nuclear_norm", len(fbg.PROBLEMS) * 2 * reps)]
    for s in sweeps:
        check_sweep(s)  # every run builds


def test_paper_profile_is_larger():
    quick = sum(len(expand(s)) for s in fbg.sweeps("quick"))
    paper = sum(len(expand(s)) for s in fbg.sweeps("paper"))
    assert paper >= 5 * quick


def test_measurement_counts_follow_the_degrees_of_freedom():
    assert fbg.dof(fbg.SENSING, 8) == 28 and fbg.dof(fbg.NETWORK, 8) == 21
    assert fbg.problem(fbg.SENSING, 8, fbg.RECOVERS, 0)["m"] == 70
    assert fbg.problem(fbg.NETWORK, 8, fbg.FAILS, 1) == {
        "kind": fbg.NETWORK, "d": 8, "r1": 2, "r2": 1, "m": 21, "seed": 1}
    assert fbg.problem(fbg.COMPLETION, 8, fbg.FAILS, 0)["p"] == 0.4


# --- claim functions on hand-built tables ------------------------------------------------------

CLAIMS = ["sam1-finds-flat", "sam-not-flat", "gd-large-init-not-flat",
          "small-init-flatter-than-large", "lower-trace-lower-error"]


def _row(kind, cell, name, gap, dist, error, trace=None, seed=0, status="max_steps"):
    init, opt, obj = fbg.METHODS[name]
    p = fbg.problem(kind, D, cell, seed)
    return {"run_id": f"{kind}-{cell}-{name}-{seed}", "method": "gd", "status": status,
            "model.init_scale": init, "optimizer.name": opt["name"],
            "objective.kind": obj.get("kind", "squared"),
            **{f"problem.{k}": v for k, v in p.items()},
            "flat_trace_gap": gap, "distance_to_flat": dist, "frob_error": error,
            "hessian_trace": 10 * (1 + gap) if trace is None else trace, "train_loss": 1e-12}


GAPS = {"gd-small": 0.005, "gd-large": 0.4, "trace-penalty": 0.003, "sam": 0.2,
        "sam1": 0.002, "label-noise": 0.004}


def _table(gaps=None, correlated=True, diverged_outlier=False):
    """Two seeds per (problem, cell, method): in the recovery cell each method ends at its
    trace gap of ``gaps`` (distance 1e-3); in the failing cell the error grows with the trace
    (or falls, ``correlated = False``). ``diverged_outlier``: one diverged run per problem,
    huge trace and small error, which the correlation must leave out."""
    gaps = {**GAPS, **(gaps or {})}
    rows = []
    for kind in fbg.PROBLEMS:
        for k, name in enumerate(fbg.METHODS):
            for seed in (0, 1):
                rows.append(_row(kind, fbg.RECOVERS, name, gaps[name], 1e-3, 1e-4, seed=seed))
                trace = 10.0 + k + 0.1 * seed
                error = 0.5 + (0.05 if correlated else -0.05) * (k + 0.1 * seed)
                rows.append(_row(kind, fbg.FAILS, name, trace / 10 - 1, 0.3, error,
                                 trace=trace, seed=seed))
        if diverged_outlier:
            rows.append({**_row(kind, fbg.FAILS, "sam", 1e6, 1e3, 1e-3, trace=1e7, seed=9),
                         "status": "diverged"})
    return pd.DataFrame(rows)


def test_every_claim_holds_on_a_table_built_to_satisfy_them():
    claims = fbg.claims(_table(diverged_outlier=True), pd.DataFrame())
    assert [c["name"] for c in claims] == CLAIMS
    assert holds(claims) == all_but(claims)
    json.dumps(claims)  # the claims file is JSON
    measured = {c["name"]: c["measured"] for c in claims}
    assert measured["lower-trace-lower-error"]["spearman by problem"] == {
        k: 1.0 for k in fbg.PROBLEMS}
    key = f"{fbg.SENSING} {fbg.RECOVERS} gd-large"
    assert measured["gd-large-init-not-flat"]["table"][key]["finds"] == 0.0
    assert measured["sam-not-flat"]["diverged runs"] == {
        f"{k} {fbg.FAILS} sam": 1 for k in sorted(fbg.PROBLEMS)}


@pytest.mark.parametrize("table, failing", [
    (lambda: _table({"sam1": 0.02}), ["sam1-finds-flat"]),
    (lambda: _table({"sam": 0.001}), ["sam-not-flat"]),
    (lambda: _table({"gd-large": 0.001}), ["gd-large-init-not-flat",
                                           "small-init-flatter-than-large"]),
    (lambda: _table({"gd-small": 0.5}), ["small-init-flatter-than-large"]),
    (lambda: _table(correlated=False), ["lower-trace-lower-error"]),
    (lambda: _table()[lambda t: t["problem.kind"] != fbg.NETWORK], CLAIMS),  # one missing
])
def test_each_claim_fails_on_a_table_that_breaks_it(table, failing):
    claims = fbg.claims(table(), pd.DataFrame())
    assert holds(claims) == all_but(claims, *failing)


def test_one_problem_breaking_a_claim_breaks_it():
    t = _table()
    sam1 = (t["name"] if "name" in t else fbg.method_of(t)) == "sam1"
    bad = sam1 & (t["problem.kind"] == fbg.COMPLETION)
    t.loc[bad, "flat_trace_gap"] = 0.05
    assert holds(fbg.claims(t, pd.DataFrame()))["sam1-finds-flat"] is False


def test_the_verdict_needs_both_the_trace_and_the_distance():
    t = pd.DataFrame([_row(fbg.SENSING, fbg.RECOVERS, "gd-small", g, d, 0.0)
                      for g, d in [(0.009, 9e-3), (-0.009, 1e-3), (0.011, 1e-3),
                                   (0.001, 1.1e-2), (np.nan, 1e-3)]])
    assert fbg.verdicts(t)["finds_flat"].tolist() == [True, True, False, False, False]


# --- end to end at a smoke size ----------------------------------------------------------------

def test_smoke_run_end_to_end(tmp_path, monkeypatch):
    monkeypatch.setattr(fbg, "STEPS", 400)
    monkeypatch.setattr(fbg, "ANNEAL_AFTER", 300)
    monkeypatch.setitem(fbg.PROFILES, "quick", {"d": 5, "reps": 1})
    # two methods (one annealed) on two problems: every code path, four compiled programs
    init, opt, obj = fbg.METHODS["sam1"]
    monkeypatch.setattr(fbg, "METHODS", {
        "gd-small": fbg.METHODS["gd-small"],
        "sam1": (init, {**opt, "options": {"anneal_after": 300}}, obj)})
    monkeypatch.setattr(fbg, "PROBLEMS", (fbg.SENSING, fbg.NETWORK))
    from overparam.experiments import reproduce

    result = reproduce("flat-by-gradient", "quick", tmp_path, progress=False)
    runs = pd.read_parquet(tmp_path / "flat-by-gradient" / "runs.parquet")
    gd = runs[runs["method"] == "gd"]
    assert len(gd) == 2 * 2 * 2
    assert gd["distance_to_flat"].notna().all() and gd["flat_trace_gap"].notna().all()
    assert set(runs["method"]) == {"gd", "flat", "nuclear_norm"}
    assert [p.name for p in result.figures] == ["trace-vs-error.png",
                                                "trace-along-training.png"]
    claims = json.loads((tmp_path / "flat-by-gradient" / "claims.json").read_text())["claims"]
    assert [c["name"] for c in claims] == CLAIMS
    assert EXPERIMENTS["flat-by-gradient"].converges is False
