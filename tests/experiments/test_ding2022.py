"""Ding et al. 2022's phase and regularity experiments: known answers for their claim
functions, their sweeps for both profiles, and smoke-size runs of the whole machinery."""

import json

import numpy as np
import pandas as pd
import pytest

from helpers import all_but, holds
from overparam.experiments import check_sweep, ding2022, reproduce
from overparam.experiments.ding2022 import (
    BILINEAR,
    COMPLETION,
    NETWORK,
    SENSING,
    Grid,
)

KINDS = (SENSING, BILINEAR, COMPLETION, NETWORK)


def _row(kind, method, d, x, seed, success, status="converged", **extra):
    """One solve's row, with the columns a real store has for that problem kind."""
    row = {"run_id": f"{kind}-{method}-{d}-{x}-{seed}", "method": method, "status": status,
           "problem.kind": kind, "problem.seed": seed, "success": float(success), **extra}
    if kind == NETWORK:
        row.update({"problem.d": d, "problem.m": x})
    else:
        row.update({"problem.d1": d, "problem.d2": d})
        row["problem.p" if kind == COMPLETION else "problem.m"] = x
    return row


XS = {SENSING: (20, 40, 60), BILINEAR: (20, 40, 60), NETWORK: (15, 30, 45),
      COMPLETION: (0.3, 0.6, 0.9)}
# successes out of 3 per (d, x index): a transition from 0 to 3 at both sizes
COUNTS = {6: (0, 2, 3), 10: (0, 1, 3)}


def _phase_runs(counts=None, reps=3):
    """Both methods succeed ``counts[(kind, method)][d][i]`` of ``reps`` times at the i-th x
    (default :data:`COUNTS` for every kind and method)."""
    counts = counts or {}
    rows = []
    for kind in KINDS:
        for method in ("flat", "nuclear_norm"):
            table = counts.get((kind, method), COUNTS)
            for d, per_x in table.items():
                for x, k in zip(XS[kind], per_x):
                    for s in range(reps):
                        rows.append(_row(kind, method, d, x, s, s < k))
    return pd.DataFrame(rows)


def test_largest_drop_known_answers():
    assert ding2022._largest_drop(np.array([0.0, 0.5, 1.0])) == 0.0
    assert ding2022._largest_drop(np.array([0.0, 1.0, 0.6, 0.8])) == pytest.approx(0.4)
    # from the running maximum, not only from the previous entry
    assert ding2022._largest_drop(np.array([0.9, 0.7, 0.5])) == pytest.approx(0.4)
    assert ding2022._largest_drop(np.array([1.0])) == 0.0


def test_cells_count_rates_singular_and_capped_solves():
    runs = pd.DataFrame([
        _row(COMPLETION, "flat", 6, 0.2, 0, 0, "singular_weights"),
        _row(COMPLETION, "flat", 6, 0.2, 1, 1),
        _row(COMPLETION, "flat", 6, 0.2, 2, 0, "max_steps"),
        _row(NETWORK, "nuclear_norm", 8, 30, 0, 1)])
    c = ding2022.cells(runs).set_index(["kind", "method"])
    comp = c.loc[(COMPLETION, "flat")]
    assert (comp["d"], comp["x"], comp["n"], comp["singular"], comp["max_steps"]) == (
        6, 0.2, 3, 1, 1)
    assert comp["rate"] == pytest.approx(1 / 3)
    net = c.loc[(NETWORK, "nuclear_norm")]
    assert (net["d"], net["x"], net["rate"]) == (8, 30.0, 1.0)


def test_phase_claims_hold_on_the_expected_picture():
    claims = ding2022.phase_claims(_phase_runs(), pd.DataFrame())
    assert len(claims) == 9 and all(holds(claims).values()), claims
    match = claims[0]["measured"]
    assert (match["cells"], match["cells within"], match["fraction"]) == (24, 24, 1.0)


def test_match_claim_counts_differences_of_exactly_0_2_and_needs_90_percent():
    # 10 reps: flat 2 successes fewer (0.2) at one sensing cell still matches
    base = {d: (0, 5, 10) for d in (6, 10)}
    counts = {(k, m): base for k in KINDS for m in ("flat", "nuclear_norm")}
    counts[(SENSING, "flat")] = {6: (0, 3, 10), 10: (0, 5, 10)}
    claims = ding2022.phase_claims(_phase_runs(counts, reps=10), pd.DataFrame())
    assert holds(claims)["flat-matches-nuclear"]
    # 3 of 24 cells off by 0.3: 87.5 % < 90 %
    counts[(SENSING, "flat")] = {6: (0, 2, 10), 10: (0, 2, 10)}
    counts[(BILINEAR, "flat")] = {6: (0, 2, 10), 10: (0, 5, 10)}
    claims = ding2022.phase_claims(_phase_runs(counts, reps=10), pd.DataFrame())
    assert holds(claims) == all_but(claims, "flat-matches-nuclear")
    assert claims[0]["measured"]["fraction"] == pytest.approx(21 / 24, abs=1e-4)
    assert "gaussian_sensing d=6 m=40" in claims[0]["measured"]["worst cells (flat, nuclear)"]


