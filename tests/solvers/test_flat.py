"""The flat relaxation (Ding et al. 2022): its weights against their definition, its solution
against cvxpy solving the unrescaled program min ||D1 X D2||_* s.t. A(X) = b, the flat
factors against the closed forms of the Hessian trace at a minimizer, singular weights, and
the baseline end to end through a sweep for every problem kind."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg

from overparam import registry
from overparam.measures import compute_measures
from overparam.objectives import squared_objective
from overparam.objectives._local import bind_objective
from overparam.problems import EntryMask, MatrixProblem, sensing_problem
from overparam.solvers._flat import flat_weights
from overparam.solvers.kinds.flat import FlatConfig, solve_one
from overparam.solvers.kinds.nuclear_norm import balanced_factors
from overparam.sweep import Store, SweepConfig, execute, expand

CASES = {
    "gaussian": {"kind": "gaussian_sensing", "d1": 6, "d2": 5, "rank": 1, "m": 18},
    "gaussian_sym": {"kind": "gaussian_sensing", "d1": 5, "d2": 5, "rank": 1, "m": 14,
                     "symmetric": True},
    "bilinear": {"kind": "bilinear_sensing", "d1": 6, "d2": 5, "rank": 1, "m": 20},
    "bernoulli": {"kind": "bernoulli_completion", "d1": 6, "d2": 5, "rank": 1, "p": 0.6},
    "quadratic": {"kind": "quadratic_network", "d": 5, "r1": 1, "r2": 1, "m": 18},
}
SYMMETRIC = {"gaussian_sym", "quadratic"}


def build(fields: dict, dtype=jnp.float64):
    entry = registry.PROBLEMS.get(fields["kind"])
    return registry.resolve(entry.build)(entry.config.model_validate(fields), dtype)


def real_matrices(problem) -> np.ndarray:
    """The A_i of the real measurements, one by one: (m, d1, d2)."""
    op = problem.operator
    d1, d2 = op.shape
    mask = op.entry_mask()
    if mask is not None:
        out = []
        for j, k in zip(*np.nonzero(np.asarray(mask) > 0)):
            e = np.zeros((d1, d2))
            e[j, k] = 1.0
            out.append(e)
        return np.stack(out)
    return op.dense_rows().reshape(-1, d1, d2)


def reference_weights(problem):
    """D1 = ((1/(m d2)) sum A_i A_i^T)^(1/2), D2 = ((1/(m d1)) sum A_i^T A_i)^(1/2), summed
    one matrix at a time, square roots by scipy."""
    mats = real_matrices(problem)
    m, d1, d2 = mats.shape
    s1 = sum(a @ a.T for a in mats) / (m * d2)
    s2 = sum(a.T @ a for a in mats) / (m * d1)
    return np.real(scipy.linalg.sqrtm(s1)), np.real(scipy.linalg.sqrtm(s2))


@pytest.mark.parametrize("case", sorted(CASES))
def test_weights_match_their_definition(x64, case):
    problem = build(CASES[case])
    w = flat_weights(problem.operator)
    r1, r2 = reference_weights(problem)
    np.testing.assert_allclose(w.d1_sq, r1 @ r1, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(w.d2_sq, r2 @ r2, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(w.d1_inv, np.linalg.inv(r1), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(w.d2_inv, np.linalg.inv(r2), rtol=1e-8, atol=1e-10)
    assert not w.singular
    assert w.symmetric == (case in SYMMETRIC)


def _cvxpy_flat(problem) -> np.ndarray:
    """min ||D1 X D2||_* s.t. A(X) = b in X itself (not the rescaled Y), by Clarabel (SCS
    where Clarabel fails: SCS alone stopped 3e-3 above the optimum on the network case)."""
    import cvxpy as cp

    d1m, d2m = reference_weights(problem)
    mats = real_matrices(problem)
    b = problem.operator.observed(problem.observations)
    x = cp.Variable(problem.shape)
    cons = [cp.hstack([cp.sum(cp.multiply(a, x)) for a in mats]) == b]
    prob = cp.Problem(cp.Minimize(cp.normNuc(d1m @ x @ d2m)), cons)
    try:
        prob.solve(solver="CLARABEL")
    except cp.error.SolverError:
        prob.solve(solver="SCS", eps_abs=1e-10, eps_rel=1e-10, max_iters=500_000)
    assert prob.status in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE), prob.status
    return np.asarray(x.value), d1m, d2m


def _nuc(x) -> float:
    return float(np.linalg.svd(x, compute_uv=False).sum())


@pytest.mark.parametrize("case", sorted(CASES))
def test_relaxation_matches_cvxpy_and_beats_nuclear_norm_on_its_objective(x64, case):
    problem = build(CASES[case])
    out = solve_one(FlatConfig(), problem)
    assert out.status == "converged", out.extra
    x = np.asarray(out.x)
    ref, d1m, d2m = _cvxpy_flat(problem)
    obj, ref_obj = _nuc(d1m @ x @ d2m), _nuc(d1m @ ref @ d2m)
    print(case, out.iterations, np.linalg.norm(x - ref), obj, ref_obj)
    assert abs(obj / ref_obj - 1) < 1e-6
    np.testing.assert_allclose(x, ref, atol=1e-5 * np.linalg.norm(ref))
    mats = real_matrices(problem)
    b = problem.operator.observed(problem.observations)
    np.testing.assert_allclose(np.einsum("mij,ij->m", mats, x), b, atol=1e-8)
    if case in SYMMETRIC:
        np.testing.assert_allclose(x, x.T, atol=1e-10)


def _measures(factors, problem):
    objective = bind_objective(squared_objective, factors.model, {})
    out = compute_measures(["hessian_trace", "scaled_hessian_trace", "hessian_trace_exact"],
                           factors.model, factors.params, problem, objective=objective,
                           key=jax.random.PRNGKey(0))
    assert float(out["hessian_trace_exact"]) == 1.0
    return float(out["hessian_trace"]), float(out["scaled_hessian_trace"])


@pytest.mark.parametrize("case", ["gaussian", "bilinear", "bernoulli"])
def test_flat_factors_are_balanced_after_rescaling_and_have_the_closed_form_trace(x64, case):
    """L R^T = X, (D1 L, D2 R) balanced, str = 2||D1 L||^2 + 2||D2 R||^2 and
    tr = 2 d2 ||D1 L||^2 + 2 d1 ||D2 R||^2 at the minimizer (notes, Lemma 3.1)."""
    problem = build(CASES[case])
    out = solve_one(FlatConfig(), problem)
    left, right = map(np.asarray, out.factors.params)
    d1m, d2m = reference_weights(problem)
    d1, d2 = problem.shape
    np.testing.assert_allclose(left @ right.T, np.asarray(out.x), atol=1e-12)
    gl, gr = d1m @ left, d2m @ right
    np.testing.assert_allclose(gl.T @ gl, gr.T @ gr, atol=1e-10)
    trace, scaled = _measures(out.factors, problem)
    a, b = np.sum(gl**2), np.sum(gr**2)
    np.testing.assert_allclose(scaled, 2 * a + 2 * b, rtol=1e-6)
    np.testing.assert_allclose(trace, 2 * d2 * a + 2 * d1 * b, rtol=1e-6)
    # the flat point's scaled trace is below that of the balanced (norm-minimal) nuclear one
    from overparam.solvers import nuclear_norm_min

    nuc = nuclear_norm_min(problem, tol=0.0, eps=1e-10, max_iters=50_000)
    _, nuc_scaled = _measures(balanced_factors(nuc.x), problem)
    assert scaled <= nuc_scaled * (1 + 1e-6)
    assert _nuc(np.asarray(nuc.x)) <= _nuc(np.asarray(out.x)) * (1 + 1e-6)


def test_network_factors_have_the_closed_form_trace(x64):
    """U1 U1^T - U2 U2^T = X and tr = 8 <D^2, U1 U1^T + U2 U2^T>, D^2 = (1/m) sum |x|^2 x x^T."""
    problem = build(CASES["quadratic"])
    out = solve_one(FlatConfig(), problem)
    assert out.factors.model.name == "symmetric"
    u1, u2 = map(np.asarray, out.factors.params)
    np.testing.assert_allclose(u1 @ u1.T - u2 @ u2.T, np.asarray(out.x), atol=1e-12)
    xs = np.asarray(problem.operator.left)
    dsq = (xs * (xs**2).sum(1, keepdims=True)).T @ xs / len(xs)
    trace, _ = _measures(out.factors, problem)
    np.testing.assert_allclose(trace, 8 * np.sum(dsq * (u1 @ u1.T + u2 @ u2.T)), rtol=1e-6)


def test_empty_row_gives_singular_weights_and_no_solution(x64):
    mask = np.ones((4, 5))
    mask[2] = 0.0
    truth = np.outer(np.arange(1.0, 5.0), np.ones(5)) / 10
    problem = MatrixProblem(EntryMask(jnp.asarray(mask)), jnp.asarray(truth * mask),
                            jnp.asarray(truth))
    assert flat_weights(problem.operator).singular
    out = solve_one(FlatConfig(), problem)
    assert out.status == "singular_weights" and out.factors is None
    assert np.isnan(np.asarray(out.x)).all()


def test_full_observation_is_the_identity_and_flat_equals_norm_minimal(x64):
    """A = I (every entry observed once): D1, D2 are multiples of I (Lemma 2.2)."""
    rng = np.random.default_rng(0)
    mats = np.eye(12).reshape(12, 3, 4)
    truth = rng.normal(size=(3, 4))
    problem = sensing_problem(jnp.asarray(truth), jnp.asarray(mats.reshape(12, -1)))
    w = flat_weights(problem.operator)
    np.testing.assert_allclose(w.d1_sq, np.eye(3) / 12, rtol=1e-12)
    np.testing.assert_allclose(w.d2_sq, np.eye(4) / 12, rtol=1e-12)
    out = solve_one(FlatConfig(), problem)
    np.testing.assert_allclose(np.asarray(out.x), truth, atol=1e-8)


def test_sweep_rows_of_every_matrix_kind_and_a_file(x64, tmp_path):
    """flat and exact nuclear_norm baselines on each kind: method, status, frob_error,
    success and the Hessian columns of the factors on the rows."""
    path = tmp_path / "s.npz"
    rng = np.random.default_rng(1)
    u = rng.normal(size=(5, 1))
    truth = u @ rng.normal(size=(1, 4))
    truth /= np.linalg.norm(truth)
    a = rng.normal(size=(16, 5, 4))
    np.savez(path, A=a, y=np.einsum("mij,ij->m", a, truth), truth=truth)
    kinds = [dict(CASES[c]) for c in ("gaussian", "bilinear", "bernoulli", "quadratic")]
    kinds.append({"kind": "file", "path": str(path)})
    rows = []
    for i, problem in enumerate(kinds):
        sweep = SweepConfig(
            name=f"flat{i}", problem=problem, model={"kind": "two_factor", "init_scale": 1e-3}
            if problem["kind"] != "quadratic" else {"kind": "symmetric", "init_scale": 1e-3},
            optimizer={"name": "gd", "learning_rate": 1e-3},
            train={"max_steps": 2, "log_every": 1, "dtype": "float64"},
            baselines=[{"kind": "flat"}, {"kind": "nuclear_norm", "tol": 0, "eps": 1e-9}],
            measures=["recon_error", "nuclear_norm", "hessian_trace"])
        store = Store(tmp_path / sweep.name, sweep.name)
        execute(expand(sweep), store, measures=sweep.measures, log_measures=["train_loss"],
                progress=False)
        runs, _ = store.consolidate()
        rows.append(runs)
        base = runs.set_index("method")
        assert {"flat", "nuclear_norm", "gd"} <= set(base.index)
        for method in ("flat", "nuclear_norm"):
            row = base.loc[method]
            assert row["status"] == "converged", (problem, method)
            assert np.isfinite(row["hessian_trace"]) and row["hessian_trace"] > 0
            assert row["success"] == float(row["frob_error"] < 1e-6)
        assert (runs["success"].notna()).all() and "frob_error" in runs.columns


def _reference_gaps(left, right):
    nuc = _nuc(left @ right.T)
    half = 0.5 * (np.sum(left**2) + np.sum(right**2))
    bal = _nuc(left.T @ left - right.T @ right) / (2 * half)
    return (half - nuc) / nuc, bal


def test_regularity_gaps_of_flat_and_balanced_factors(x64):
    """norm_gap and balance_gap against numpy; both 0 at balanced factors U sqrt(S), V sqrt(S),
    both positive at the flat factors of an anisotropic operator (Thm 3.3)."""
    problem = build(CASES["bilinear"])
    out = solve_one(FlatConfig(), problem)
    names = ["norm_gap", "balance_gap"]
    flat = compute_measures(names, out.factors.model, out.factors.params, problem)
    ref = _reference_gaps(*map(np.asarray, out.factors.params))
    np.testing.assert_allclose([float(flat[n]) for n in names], ref, rtol=1e-8, atol=1e-14)
    assert min(ref) > 1e-6
    bal = balanced_factors(out.x)
    zero = compute_measures(names, bal.model, bal.params, problem)
    assert max(abs(float(zero[n])) for n in names) < 1e-10
    # a depth-2 deep factorization (W1, W2) is L = W2, R = W1^T
    from overparam.models import deep_factorization

    left, right = out.factors.params
    deep = deep_factorization(*problem.shape, 2, left.shape[1], "gaussian")
    same = compute_measures(names, deep, (right.T, left), problem)
    np.testing.assert_allclose([float(same[n]) for n in names], ref, rtol=1e-8, atol=1e-14)


def test_robust_pca_relaxation_recovers_with_few_corruptions(x64):
    """min ||X||_* s.t. ||Y - X||_1 <= ||S||_1: exact at l = 1 on 20 x 20, the factors under
    the robust_pca fit, whose local-model trace at a minimizer is 2||L||^2 + 2||R||^2 over
    d1 d2 (the fit's 1/(d1 d2) normalization)."""
    problem = build({"kind": "robust_pca", "d1": 20, "d2": 20, "rank": 2, "l": 1})
    out = solve_one(FlatConfig(), problem)
    assert out.status == "converged"
    assert np.linalg.norm(np.asarray(out.x) - np.asarray(problem.truth)) < 1e-6
    assert out.factors.objective == "robust_pca"
    kind = registry.OBJECTIVES.get("robust_pca")
    objective = bind_objective(registry.resolve(kind.build)(kind.config()), out.factors.model, {})
    trace = compute_measures(["hessian_trace"], out.factors.model, out.factors.params, problem,
                             objective=objective, key=jax.random.PRNGKey(0))["hessian_trace"]
    left, right = map(np.asarray, out.factors.params)
    np.testing.assert_allclose(float(trace), (2 * 20 * np.sum(left**2) + 2 * 20 *
                                              np.sum(right**2)) / 400, rtol=1e-6)


@pytest.mark.parametrize("depth", [2, 3])
def test_hadamard_flat_solution_and_its_factors(x64, depth):
    """d x 1 problems: min sum D_jj |x_j|^q, q = 2(k-1)/k; the factors multiply to x and their
    Hessian trace is the AM-GM minimum 2k sum_j D_jj |x_j|^q (notes, Sec. 4)."""
    problem = build({"kind": "sparse_recovery", "d": 40, "s": 3, "m": 20})
    out = solve_one(FlatConfig(depth=depth), problem)
    assert out.status == "converged" and out.factors.model.name == "hadamard"
    x = np.asarray(out.x).ravel()
    truth = np.asarray(problem.truth).ravel()
    prod = np.prod(np.stack([np.asarray(v) for v in out.factors.params]), axis=0)
    np.testing.assert_allclose(prod, x, atol=1e-12)
    a = problem.operator.dense_rows()
    dj = (a * a).sum(0) / len(a)
    q = 2 * (depth - 1) / depth
    trace, _ = _measures(out.factors, problem)
    np.testing.assert_allclose(trace, 2 * depth * np.sum(dj * np.abs(x) ** q), rtol=1e-6)
    err = np.linalg.norm(x - truth)
    if depth == 2:  # weighted l1: sparse and exact
        assert err < 1e-6 and (np.abs(x) > 1e-6).sum() == 3
    else:  # strictly convex penalty: dense
        assert err > 1e-2 and (np.abs(x) > 1e-6).sum() > 20
