"""The flat-by-depth experiment: its sweeps, known answers of its claim functions on
hand-built tables, and a smoke-size run end to end."""

import json

import pandas as pd
import pytest

from helpers import all_but, holds
from overparam.experiments import check_sweep
from overparam.experiments import flat_by_depth as fbd
from overparam.sweep import expand

CLAIMS = ["depth3-beats-convex", "depth2-not-beyond-convex", "depth3-fewer-measurements"]


def test_quick_sweeps_cover_both_depths_and_baselines():
    sweeps = fbd.sweeps("quick")
    runs = [r for s in sweeps for r in expand(s)]
    grids, reps = fbd.GRIDS["quick"]
    cells = sum(len(g.ds) * len(g.xs) for g in grids.values()) * reps
    arora_quick = [r for s in fbd.arora_sweeps("quick") for r in expand(s)]
    assert {(r.problem.kind, r.problem.m, r.problem.d1) for r in arora_quick} == {
        ("completion", 2000, 100)}
    assert all(r in runs for r in arora_quick)
    runs = [r for r in runs if r not in arora_quick]
    gd = [r for r in runs if r.method == "gd"]
    assert len(gd) == 3 * cells and {r.model.depth for r in gd} == {2, 3, 4}
    assert sorted(r.method for r in runs if r.method != "gd") == (
        ["flat"] * cells + ["nuclear_norm"] * cells)
    assert all(not getattr(r.solver, "certify_failure", False) for r in runs if r.solver)
    assert {r.model.init_scale for r in gd} == {fbd.INIT}
    for s in sweeps:
        check_sweep(s)
    paper = fbd.sweeps("paper")
    assert sum(len(expand(s)) for s in paper) >= 10 * len(runs)
    arora = [r for s in fbd.arora_sweeps() for r in expand(s)]
    assert {(r.problem.kind, r.problem.m) for r in arora} == {
        ("completion", m) for m in (1000, 2000, 5000)} | {("sensing", m) for m in (2000, 5000)}
    assert {r.model.depth for r in arora if r.method == "gd"} == {2, 3, 4}
    assert all(r in [x for s in paper for x in expand(s)] for r in arora[:3])


def _runs(rates):
    """Rows of two problems (d = 6 and 10, two grid values each, 4 repetitions): ``rates``
    maps (method, kind, d, x index) -> the share of successes; default 0."""
    rows = []
    grids = {fbd.SENSING: (0.75, 2.5), fbd.COMPLETION: (0.3, 0.9)}
    for kind, xs in grids.items():
        for d in (6, 10):
            for i, x in enumerate(xs):
                table = fbd.ding.problem(kind, d, x, 0)
                for method in ("flat", "nuclear_norm", "gd-depth2", "gd-depth3"):
                    rate = rates.get((method, kind, d, i), 0.0)
                    for s in range(4):
                        gd = method.startswith("gd")
                        rows.append({
                            "method": "gd" if gd else method,
                            "model.depth": int(method[-1]) if gd else float("nan"),
                            "problem.kind": kind, "problem.d1": d,
                            "problem.m": table.get("m", float("nan")),
                            "problem.p": table.get("p", float("nan")),
                            "status": "converged", "frob_error": 1e-5 if s < 4 * rate else 0.3,
                            "distance_to_flat": 0.1, "hessian_trace": 3.0,
                            "train_loss": 1e-12})
    return pd.DataFrame(rows)


def _good():
    """Depth 3 recovers at both grid values, the relaxations only at the larger, depth 2
    like them."""
    rates = {}
    for kind in (fbd.SENSING, fbd.COMPLETION):
        for d in (6, 10):
            rates[("gd-depth3", kind, d, 0)] = 1.0
            for m in ("flat", "nuclear_norm", "gd-depth2", "gd-depth3"):
                rates[(m, kind, d, 1)] = 1.0
            rates[("gd-depth2", kind, d, 0)] = 0.25
    return rates


def test_every_claim_holds_on_a_table_built_to_satisfy_them():
    claims = fbd.claims(_runs(_good()), pd.DataFrame())
    assert [c["name"] for c in claims] == CLAIMS
    assert holds(claims) == all_but(claims)
    json.dumps(claims)
    lead = claims[0]["measured"]["largest lead over both relaxations, by problem"]
    assert lead == {fbd.COMPLETION: 1.0, fbd.SENSING: 1.0}


def _without(rates, *keys):
    return {k: v for k, v in rates.items() if k not in keys}