@pytest.mark.parametrize("counts, failing", [
    # flat never fails on completion: a trivial map (and now 4 of 24 cells off nuclear's)
    ({(COMPLETION, "flat"): {6: (3, 3, 3), 10: (3, 3, 3)}},
     ["nontrivial-bernoulli_completion", "flat-matches-nuclear"]),
    # the nuclear norm never fully recovers the network (2 cells off flat's: 22/24 match)
    ({(NETWORK, "nuclear_norm"): {6: (0, 2, 2), 10: (0, 1, 2)}}, ["nontrivial-quadratic_network"]),
    # a drop of 2 of 3 (> max(0.2, 1/3)) along m for bilinear flat, rates otherwise kept
    ({(BILINEAR, "flat"): {6: (0, 3, 1), 10: (0, 1, 3)}}, ["monotone-bilinear_sensing"]),
])
def test_phase_claims_fail_when_their_quantity_changes(counts, failing):
    claims = ding2022.phase_claims(_phase_runs(counts), pd.DataFrame())
    assert holds(claims) == all_but(claims, *failing)


def test_monotone_claim_allows_one_repetition_of_noise():
    # a drop of 1 of 3 solves is within max(0.2, 1/3)
    counts = {(SENSING, "nuclear_norm"): {6: (0, 3, 2), 10: (0, 1, 3)}}
    claims = ding2022.phase_claims(_phase_runs(counts), pd.DataFrame())
    assert holds(claims)["monotone-gaussian_sensing"]


def _regularity_runs(**changes):
    """Exact flat solves with gaps 1e-3 / 1e-2, residual 1e-9 and kappa 1.2 (bounds: norm_gap
    <= 0.44, balance_gap <= 0.3056), one failed solve and one singular-weights solve with bad
    gaps (ignored); ``changes[(kind, seed)]`` updates a row."""
    rows = []
    for kind in (SENSING, BILINEAR, COMPLETION):
        x = 0.8 if kind == COMPLETION else 40
        for seed in range(3):
            extra = {"norm_gap": 1e-3, "balance_gap": 1e-2, "solver_primal_residual": 1e-9,
                     "solver_dual_residual": 5e-10, "flat_weights_condition": 1.2}
            extra.update(changes.get(f"{kind}-{seed}", {}))
            rows.append(_row(kind, "flat", 8, x, seed, extra.pop("success", 1), **extra))
        rows.append(_row(kind, "flat", 8, x, 3, 0, norm_gap=0.5, balance_gap=0.5,
                         solver_primal_residual=1e-9, solver_dual_residual=1e-9))
        rows.append(_row(kind, "flat", 6, x, 0, 0, "singular_weights", norm_gap=np.nan,
                         balance_gap=np.nan))
    return pd.DataFrame(rows)


def test_regularity_claims_hold_on_the_expected_picture():
    claims = ding2022.regularity_claims(_regularity_runs(), pd.DataFrame())
    assert [c["name"] for c in claims] == [f"small-not-zero-{k}"
                                           for k in (SENSING, BILINEAR, COMPLETION)]
    assert all(holds(claims).values()), claims
    m = claims[0]["measured"]
    assert (m["exact solves"], m["cells"], m["violations"]) == (3, 1, 0)
    assert m["smallest gap / residual"] == pytest.approx(1e6)
    assert m["largest gap / its bound"] == pytest.approx(1e-2 / (1 - 1.2**-2), rel=1e-2)
    assert m["fraction with both gaps below 0.1"] == 1.0


def test_regularity_claims_hold_above_0_1_within_the_kappa_bounds():
    # balance 0.3 <= 1 - 1.2^-2 = 0.3056 and norm 0.43 <= 1.2^2 - 1 = 0.44: within Thm 3.3
    claims = ding2022.regularity_claims(
        _regularity_runs(**{f"{SENSING}-0": {"balance_gap": 0.3, "norm_gap": 0.43}}),
        pd.DataFrame())
    assert all(holds(claims).values()), claims
    assert claims[0]["measured"]["fraction with both gaps below 0.1"] == pytest.approx(2 / 3,
                                                                                     abs=1e-4)


