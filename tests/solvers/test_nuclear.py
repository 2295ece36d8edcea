"""The JAX nuclear-norm solver against cvxpy + SCS, batched against unbatched, and its dtypes."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from overparam.problems import (
    DenseSensing,
    MatrixProblem,
    low_rank_truth,
    make_completion,
    make_sensing,
    pad_measurements,
    rank_one_sensing_problem,
)
from overparam.solvers import nuclear_norm_min, nuclear_norm_min_cvxpy

SCS_OPTIONS = {"eps_abs": 1e-10, "eps_rel": 1e-10, "max_iters": 500_000}
JAX_EPS = 1e-11  # relative residual tolerance of the JAX solver in float64
RTOL = 1e-6  # required relative agreement with the reference, solutions and objectives

_solve = jax.jit(nuclear_norm_min, static_argnames=("max_iters", "eps", "svt_rank"))


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