@pytest.mark.parametrize("rates, failing", [
    # depth 3 no better than the relaxations on completion at d = 10 and 6
    (lambda g: _without(g, ("gd-depth3", fbd.COMPLETION, 6, 0),
                        ("gd-depth3", fbd.COMPLETION, 10, 0)),
     ["depth3-beats-convex"]),
    # depth 3 needs more measurements than the flat relaxation at one size
    (lambda g: {**g, ("flat", fbd.SENSING, 6, 0): 1.0, ("gd-depth3", fbd.SENSING, 6, 0): 0.25},
     ["depth3-fewer-measurements"]),
    # depth 2 beats them somewhere
    (lambda g: {**g, ("gd-depth2", fbd.SENSING, 10, 0): 1.0}, ["depth2-not-beyond-convex"]),
    # depth 3 never reaches 0.5 at one size
    (lambda g: {**_without(g, ("gd-depth3", fbd.SENSING, 10, 0)),
                ("gd-depth3", fbd.SENSING, 10, 1): 0.25},
     ["depth3-fewer-measurements"]),
])
def test_each_claim_fails_on_a_table_that_breaks_it(rates, failing):
    claims = fbd.claims(_runs(rates(_good())), pd.DataFrame())
    assert holds(claims) == all_but(claims, *failing)


def test_success_is_the_experiment_threshold_for_every_method():
    runs = _runs(_good()).assign(frob_error=[5e-4, 2e-3] * (len(_runs({})) // 2))
    lab = fbd.labelled(runs)
    assert lab["success"].tolist()[:2] == [1.0, 0.0]
    assert set(lab["method"]) == {"flat", "nuclear_norm", "gd-depth2", "gd-depth3"}


def test_the_2019_table_reports_each_method_and_leaves_the_phase_maps_alone():
    phase = _runs(_good())
    rows = [{"method": m, "model.depth": dep, "problem.kind": "completion", "problem.d1": 100,
             "problem.m": 2000, "problem.p": float("nan"), "status": st, "frob_error": 1.0,
             "recon_error": err, "hessian_trace": tr, "flat_trace_gap": gap,
             "distance_to_flat": 0.2, "effective_rank": 5.0, "train_loss": 1e-7}
            for m, dep, st, err, tr, gap in [
                ("gd", 2, "converged", 6e-2, 10.0, 0.1), ("gd", 3, "converged", 1e-5, 12.0, 0.3),
                ("gd", 3, "max_steps", 3e-5, 14.0, 0.5), ("flat", float("nan"), "converged",
                                                          0.5, 9.0, 0.0)]]
    runs = pd.concat([phase, pd.DataFrame(rows)], ignore_index=True)
    table = fbd.arora_table(runs)
    assert set(table) == {"completion m=2000"}
    t = table["completion m=2000"]
    assert set(t) == {"gd-depth2", "gd-depth3", "flat"}
    assert t["gd-depth3"]["hessian_trace"] == 13.0 and t["gd-depth3"]["recon_error"] == 2e-5
    assert t["gd-depth2"]["flat_trace_gap"] == 0.1 and t["flat"]["status"] == "converged"
    # the 2019 rows change neither the maps nor the claims on them
    assert fbd.cells(runs).equals(fbd.cells(phase))
    with_2019, without = fbd.claims(runs, pd.DataFrame()), fbd.claims(phase, pd.DataFrame())
    assert holds(with_2019) == holds(without)
    key = "2019 problems (100 x 100, rank 5, GD from init 1e-3)"
    assert with_2019[0]["measured"][key] == table and key not in without[0]["measured"]
    assert fbd.arora_table(phase) == {}


def test_smoke_run_end_to_end(tmp_path, monkeypatch):
    from overparam.experiments import reproduce

    monkeypatch.setattr(fbd, "MAX_STEPS", 300)
    monkeypatch.setattr(fbd, "ARORA_SIZE", 6)
    monkeypatch.setattr(fbd, "ARORA_RANK", 2)
    monkeypatch.setattr(fbd, "ARORA_STEPS", 300)
    monkeypatch.setitem(fbd.ARORA, "quick", {"completion": (24,)})
    monkeypatch.setitem(fbd.GRIDS, "quick", ({
        fbd.SENSING: fbd.ding.Grid((5,), (2.5,)), fbd.COMPLETION: fbd.ding.Grid((5,), (0.9,))},
        1))
    result = reproduce("flat-by-depth", "quick", tmp_path, progress=False)
    runs = pd.read_parquet(tmp_path / "flat-by-depth" / "runs.parquet")
    assert sorted(runs["method"].value_counts().items()) == [
        ("flat", 3), ("gd", 9), ("nuclear_norm", 3)]
    assert runs.loc[runs["method"] == "gd", "distance_to_flat"].notna().all()
    assert [p.name for p in result.figures] == ["depth-phase.png"]
    claims = json.loads((tmp_path / "flat-by-depth" / "claims.json").read_text())["claims"]
    assert [c["name"] for c in claims] == CLAIMS
    table = claims[0]["measured"]["2019 problems (100 x 100, rank 5, GD from init 1e-3)"]
    assert set(table["completion m=24"]) == {"flat", "nuclear_norm", "gd-depth2", "gd-depth3",
                                             "gd-depth4"}
    assert all(v["hessian_trace"] > 0 for v in table["completion m=24"].values())