@pytest.mark.parametrize("change, failing", [
    ({f"{SENSING}-1": {"balance_gap": 0.31}}, SENSING),  # above 1 - kappa^-2 = 0.3056
    ({f"{SENSING}-2": {"norm_gap": 0.45}}, SENSING),  # above kappa^2 - 1 = 0.44
    ({f"{BILINEAR}-0": {"flat_weights_condition": np.nan}}, BILINEAR),  # no kappa: no bound
    ({f"{BILINEAR}-2": {"norm_gap": 1e-8, "solver_dual_residual": 1e-9}}, BILINEAR),  # < 10x
    ({f"{COMPLETION}-0": {"norm_gap": 0.0}}, COMPLETION),  # zero: flat = norm-minimal
    # no exact solve left: no evidence
    ({f"{COMPLETION}-{s}": {"success": 0} for s in range(3)}, COMPLETION),
])
def test_regularity_claims_fail_when_their_quantity_changes(change, failing):
    claims = ding2022.regularity_claims(_regularity_runs(**change), pd.DataFrame())
    assert holds(claims) == all_but(claims, f"small-not-zero-{failing}")


@pytest.mark.parametrize("profile", ["quick", "paper"])
def test_sweeps_validate_and_follow_the_grid(profile):
    for sweeps, (grids, reps), baselines in (
            (ding2022.phase_sweeps, ding2022.PHASE_GRIDS[profile], 1),
            (ding2022.regularity_sweeps, ding2022.REGULARITY_GRIDS[profile], 0)):
        runs = [r for s in sweeps(profile) for r in check_sweep(s)]
        cells = sum(len(g.ds) * len(g.xs) for g in grids.values())
        assert len(runs) == cells * reps * (1 + baselines)
        for r in runs:
            p = r.problem
            assert r.solver.dtype == "float64"
            if r.solver.kind == "nuclear_norm":
                assert (r.solver.tol, r.solver.eps, r.solver.max_iters) == (0.0, 1e-9, 50_000)
            if p.kind == NETWORK:
                assert (p.r1, p.r2) == (2, 1)
                d = p.d
            else:
                assert p.d1 == p.d2 and p.rank == 2
                d = p.d1
            assert d in grids[p.kind].ds
            if p.kind != COMPLETION:
                assert p.m in {ding2022.measurements(p.kind, d, f) for f in grids[p.kind].xs}
        seeds = {r.problem.seed for r in runs}
        assert seeds == set(range(reps))


def test_measurement_counts_follow_the_degrees_of_freedom():
    assert ding2022.dof(10) == 36 and ding2022.symmetric_dof(10) == 27
    assert ding2022.measurements(SENSING, 10, 1.5) == 54
    assert ding2022.measurements(NETWORK, 10, 2.0) == 54
    assert ding2022.measurements(BILINEAR, 6, 0.01) == 1


def test_plots_draw_synthetic_tables(tmp_path):
    runs = _phase_runs()
    runs.loc[0, "status"] = "singular_weights"
    runs.loc[1, "status"] = "max_steps"
    [phase] = ding2022.phase_plot(runs, pd.DataFrame(), tmp_path)
    [reg] = ding2022.regularity_plot(_regularity_runs(), pd.DataFrame(), tmp_path)
    assert phase.is_file() and reg.is_file()


TINY_PHASE = ({SENSING: Grid((4,), (3.0,)), COMPLETION: Grid((4,), (0.3, 1.0))}, 2)
TINY_REGULARITY = ({SENSING: Grid((4,), (3.0,)), COMPLETION: Grid((5,), (0.9,))}, 1)


def test_phase_machinery_end_to_end(tmp_path, monkeypatch):
    monkeypatch.setitem(ding2022.PHASE_GRIDS, "quick", TINY_PHASE)
    result = reproduce("ding2022-phase", "quick", tmp_path, progress=False)
    assert len(result.runs) == 3 * 2 * 2 and result.ran == len(result.runs)
    runs = result.runs
    assert set(runs["status"]) <= {"converged", "max_steps", "singular_weights",
                                   "certified_failure"}
    certified = runs[runs["status"] == "certified_failure"]
    assert (certified["success"] == 0).all() and (certified["frob_error"] > 1e-5).all()
    c = ding2022.cells(result.runs)
    # m = 36 > 16 entries and p = 1 (every entry seen) always recover
    assert (c[c["x"].isin([36.0, 1.0])]["rate"] == 1).all() and len(c) == 6
    claims = json.loads((tmp_path / "ding2022-phase" / "claims.json").read_text())["claims"]
    assert [c["name"] for c in claims] == [c["name"] for c in result.claims]
    assert len(claims) == 5 and result.figures[0].is_file()


def test_regularity_machinery_end_to_end(tmp_path, monkeypatch):
    monkeypatch.setitem(ding2022.REGULARITY_GRIDS, "quick", TINY_REGULARITY)
    result = reproduce("ding2022-regularity", "quick", tmp_path, progress=False)
    assert len(result.runs) == 2 and set(result.runs["method"]) == {"flat"}
    exact = ding2022.exact_flat(result.runs)
    assert len(exact) and (exact["norm_gap"] >= 0).all() and (exact["balance_gap"] >= 0).all()
    assert [c["name"] for c in result.claims] == [f"small-not-zero-{k}"
                                                  for k in (SENSING, COMPLETION)]
    assert result.figures[0].is_file()
