"""The JAX nuclear-norm solver against cvxpy + SCS, batched against unbatched, and its dtypes."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from overparam.problems import (
    DenseSensing,
    MatrixProblem,
    completion_problem,
    gaussian_sensing_matrix,
    low_rank_truth,
    make_completion,
    make_sensing,
    pad_measurements,
    rank_one_sensing_problem,
    sensing_problem,
)
from overparam.solvers import nuclear_norm_min, nuclear_norm_min_cvxpy

SCS_OPTIONS = {"eps_abs": 1e-10, "eps_rel": 1e-10, "max_iters": 500_000}
JAX_EPS = 1e-11  # relative residual tolerance of the JAX solver in float64
RTOL = 1e-6  # required relative agreement with the reference, solutions and objectives

_solve = jax.jit(nuclear_norm_min, static_argnames=("max_iters", "eps", "svt_rank", "equality"))


def _problem(kind: str, seed: int, shape: tuple[int, int], rank: int, m: int, dtype=jnp.float64):
    k_truth, k_obs = jax.random.split(jax.random.PRNGKey(seed))
    truth = low_rank_truth(k_truth, *shape, rank, dtype)
    make = make_completion if kind == "completion" else make_sensing
    return make(k_obs, truth, m)


def _rel(a, b) -> float:
    return float(np.linalg.norm(np.asarray(a) - b) / np.linalg.norm(b))


def _nuclear(x) -> float:
    return float(np.linalg.svd(np.asarray(x, np.float64), compute_uv=False).sum())


def _max_violation(problem: MatrixProblem, x, tol: float) -> float:
    """Largest constraint violation on real measurements, relative to the largest |y_i|."""
    op, y = problem.operator, np.asarray(problem.observations)
    r = np.abs(np.asarray(op.apply(x)) - y) - tol
    real = np.asarray(op.weights) > 0
    return float(np.max(np.where(real, r, -np.inf)) / np.max(np.abs(y[real])))


def _check_against_cvxpy(problem: MatrixProblem, tol: float, svt_rank=None) -> np.ndarray:
    result = _solve(problem, tol=tol, eps=JAX_EPS, svt_rank=svt_rank)
    reference = nuclear_norm_min_cvxpy(problem, tol=tol, **SCS_OPTIONS)
    x = np.asarray(result.x)
    assert bool(result.converged), (result.iterations, result.primal_residual, result.dual_residual)
    err, obj = _rel(x, reference), abs(_nuclear(x) / _nuclear(reference) - 1.0)
    print(f"iterations={int(result.iterations)} rel_frobenius={err:.2e} rel_objective={obj:.2e}")
    assert err <= RTOL, f"solutions differ: {err:.3e}\njax:\n{x}\ncvxpy:\n{reference}"
    assert obj <= RTOL, f"nuclear norms differ: {obj:.3e}"
    assert _max_violation(problem, x, tol) <= 1e-8
    return x


# (kind, seed, shape, rank, m, tol, solution equals the truth)
AGREEMENT_CASES = {
    "completion-underdetermined": ("completion", 0, (10, 10), 2, 45, 0.0, False),
    "completion-recovers-truth": ("completion", 0, (10, 10), 1, 45, 0.0, True),
    "completion-rectangular": ("completion", 1, (8, 12), 1, 40, 0.0, None),
    "completion-tol": ("completion", 0, (10, 10), 2, 60, 1e-2, False),
    "sensing-underdetermined": ("sensing", 0, (10, 10), 2, 30, 0.0, False),
    "sensing-recovers-truth": ("sensing", 0, (10, 10), 2, 70, 0.0, True),
    "sensing-tol": ("sensing", 1, (10, 10), 2, 50, 1e-2, False),
}


@pytest.mark.parametrize("case", list(AGREEMENT_CASES))
def test_agrees_with_cvxpy(case):
    kind, seed, shape, rank, m, tol, recovers = AGREEMENT_CASES[case]
    with jax.enable_x64(True):
        problem = _problem(kind, seed, shape, rank, m)
        x = _check_against_cvxpy(problem, tol)
        if recovers is not None:
            truth_error = _rel(x, np.asarray(problem.truth))
            assert (truth_error <= 1e-6) == recovers, truth_error


# (kind, seed, shape, rank, m, tol, svt_rank): rank-k SVTs between residual tests. k = 1 is
# below the solutions' ranks, so the exact fallback runs too.
PARTIAL_SVT_CASES = {
    "completion-k4": ("completion", 0, (12, 10), 2, 80, 0.0, 4),
    "completion-tol-k4": ("completion", 0, (12, 10), 2, 70, 1e-2, 4),
    "completion-k1-fallback": ("completion", 0, (10, 10), 2, 45, 0.0, 1),
    "sensing-k3": ("sensing", 0, (10, 10), 2, 60, 0.0, 3),
}


@pytest.mark.parametrize("case", list(PARTIAL_SVT_CASES))
def test_partial_svt_agrees_with_cvxpy(case):
    kind, seed, shape, rank, m, tol, k = PARTIAL_SVT_CASES[case]
    with jax.enable_x64(True):
        problem = _problem(kind, seed, shape, rank, m)
        _check_against_cvxpy(problem, tol, svt_rank=k)


def test_partial_svt_matches_full_svds_on_a_larger_completion():
    # 48 x 48 rank 3 from 900 entries, the solver's own policy (k = 16) against full SVDs.
    from overparam.solvers.kinds.nuclear_norm import svt_rank

    with jax.enable_x64(True):
        problem = _problem("completion", 3, (48, 48), 3, 900)
        k = svt_rank(problem.shape)
        assert k == 16
        full = _solve(problem, tol=0.0, eps=1e-9)
        fast = _solve(problem, tol=0.0, eps=1e-9, svt_rank=k)
        assert bool(full.converged) and bool(fast.converged)
        assert _rel(fast.x, np.asarray(full.x)) <= 1e-7
        assert _rel(fast.x, np.asarray(problem.truth)) <= 1e-7
        assert int(fast.iterations) <= 1.25 * int(full.iterations)


def _rank_one_problem(seed: int, m: int, shape=(6, 5), rank: int = 1) -> MatrixProblem:
    """Rank-one sensing ``y_i = a_i^T W b_i`` with standard Gaussian ``a_i``, ``b_i`` (float64)."""
    k_truth, k_left, k_right = jax.random.split(jax.random.PRNGKey(seed), 3)
    truth = low_rank_truth(k_truth, *shape, rank, jnp.float64)
    left = jax.random.normal(k_left, (m, shape[0]), jnp.float64)
    right = jax.random.normal(k_right, (m, shape[1]), jnp.float64)
    return rank_one_sensing_problem(truth, left, right)


# (m, tol, solution equals the truth): 6 x 5 rank 1 has 10 degrees of freedom.
RANK_ONE_CASES = {
    "underdetermined": (12, 0.0, False),
    "recovers-truth": (20, 0.0, True),
    "underdetermined-tol": (12, 1e-2, False),
    "tol": (20, 1e-2, False),
}


@pytest.mark.parametrize("case", list(RANK_ONE_CASES))
def test_rank_one_sensing_agrees_with_cvxpy(case):
    m, tol, recovers = RANK_ONE_CASES[case]
    with jax.enable_x64(True):
        problem = _rank_one_problem(0, m)
        x = _check_against_cvxpy(problem, tol)
        assert (_rel(x, np.asarray(problem.truth)) <= 1e-6) == recovers
        reference = nuclear_norm_min_cvxpy(problem, tol=tol, **SCS_OPTIONS)
        assert _max_violation(problem, reference, tol) <= 1e-8


def test_padding_rows_are_ignored():
    with jax.enable_x64(True):
        problem = _problem("sensing", 0, (10, 10), 2, 30)
        padded = pad_measurements(problem, 44)
        # Put garbage in the padding rows (weight 0): they must not constrain anything.
        garbage = jax.random.normal(jax.random.PRNGKey(7), (14, 100), jnp.float64)
        op = padded.operator
        op = DenseSensing(op.matrix.at[30:].set(garbage), op.weights, op.template)
        obs = padded.observations.at[30:].set(10.0)
        padded = MatrixProblem(op, obs, padded.truth)
        x_padded = _check_against_cvxpy(padded, 0.0)
        x = np.asarray(_solve(problem, tol=0.0, eps=JAX_EPS).x)
        assert _rel(x_padded, x) <= RTOL


def test_rank_one_padding_rows_are_ignored():
    with jax.enable_x64(True):
        problem = _rank_one_problem(1, 12)
        padded = problem.padded(17)
        op = padded.operator
        garbage = jax.random.normal(jax.random.PRNGKey(7), (5, 11), jnp.float64)
        op = op._replace(left=op.left.at[12:].set(garbage[:, :6]),
                         right=op.right.at[12:].set(garbage[:, 6:]))
        padded = MatrixProblem(op, padded.observations.at[12:].set(10.0), padded.truth)
        x_padded = _check_against_cvxpy(padded, 0.0)
        x = np.asarray(_solve(problem, tol=0.0, eps=JAX_EPS).x)
        assert _rel(x_padded, x) <= RTOL


def test_vmap_equals_loop():
    with jax.enable_x64(True):
        problems = [_problem("completion", seed, (8, 8), 1, 30) for seed in range(3)]
        tols = jnp.array([0.0, 1e-2, 1e-3])
        stacked = jax.tree.map(lambda *leaves: jnp.stack(leaves), *problems)
        batched = jax.jit(jax.vmap(lambda p, t: nuclear_norm_min(p, tol=t, eps=1e-10)))(
            stacked, tols
        )
        assert batched.x.shape == (3, 8, 8)
        for i, problem in enumerate(problems):
            single = _solve(problem, tol=tols[i], eps=1e-10)
            assert bool(batched.converged[i]) and bool(single.converged)
            # Not bitwise: batched and single SVDs round differently, and ADMM carries it along.
            assert _rel(batched.x[i], np.asarray(single.x)) <= 1e-9
            assert abs(int(batched.iterations[i]) - int(single.iterations)) <= 10
        assert len(set(np.asarray(batched.iterations).tolist())) == 3  # each run stops on its own


def test_reports_convergence_and_iterations():
    with jax.enable_x64(True):
        problem = _problem("completion", 0, (10, 10), 2, 45)
        done = _solve(problem, eps=1e-8)
        assert bool(done.converged)
        assert 0 < int(done.iterations) < 20000 and int(done.iterations) % 10 == 0
        assert max(float(done.primal_residual), float(done.dual_residual)) <= 1e-8
        cut = _solve(problem, eps=1e-8, max_iters=20)
        assert not bool(cut.converged)
        assert int(cut.iterations) == 20
        assert max(float(cut.primal_residual), float(cut.dual_residual)) > 1e-8


@pytest.mark.parametrize("kind", ["completion", "sensing"])
def test_float32_in_float32_out(kind):
    problem = _problem(kind, 0, (6, 9), 1, 30, jnp.float32)
    result = _solve(problem, tol=1e-3)
    assert result.x.shape == (6, 9) and result.x.dtype == jnp.float32
    assert result.primal_residual.dtype == jnp.float32
    assert result.dual_residual.dtype == jnp.float32
    assert result.iterations.dtype == jnp.int32 and result.iterations.shape == ()
    assert result.converged.dtype == jnp.bool_ and bool(result.converged)
    with jax.enable_x64(True):
        problem64 = jax.tree.map(lambda a: a.astype(jnp.float64), problem)
        x64 = _solve(problem64, tol=1e-3, eps=JAX_EPS).x
    assert _rel(result.x, np.asarray(x64)) <= 1e-3


def test_cvxpy_reports_failure():
    with jax.enable_x64(True):
        problem = _problem("sensing", 0, (4, 4), 1, 2)
        op = problem.operator
        op = op._replace(matrix=op.matrix.at[1].set(op.matrix[0]))  # same row, other value
        infeasible = MatrixProblem(op, problem.observations.at[1].add(1.0), problem.truth)
        with pytest.raises(RuntimeError, match="infeasible"):
            nuclear_norm_min_cvxpy(infeasible, **SCS_OPTIONS)


def test_rejects_bad_arguments():
    problem = _problem("completion", 0, (4, 4), 1, 8, jnp.float32)
    with pytest.raises(ValueError, match="max_iters"):
        nuclear_norm_min(problem, max_iters=0)
    with pytest.raises(ValueError, match="tol"):
        nuclear_norm_min(problem, tol=-1.0)
    for bad in (0, 4, 2.0):
        with pytest.raises(ValueError, match="svt_rank"):
            nuclear_norm_min(problem, svt_rank=bad)
    with pytest.raises(ValueError, match="tol"):
        nuclear_norm_min_cvxpy(problem, tol=-1.0)
    for bad in (1e-3, jnp.asarray(0.0)):
        with pytest.raises(ValueError, match="equality"):
            nuclear_norm_min(problem, tol=bad, equality=True)


# --- Degenerate shapes: 1 x d and d x 1 matrices (nuclear norm = l2 norm) and 2 x 5 ----------


def _small_sensing(seed: int, shape: tuple[int, int], m: int) -> MatrixProblem:
    """Gaussian sensing of a unit-Frobenius rank-1 ``shape`` matrix (float64)."""
    k_truth, k_obs = jax.random.split(jax.random.PRNGKey(seed))
    truth = low_rank_truth(k_truth, *shape, 1, jnp.float64)
    truth = truth / jnp.linalg.norm(truth)
    return sensing_problem(truth, gaussian_sensing_matrix(k_obs, m, *shape, jnp.float64))


def _min_nuclear_norm(problem: MatrixProblem) -> np.ndarray:
    """The exact minimizer where there is a closed form: the minimum-l2-norm solution for a
    vector, ``y / s_1(A) u_1 v_1^T`` for one measurement; else cvxpy + SCS."""
    a = np.asarray(problem.operator.dense_rows(), np.float64)
    y = np.asarray(problem.observations, np.float64)
    shape = problem.shape
    if min(shape) == 1:
        return (np.linalg.pinv(a) @ y).reshape(shape)
    if len(y) == 1:
        u, s, vt = np.linalg.svd(a.reshape(shape))
        return y[0] / s[0] * np.outer(u[:, 0], vt[0])
    return nuclear_norm_min_cvxpy(problem, eps_abs=1e-12, eps_rel=1e-12, max_iters=1_000_000)


def test_rho_settles_on_a_1x3_problem():
    # Two measurements of a 1 x 3 matrix at 1.7 degrees (unit-row condition number 69).
    # Undamped residual balancing rescaled rho up, down, down every 10 iterations for ever:
    # 20,000 iterations, error 9e-2 (the penalized path, kept undamped, still does). With
    # equality=True, damped, rho settles and the run converges.
    with jax.enable_x64(True):
        problem = _small_sensing(32, (1, 3), 2)
        reference = _min_nuclear_norm(problem)
        exact = _solve(problem, eps=1e-12, equality=True)
        assert bool(exact.converged) and int(exact.iterations) <= 200
        assert np.linalg.norm(np.asarray(exact.x) - reference) <= 1e-8


@pytest.mark.parametrize("equality", [True])  # the penalized path cycles on seed 32
@pytest.mark.parametrize("shape", [(1, 3), (3, 1), (2, 5)])
def test_degenerate_shapes_reach_the_minimizer(shape, equality):
    # m = 1 and 2 measurements, m = 1 padded to 2 so that one batched program runs them all.
    cases = [(seed, m) for m in (1, 2) for seed in (0, 1, 2, 3, 16, 32)]  # 16, 32: slowest
    with jax.enable_x64(True):
        problems = [_small_sensing(seed, shape, m) for seed, m in cases]
        stacked = jax.tree.map(lambda *leaves: jnp.stack(leaves),
                               *[pad_measurements(p, 2) for p in problems])
        run = jax.jit(jax.vmap(lambda p: nuclear_norm_min(p, eps=1e-12, equality=equality)))
        result = run(stacked)
        assert bool(jnp.all(result.converged)), result.iterations
        for i, problem in enumerate(problems):
            error = np.linalg.norm(np.asarray(result.x[i]) - _min_nuclear_norm(problem))
            assert error <= 1e-8, (cases[i], int(result.iterations[i]), error)


def test_equality_projection_is_insensitive_to_conditioning():
    # Unit-row condition number 4e4 (rows at 3e-3 degrees): the penalized A x = z2 block
    # does not converge in 20,000 iterations, the projection does at once.
    with jax.enable_x64(True):
        a = jnp.array([[1.0, 0.01, 0.0], [1.0, 0.01, 5e-5]])
        problem = sensing_problem(jnp.array([[0.3, -0.2, 0.9]]), a)
        result = _solve(problem, eps=1e-12, equality=True)
        assert bool(result.converged) and int(result.iterations) <= 200
        assert _rel(result.x, _min_nuclear_norm(problem)) <= 1e-9


# (problem, kind of check): the equality path against the default one (itself certified
# against cvxpy above), padding rows with garbage included.
EQUALITY_CASES = ["completion-underdetermined", "completion-recovers-truth",
                  "sensing-underdetermined", "sensing-recovers-truth", "rank-one", "padded",
                  "partial-svt"]


@pytest.mark.parametrize("case", EQUALITY_CASES)
def test_equality_agrees_with_the_penalized_path(case):
    with jax.enable_x64(True):
        svt_rank = None
        if case == "rank-one":
            problem = _rank_one_problem(0, 12)
        elif case == "padded":
            problem = pad_measurements(_problem("sensing", 0, (10, 10), 2, 30), 44)
            op = problem.operator
            garbage = jax.random.normal(jax.random.PRNGKey(7), (14, 100), jnp.float64)
            op = DenseSensing(op.matrix.at[30:].set(garbage), op.weights, op.template)
            problem = MatrixProblem(op, problem.observations.at[30:].set(10.0), problem.truth)
        elif case == "partial-svt":
            problem, svt_rank = _problem("completion", 0, (12, 10), 2, 80), 4
        else:
            kind, seed, shape, rank, m, _, _ = AGREEMENT_CASES[case]
            problem = _problem(kind, seed, shape, rank, m)
        penalized = _solve(problem, tol=0.0, eps=JAX_EPS, svt_rank=svt_rank)
        exact = _solve(problem, eps=JAX_EPS, svt_rank=svt_rank, equality=True)
        assert bool(penalized.converged) and bool(exact.converged)
        print(f"iterations: penalized {int(penalized.iterations)}, "
              f"equality {int(exact.iterations)}")
        reference = np.asarray(penalized.x)
        assert _rel(exact.x, reference) <= RTOL
        assert abs(_nuclear(exact.x) / _nuclear(reference) - 1.0) <= RTOL
        assert _max_violation(problem, np.asarray(exact.x), 0.0) <= 1e-8


# --- The 1e-6 success rule on Ding et al. 2022's flat relaxations ------------------------------


def _flat_problem(kind: str, d: int, m: int, seed: int) -> tuple[MatrixProblem, np.ndarray,
                                                                  np.ndarray]:
    """A d x d rank-2 unit-Frobenius recovery problem as its flat relaxation (Ding et al.
    2022): the nuclear-norm problem in ``Y = D1 X D2`` with the measurements
    ``<D1^-1 A_i D2^-1, Y>`` (entry sampling: the entries of ``Y``). ``m`` is the number of
    Gaussian or rank-one measurements, or the expected number of Bernoulli-sampled entries.
    Returns the problem (its truth ``D1 M D2``) and ``D1^-1``, ``D2^-1``."""
    rng = np.random.default_rng(seed)
    truth = rng.standard_normal((d, 2)) @ rng.standard_normal((2, d))
    truth /= np.linalg.norm(truth)
    if kind == "completion":
        mask = (rng.random((d, d)) < m / d**2).astype(np.float64)
        count = mask.sum()
        d1, d2 = np.sqrt(mask.sum(1) / (count * d)), np.sqrt(mask.sum(0) / (count * d))
        problem = completion_problem(jnp.asarray(d1[:, None] * truth * d2), jnp.asarray(mask))
        return problem, np.diag(1 / d1), np.diag(1 / d2)
    if kind == "gaussian":
        mats = rng.standard_normal((m, d, d))
    else:
        mats = rng.standard_normal((m, d, 1)) * rng.standard_normal((m, 1, d))

    def inv_sqrt(a):
        lam, vec = np.linalg.eigh(a)
        return (vec / np.sqrt(lam)) @ vec.T

    d1_inv = inv_sqrt(np.einsum("mij,mkj->ik", mats, mats) / (m * d))
    d2_inv = inv_sqrt(np.einsum("mji,mjk->ik", mats, mats) / (m * d))
    rescaled = (d1_inv @ mats @ d2_inv).reshape(m, -1)
    y_truth = np.linalg.solve(d1_inv, truth) @ np.linalg.inv(d2_inv)  # D1 M D2
    problem = sensing_problem(jnp.asarray(y_truth), jnp.asarray(rescaled))
    return pad_measurements(problem, 3 * 2 * (2 * d - 2)), d1_inv, d2_inv


FLAT_SUCCESS = 1e-6  # recovered: ||X - M||_F below this
FLAT_EPS = 1e-9  # the ADMM tolerance that decides the rule (error about 10 * eps, see below)

# (kind, m, seed, recovered): 8 x 8 rank 2 has r(2d - r) = 28 degrees of freedom; m = 42 is
# at the phase boundary, where the seed decides. Errors where recovered: SCS <= 2e-10, the
# ADMM at eps 1e-9 <= 3e-8 (penalized) and 4e-9 (equality); where not, all >= 0.2.
FLAT_CASES = {
    "gaussian-boundary-fails": ("gaussian", 42, 0, False),
    "gaussian-boundary-recovers": ("gaussian", 42, 1, True),
    "rank-one-boundary-fails": ("rank_one", 42, 1, False),
    "rank-one-boundary-recovers": ("rank_one", 42, 0, True),
    "completion-below": ("completion", 28, 0, False),
    "completion-above": ("completion", 61, 0, True),
}


def test_flat_success_verdicts_agree_with_cvxpy():
    with jax.enable_x64(True):
        for case, (kind, m, seed, recovered) in FLAT_CASES.items():
            problem, d1_inv, d2_inv = _flat_problem(kind, 8, m, seed)
            truth = d1_inv @ np.asarray(problem.truth) @ d2_inv

            def error(y):
                return np.linalg.norm(d1_inv @ np.asarray(y, np.float64) @ d2_inv - truth)

            errors = {"scs": error(nuclear_norm_min_cvxpy(problem, **SCS_OPTIONS))}
            for equality in (False, True):
                result = _solve(problem, eps=FLAT_EPS, max_iters=50_000, equality=equality)
                assert bool(result.converged), (case, equality, int(result.iterations))
                errors[f"admm equality={equality}"] = error(result.x)
            print(case, {k: f"{v:.1e}" for k, v in errors.items()})
            for name, value in errors.items():
                assert (value < FLAT_SUCCESS) == recovered, (case, name, value)


def test_kind_batched_path_agrees_with_one_solve_each(x64, monkeypatch):
    """The vmapped path (taken off the CPU) gives the solutions of the unbatched one, for
    problems of two measurement counts and two tolerances."""
    from overparam.solvers.kinds.nuclear_norm import NuclearNormConfig, solve

    problems = [_problem("sensing", s, (5, 4), 1, m) for s, m in ((0, 14), (1, 14), (2, 18))]
    problems = [p.padded(18) for p in problems]  # one batch shape, as a sweep group has
    cfgs = [NuclearNormConfig(tol=t, eps=1e-10) for t in (0.0, 1e-3, 0.0)]
    devices = jax.devices()[:1]
    one = dict(solve(cfgs, problems, devices=devices, max_batch=2))
    monkeypatch.setattr(jax, "default_backend", lambda: "gpu")
    batched = dict(solve(cfgs, problems, devices=devices, max_batch=2))
    assert sorted(one) == sorted(batched) == [0, 1, 2]
    for i in one:
        assert one[i].status == batched[i].status == "converged"
        assert _rel(batched[i].x, one[i].x) < 1e-7, i
