"""Ding et al. 2022's recovery experiments: known answers of their claim functions on
hand-built tables, their sweeps at both profiles, and a smoke-size run of each end to end."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from helpers import all_but, holds
from overparam.experiments import EXPERIMENTS, check_sweep, reproduce
from overparam.experiments import ding2022_recovery as dr

# --- small helpers ------------------------------------------------------------------------------

def test_degrees_of_freedom_and_failure_counts():
    assert dr.dof(20, 2) == 39  # 2 * 20 - 1
    assert dr.dof(30, 3) == 87  # 3 * 30 - 3
    assert dr.dof(20, 1) == 20
    assert dr.network_fail_below(20, 1) == 39  # phase retrieval: 2d - 1
    assert dr.network_fail_below(20, 2) == 39  # covariance: the dof
    assert dr.network_fail_below(30, 2) == 59


def _rate_runs(values, successes, statuses=None):
    statuses = statuses or ["converged"] * len(values)
    return pd.DataFrame({"x": values, "success": successes, "status": statuses,
                         "frob_error": [1e-9 if s else 0.5 for s in successes]})


def test_rates_count_max_steps_apart_and_singular_weights_as_failures():
    runs = _rate_runs([1, 1, 1, 2, 2, 2], [1, 1, 0, 0, 0, 0],
                      ["converged", "converged", "max_steps", "converged", "singular_weights",
                       "max_steps"])
    t = dr.rates(runs, "x")
    assert t.loc[1, "rate"] == 1.0 and t.loc[1, "n"] == 2 and t.loc[1, "max_steps"] == 1
    assert t.loc[2, "rate"] == 0.0 and t.loc[2, "n"] == 2 and t.loc[2, "max_steps"] == 1
    only_stopped = dr.rates(_rate_runs([3], [0], ["max_steps"]), "x")
    assert only_stopped.loc[3, "n"] == 0 and math.isnan(only_stopped.loc[3, "rate"])


def test_transition_and_last_recovered():
    t = dr.rates(_rate_runs([10, 20, 30, 40, 40], [1, 0, 1, 1, 1]), "x")
    assert dr.transition(t) == 30.0  # 10 recovers, but 20 does not
    assert dr.transition(dr.rates(_rate_runs([10, 20], [1, 0]), "x")) == math.inf
    t = dr.rates(_rate_runs([1, 2, 3, 4], [1, 1, 0, 1]), "x")
    assert dr._last_recovered(t) == 2.0  # 4 recovers, but 3 does not
    assert dr._last_recovered(dr.rates(_rate_runs([1, 2], [0, 1]), "x")) == 0.0


def test_incoherence_is_within_its_bounds():
    d, r = 20, 2
    for seed in range(3):
        mu0, mu_strong = dr.incoherence(d, d, r, seed)
        assert 1.0 <= mu0 <= d / r  # ||U||_{2,inf}^2 between r/d and 1
        assert mu0 <= mu_strong <= d * d / r  # |UV^T|_inf <= 1
    assert dr.incoherence(d, d, r, 0) == dr.incoherence(d, d, r, 0)


def test_sparse_truth_has_unit_norm():
    # the depth experiment reads frob_error as the relative error
    import jax.numpy as jnp

    from overparam.problems.kinds.sparse_recovery import sparse_truth

    for seed in range(3):
        x = np.asarray(sparse_truth(seed, 100, 5, jnp.float32), np.float64)
        assert np.linalg.norm(x) == pytest.approx(1.0, rel=1e-6)
        assert np.count_nonzero(x) == 5


# --- ding2022-robust-pca claims -----------------------------------------------------------------

D_RP = 20
RP_SUCCESS = {1: 3, 2: 3, 3: 2, 6: 0, 8: 0}  # l -> successes of 3
COV_SUCCESS = {30: 0, 60: 0, 80: 3, 120: 3}  # m -> successes of 3 (r = 2, d = 20)
PR_SUCCESS = {30: 0, 40: 1, 60: 3, 80: 3}  # m -> successes of 3 (r = 1, d = 20)


def _robust_runs(rp=None, cov=None, pr=None, status=None) -> pd.DataFrame:
    """Flat rows of 3 seeds per cell (the first ``successes`` succeed): robust PCA at d = 20
    over l, covariance (r1 = 2) and phase retrieval (r1 = 1) at d = 20 over m; ``status`` maps
    (problem "rp" / "cov" / "pr", value, seed) to a status other than converged."""
    status = status or {}
    rows = []
    problems = {
        "rp": (RP_SUCCESS if rp is None else rp, "problem.l",
               {"problem.kind": "robust_pca", "problem.d1": D_RP, "problem.d2": D_RP,
                "problem.rank": 2}),
        "cov": (COV_SUCCESS if cov is None else cov, "problem.m",
                {"problem.kind": "quadratic_network", "problem.d": 20, "problem.r1": 2,
                 "problem.r2": 0}),
        "pr": (PR_SUCCESS if pr is None else pr, "problem.m",
               {"problem.kind": "quadratic_network", "problem.d": 20, "problem.r1": 1,
                "problem.r2": 0}),
    }
    for name, (table, column, fixed) in problems.items():
        for value, successes in table.items():
            for seed in range(3):
                ok = seed < successes
                rows.append({"method": "flat", **fixed, column: value, "problem.seed": seed,
                             "status": status.get((name, value, seed), "converged"),
                             "success": float(ok), "frob_error": 1e-9 if ok else 0.3})
    return pd.DataFrame(rows)


def test_robust_pca_claims_hold_on_the_reference_table():
    claims = dr.robust_pca_claims(_robust_runs(), pd.DataFrame())
    assert len(claims) == 6
    assert all(holds(claims).values()), json.dumps(claims, indent=1, default=str)
    by_name = {c["name"]: c["measured"] for c in claims}
    few = by_name["robust-pca-recovers-few-corruptions"]["d=20"]
    assert set(few["cells"]) == {1, 2}  # l <= 0.1 d
    assert few["measured transition (largest l with all l' <= l at >= 9/10)"] == 2.0
    assert few["mu_strong"] >= few["mu_0"] >= 1.0
    assert set(by_name["robust-pca-fails-many-corruptions"]["d=20"]["cells"]) == {6, 8}
    cov = by_name["covariance-recovers"]["d=20"]
    assert set(cov["cells"]) == {120} and cov["measured transition m (every m above at "
                                              ">= 9/10)"] == 80.0
    assert cov["in units of r d"] == 2.0
    assert set(by_name["covariance-fails-below-dof"]["d=20"]["cells"]) == {30}  # < 39
    assert set(by_name["phase-retrieval-recovers"]["d=20"]["cells"]) == {60, 80}
    assert set(by_name["phase-retrieval-fails-below-2d-1"]["d=20"]["cells"]) == {30}


@pytest.mark.parametrize("change, failing", [
    ({"rp": {**RP_SUCCESS, 2: 2}}, "robust-pca-recovers-few-corruptions"),
    ({"rp": {**RP_SUCCESS, 8: 1}}, "robust-pca-fails-many-corruptions"),
    ({"cov": {**COV_SUCCESS, 120: 2}}, "covariance-recovers"),
    ({"cov": {**COV_SUCCESS, 30: 1}}, "covariance-fails-below-dof"),
    ({"pr": {**PR_SUCCESS, 80: 2}}, "phase-retrieval-recovers"),
    ({"pr": {**PR_SUCCESS, 30: 1}}, "phase-retrieval-fails-below-2d-1"),
    # no cell in a claim's region: it does not hold
    ({"rp": {3: 2, 6: 0}}, "robust-pca-recovers-few-corruptions"),
    ({"pr": {60: 3, 80: 3}}, "phase-retrieval-fails-below-2d-1"),
])
def test_robust_pca_claims_fail_one_at_a_time(change, failing):
    claims = dr.robust_pca_claims(_robust_runs(**change), pd.DataFrame())
    assert holds(claims) == all_but(claims, failing)


def test_robust_pca_rates_skip_max_steps_and_count_singular_weights():
    # a max_steps failure at l = 2 is counted apart: 2/2 still recovers
    stopped = _robust_runs(rp={**RP_SUCCESS, 2: 2}, status={("rp", 2, 2): "max_steps"})
    claims = dr.robust_pca_claims(stopped, pd.DataFrame())
    assert all(holds(claims).values())
    cell = claims[0]["measured"]["d=20"]["cells"][2]
    assert cell["successes"] == "2/2" and cell["max_steps"] == 1
    # a cell whose solves all stopped has no rate: the claim does not hold
    status = {("rp", 1, s): "max_steps" for s in range(3)}
    claims = dr.robust_pca_claims(_robust_runs(status=status), pd.DataFrame())
    assert holds(claims) == all_but(claims, "robust-pca-recovers-few-corruptions")
    # singular weights (no relaxation) are failures
    status = {("pr", 30, s): "singular_weights" for s in range(3)}
    claims = dr.robust_pca_claims(_robust_runs(status=status), pd.DataFrame())
    assert all(holds(claims).values())


def test_robust_pca_claims_ignore_the_nuclear_norm_baseline():
    runs = _robust_runs()
    base = runs[runs["problem.kind"] == "quadratic_network"].copy()
    base["method"], base["success"] = "nuclear_norm", 0.0
    claims = dr.robust_pca_claims(pd.concat([runs, base], ignore_index=True), pd.DataFrame())
    assert all(holds(claims).values())
    cov = {c["name"]: c for c in claims}["covariance-recovers"]["measured"]["d=20"]
    assert cov["nuclear-norm transition m"] == math.inf


# --- ding2022-depth claims ----------------------------------------------------------------------

# depth -> (relative errors, nonzeros) of 3 seeds; inf is the min-l2 baseline
DEPTH_TABLE = {2: ([1e-9, 2e-9, 5e-10], [5, 5, 5]), 3: ([0.2, 0.3, 0.35], [95, 97, 90]),
               4: ([0.45, 0.5, 0.55], [99, 100, 96]), 8: ([0.65, 0.7, 0.72], [100] * 3),
               math.inf: ([0.75, 0.78, 0.8], [100] * 3)}


def _depth_runs(table=None, status=None) -> pd.DataFrame:
    rows = []
    for depth, (errors, nonzeros) in (table or DEPTH_TABLE).items():
        for seed, (e, n) in enumerate(zip(errors, nonzeros)):
            flat = math.isfinite(depth)
            rows.append({"method": "flat" if flat else "nuclear_norm",
                         "solver.depth": depth if flat else np.nan, "problem.seed": seed,
                         "problem.s": 5, "frob_error": e, "support_size": float(n),
                         "success": float(e < 1e-6),
                         "status": (status or {}).get((depth, seed), "converged")})
    return pd.DataFrame(rows)


def test_depth_claims_hold_on_the_reference_table():
    claims = dr.depth_claims(_depth_runs(), pd.DataFrame())
    assert len(claims) == 3 and all(holds(claims).values()), json.dumps(claims, indent=1)
    deep = {c["name"]: c for c in claims}["deeper-is-dense-and-wrong"]["measured"]
    assert deep["k=3"]["relative error"] == [0.2, 0.35] and deep["k=3"]["nonzeros"] == [90, 97]
    assert deep["k=3"]["notes"] == {"relative error": "0.26-0.36", "nonzeros": "86-93"}
    assert deep["min l2 norm (k -> inf)"]["median error"] == 0.78


def _changed(depth, seed, error=None, nonzeros=None):
    table = {k: (list(e), list(n)) for k, (e, n) in DEPTH_TABLE.items()}
    if error is not None:
        table[depth][0][seed] = error
    if nonzeros is not None:
        table[depth][1][seed] = nonzeros
    return table


@pytest.mark.parametrize("table, failing", [
    (_changed(2, 1, error=2e-6), ["depth-2-recovers"]),
    (_changed(2, 0, nonzeros=6), ["depth-2-recovers"]),
    (_changed(2, 0, nonzeros=4), ["depth-2-recovers"]),
    (_changed(3, 2, error=0.09), ["deeper-is-dense-and-wrong"]),
    (_changed(8, 0, nonzeros=50), ["deeper-is-dense-and-wrong"]),
    # k = 3's median (0.3 -> 0.6) above k = 4's (0.5)
    ({**DEPTH_TABLE, 3: ([0.6, 0.6, 0.6], [95] * 3)}, ["error-grows-with-depth-to-min-l2"]),
    # the min-l2 interpolant below depth 8
    ({**DEPTH_TABLE, math.inf: ([0.6, 0.6, 0.6], [100] * 3)},
     ["error-grows-with-depth-to-min-l2"]),
    # no depth >= 3 at all
    ({k: v for k, v in DEPTH_TABLE.items() if k == 2 or math.isinf(k)},
     ["deeper-is-dense-and-wrong", "error-grows-with-depth-to-min-l2"]),
])
def test_depth_claims_fail_one_at_a_time(table, failing):
    claims = dr.depth_claims(_depth_runs(table), pd.DataFrame())
    assert holds(claims) == all_but(claims, *failing)


def test_depth_claims_skip_unfinished_solves():
    # an unconverged depth-2 solve with a large error is left out, not counted as a failure
    runs = _depth_runs(_changed(2, 1, error=0.5), status={(2, 1): "max_steps"})
    claims = dr.depth_claims(runs, pd.DataFrame())
    assert all(holds(claims).values())
    assert claims[0]["measured"]["k=2"]["runs"] == 2


# --- sweeps ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["ding2022-robust-pca", "ding2022-depth"])
@pytest.mark.parametrize("profile", ["quick", "paper"])
def test_sweeps_validate(name, profile):
    experiment = EXPERIMENTS[name]
    runs = [r for s in experiment.sweeps[profile]() for r in check_sweep(s)]
    reps = dr.REPS[profile]
    assert {r.solver.kind for r in runs} <= {"flat", "nuclear_norm"}
    assert {r.problem.seed for r in runs} == set(range(reps))
    flat = [r for r in runs if r.solver.kind == "flat"]
    assert all(r.solver.dtype == "float64" for r in runs)
    if name == "ding2022-depth":
        assert len(flat) == reps * len(dr.DEPTHS[profile])
        assert len(runs) == len(flat) + reps  # one min-l2 baseline per problem
    else:
        cells = sum(len(ls) for ls in dr.ROBUST_L[profile].values())
        cells += sum(len(ms) for _, grids in dr.NETWORK[profile].values()
                     for ms in grids.values())
        assert len(flat) == reps * cells


def test_quick_profile_cells_cover_every_claim_region():
    claims = dr.robust_pca_claims(_robust_from_profile("quick"), pd.DataFrame())
    assert all(holds(claims).values())  # every region has cells (all made to agree)


def _robust_from_profile(profile: str) -> pd.DataFrame:
    """A runs table on the profile's grid, successes as the claims want them (transition
    cells succeed)."""
    rows = []
    for d, ls in dr.ROBUST_L[profile].items():
        for l in ls:  # noqa: E741
            ok = l < dr.L_FAIL * d
            rows += [{"method": "flat", "problem.kind": "robust_pca", "problem.d1": d,
                      "problem.d2": d, "problem.rank": dr.RANK, "problem.l": l,
                      "problem.seed": s, "status": "converged", "success": float(ok),
                      "frob_error": 0.0 if ok else 1.0} for s in range(dr.REPS[profile])]
    for _, (r1, grids) in dr.NETWORK[profile].items():
        for d, ms in grids.items():
            for m in ms:
                ok = m >= dr.network_fail_below(d, r1)
                rows += [{"method": "flat", "problem.kind": "quadratic_network",
                          "problem.d": d, "problem.r1": r1, "problem.r2": 0, "problem.m": m,
                          "problem.seed": s, "status": "converged", "success": float(ok),
                          "frob_error": 0.0 if ok else 1.0} for s in range(dr.REPS[profile])]
    return pd.DataFrame(rows)


def test_paper_profile_cells_cover_every_claim_region():
    claims = dr.robust_pca_claims(_robust_from_profile("paper"), pd.DataFrame())
    assert all(holds(claims).values())
    measured = {c["name"]: c["measured"] for c in claims}
    assert set(measured["robust-pca-fails-many-corruptions"]) == {"d=20", "d=30"}


def test_robust_pca_plot_draws_rates_thresholds_and_baseline(tmp_path):
    runs = _robust_runs()
    base = runs[runs["problem.kind"] == "quadratic_network"].copy()
    base["method"] = "nuclear_norm"
    paths = dr.robust_pca_plot(pd.concat([runs, base], ignore_index=True), pd.DataFrame(),
                               tmp_path)
    assert [p.name for p in paths] == ["recovery.png"] and paths[0].stat().st_size > 10_000


# --- smoke-size runs, end to end ----------------------------------------------------------------

def test_robust_pca_machinery_end_to_end(tmp_path, monkeypatch):
    monkeypatch.setitem(dr.REPS, "quick", 2)
    monkeypatch.setitem(dr.ROBUST_L, "quick", {8: [1, 3]})
    monkeypatch.setitem(dr.NETWORK, "quick", {"covariance": (2, {4: [6, 16]}),
                                              "phase-retrieval": (1, {4: [4, 12]})})
    result = reproduce("ding2022-robust-pca", "quick", tmp_path, progress=False)
    runs = result.runs
    assert len(runs) == 2 * (2 + 2 + 2)  # cells x seeds (one compiled ADMM per problem kind)
    assert set(runs["status"]) <= {"converged", "singular_weights", "max_steps"}
    flat = runs[runs["method"] == "flat"]
    assert flat["frob_error"].notna().sum() >= 8 and set(flat["success"]) <= {0.0, 1.0}
    assert [p.name for p in result.figures] == ["recovery.png"]
    assert all(p.is_file() for p in result.figures)
    saved = json.loads((tmp_path / "ding2022-robust-pca" / "claims.json").read_text())
    assert [c["name"] for c in saved["claims"]] == [c["name"] for c in result.claims]
    assert len(result.claims) == 6 and all(isinstance(c["holds"], bool) for c in result.claims)
    # below the degrees of freedom (7 at d = 4, r = 2) and below 2d - 1 = 7: no recovery
    held = holds(result.claims)
    assert held["covariance-fails-below-dof"] and held["phase-retrieval-fails-below-2d-1"]


def test_depth_machinery_end_to_end(tmp_path, monkeypatch):
    monkeypatch.setitem(dr.REPS, "quick", 1)
    monkeypatch.setitem(dr.DEPTHS, "quick", [2, 3])
    result = reproduce("ding2022-depth", "quick", tmp_path, progress=False)
    assert len(result.runs) == 3 and set(result.runs["status"]) == {"converged"}
    assert all(holds(result.claims).values()), json.dumps(result.claims, indent=1)
    assert [p.name for p in result.figures] == ["depth.png"] and result.figures[0].is_file()
    truth, vectors = dr.flat_vectors(result.runs)
    assert sorted(vectors) == [2, 3] and np.count_nonzero(truth) == 5
    two = result.runs[result.runs["solver.depth"] == 2].iloc[0]
    # the vectors solved again are the stored runs' solutions
    assert np.linalg.norm(vectors[2] - truth) == pytest.approx(two["frob_error"], abs=1e-9)
    assert np.sum(np.abs(vectors[3]) > 1e-6) == int(
        result.runs[result.runs["solver.depth"] == 3]["support_size"].iloc[0])
