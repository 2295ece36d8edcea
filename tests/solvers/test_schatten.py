"""Schatten-p minimization by IRLS against brute force, cvxpy and its own invariances."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from overparam.problems import (
    DenseSensing,
    EntryMask,
    MatrixProblem,
    low_rank_truth,
    make_completion,
    make_sensing,
    pad_measurements,
    rank_one_sensing_problem,
)
from overparam.solvers import _schatten as schatten_module
from overparam.solvers import (
    nuclear_norm_min_cvxpy,
    schatten_p_min,
    schatten_p_objective,
)

PS = [1.0, 2.0 / 3.0, 0.5]
SCS_OPTIONS = {"eps_abs": 1e-10, "eps_rel": 1e-10, "max_iters": 500_000}
OBJECTIVE_RTOL = 1e-4  # IRLS vs the global minimum (the smoothing floor costs ~1e-5 at cusps)
CONSTRAINT_ATOL = 1e-8


def _rel(a, b) -> float:
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)) / np.linalg.norm(b))


def _objectives(xs: np.ndarray, p: float) -> np.ndarray:
    return np.sum(np.linalg.svd(xs, compute_uv=False) ** p, axis=-1)


# ----- brute force over the unobserved entries -----------------------------------------------
# The global minimizer lies in a box: every entry is at most sigma_1 <= f(X)^(1/p), and
# f(X) <= f(zero fill) at the minimizer. Inside, the objective is smooth except on the singular
# set det X = 0, where sum sigma^p has a cusp (p < 1) or a kink (p = 1) and minima often sit.
# So the search takes the best of a zooming grid over the box and a zooming grid along the
# singular set, parametrized by the first unknown (det is affine in each entry).


def _fill(y: np.ndarray, free: list, values: np.ndarray) -> np.ndarray:
    xs = np.broadcast_to(y, values.shape[:-1] + y.shape).copy()
    for j, (row, col) in enumerate(free):
        xs[..., row, col] = values[..., j]
    return xs


def _zoom_1d(f, lo: float, hi: float, points: int) -> tuple[float, float]:
    for _ in range(14):  # each round shrinks the bracket to 4 cells of a 201-point grid
        grid = np.linspace(lo, hi, points)
        i = int(np.argmin(f(grid)))
        lo, hi, points = grid[max(i - 2, 0)], grid[min(i + 2, points - 1)], 201
    grid = np.linspace(lo, hi, points)
    values = f(grid)
    return float(np.min(values)), float(grid[np.argmin(values)])


def _zoom_2d(f, radius: float) -> tuple[float, np.ndarray]:
    lo, hi, points = np.full(2, -radius), np.full(2, radius), 401
    for _ in range(13):
        axes = [np.linspace(lo[k], hi[k], points) for k in range(2)]
        values = f(np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1))
        i, j = np.unravel_index(np.argmin(values), values.shape)
        best = (float(values[i, j]), np.array([axes[0][i], axes[1][j]]))
        lo = np.array([axes[0][max(i - 2, 0)], axes[1][max(j - 2, 0)]])
        hi = np.array([axes[0][min(i + 2, points - 1)], axes[1][min(j + 2, points - 1)]])
        points = 41
    return best


def _brute_force(y: np.ndarray, free: list, p: float) -> tuple[float, np.ndarray]:
    """Global minimum of sum sigma^p over the 1 or 2 unobserved entries ``free``."""
    radius = float(_objectives(y, p)) ** (1.0 / p)

    def f(values):
        return _objectives(_fill(y, free, values), p)

    def det(values):
        return np.linalg.det(_fill(y, free, values))

    if len(free) == 1:
        smooth = _zoom_1d(lambda t: f(t[:, None]), -radius, radius, 4001)
        d0, d1 = det(np.zeros((1, 1))), det(np.ones((1, 1)))
        cusp = -d0[0] / (d1[0] - d0[0])
        candidates = [(smooth[0], np.array([smooth[1]])), (float(f(np.array([[cusp]]))[0]),
                                                           np.array([cusp]))]
    else:

        def on_singular_set(u):  # v(u) with det = 0, and the objective there
            zero, one = np.zeros_like(u), np.ones_like(u)
            d0, d1 = det(np.stack([u, zero], -1)), det(np.stack([u, one], -1))
            with np.errstate(divide="ignore", invalid="ignore"):
                v = -d0 / (d1 - d0)
            ok = np.isfinite(v) & (np.abs(v) <= radius)
            values = f(np.stack([u, np.where(ok, v, 0.0)], -1))
            return np.where(ok, values, np.inf), v

        value, u = _zoom_1d(lambda u: on_singular_set(u)[0], -radius, radius, 20001)
        v = on_singular_set(np.array([u]))[1][0]
        candidates = [_zoom_2d(f, radius), (value, np.array([u, v]))]
    return min(candidates, key=lambda c: c[0])


# Unobserved entries are nonzero at every optimum, and the three p have three different
# minimizers: (2x2) t = 1 (p = 1), 2.295 (p = 2/3), 6 = the rank-1 completion (p = 1/2).
TINY_CASES = {
    "2x2-one-unobserved": ([[1.0, 2.0], [3.0, 0.0]], [(1, 1)]),
    "3x3-two-unobserved": ([[1.0, 2.0, 0.0], [3.0, 1.0, -1.0], [0.0, 2.0, 1.0]], [(0, 2), (2, 0)]),
}


@pytest.mark.parametrize("p", PS)
@pytest.mark.parametrize("case", list(TINY_CASES))
def test_completion_matches_brute_force(case, p):
    y, free = TINY_CASES[case]
    y = np.array(y)
    mask = np.ones_like(y)
    for row, col in free:
        mask[row, col] = 0.0
    problem = MatrixProblem(EntryMask(mask), y * mask, None)
    best, where = _brute_force(y * mask, free, p)
    assert np.min(np.abs(where)) > 0.05, "pick a case whose optimum is not the zero fill"
    result = schatten_p_min(problem, p)
    found = np.array([result.x[row, col] for row, col in free])
    print(f"brute force {best:.10f} at {where}; IRLS {result.objective:.10f} at {found}, "
          f"{result.iterations} iterations")
    assert result.converged
    assert abs(result.objective / best - 1.0) <= OBJECTIVE_RTOL
    assert np.max(np.abs(found - where)) <= 1e-2 * np.max(np.abs(where))
    assert result.constraint_residual <= CONSTRAINT_ATOL
    assert np.array_equal(result.x[mask > 0], (y * mask)[mask > 0])


@pytest.mark.parametrize("group_entries", [1 << 24, 20])
def test_completion_step_matches_the_free_entries_formula(monkeypatch, group_entries):
    # The step solves, per row, min x W x^T with x_O = y_O through W^{-1}[:, O]; the textbook
    # form is x_F = -W_FF^{-1} W_FO y_O. Both on a random (tall) 8 x 6 completion, with all
    # rows in one batched solve and in groups of one to three rows.
    monkeypatch.setattr(schatten_module, "GROUP_ENTRIES", group_entries)
    rng = np.random.default_rng(0)
    observed = rng.random((8, 6)) < 0.4
    observed[0] = False  # a row with nothing observed
    observed[1] = True  # a fully observed row
    y = rng.standard_normal((8, 6))
    x = rng.standard_normal((8, 6))
    for p in PS:
        _, s, vt = np.linalg.svd(x, full_matrices=False)
        w = (vt.T * (s**2 + 0.1) ** (p / 2 - 1)) @ vt
        constraints = schatten_module._Completion(observed, y)
        assert (len(constraints.groups) == 1) == (group_entries > 1000)
        step = constraints.solve(np.linalg.inv(w))
        for i in range(8):
            o, f = observed[i], ~observed[i]
            expected = np.where(o, y[i], 0.0)
            if f.any():
                expected[f] = -np.linalg.solve(w[np.ix_(f, f)], w[np.ix_(f, o)] @ y[i, o])
            np.testing.assert_allclose(step[i], expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape", [(8, 8), (6, 10)])
def test_completion_p1_agrees_with_cvxpy(x64, shape):
    truth = low_rank_truth(jax.random.PRNGKey(0), *shape, 1, jnp.float64)
    problem = make_completion(jax.random.PRNGKey(1), truth, 30)
    result = schatten_p_min(problem, 1.0, rel_tol=1e-10)
    reference = nuclear_norm_min_cvxpy(problem, tol=0.0, **SCS_OPTIONS)
    assert result.converged and result.constraint_residual <= CONSTRAINT_ATOL
    assert _rel(result.x, reference) <= 1e-4
    assert abs(result.objective / schatten_p_objective(reference, 1.0) - 1.0) <= 1e-7


# (shape, m, the p whose minimizer is the rank-1 truth). At 3 x 5 with 10 measurements the
# nuclear norm has a minimizer other than the truth (with a smaller norm), the quasi-norms not.
SENSING_CASES = {"4x4-m12": ((4, 4), 12, PS), "3x5-m10": ((3, 5), 10, PS[1:])}


@pytest.mark.parametrize("case", list(SENSING_CASES))
def test_sensing_constraints_cvxpy_and_truth(x64, case):
    shape, m, recovering = SENSING_CASES[case]
    k_truth, k_obs = jax.random.split(jax.random.PRNGKey(0))
    truth = low_rank_truth(k_truth, *shape, 1, jnp.float64)
    problem = make_sensing(k_obs, truth, m)
    y_scale = float(jnp.max(jnp.abs(problem.observations)))
    reference = nuclear_norm_min_cvxpy(problem, tol=0.0, **SCS_OPTIONS)
    for p in PS:
        result = schatten_p_min(problem, p)
        assert result.converged, p
        assert result.constraint_residual <= CONSTRAINT_ATOL * y_scale, p
        # The truth is feasible: the minimum is at most its objective (equal if recovered).
        truth_objective = schatten_p_objective(truth, p)
        assert result.objective <= truth_objective * (1.0 + OBJECTIVE_RTOL), p
        assert (_rel(result.x, truth) <= 1e-4) == (p in recovering), p
        if p == 1.0:  # the same minimum as cvxpy; x to ~sqrt(rel_tol) where it is not sharp
            assert abs(result.objective / schatten_p_objective(reference, 1.0) - 1.0) <= 1e-6
            assert _rel(schatten_p_min(problem, p, rel_tol=1e-10).x, reference) <= 1e-4


def test_padding_rows_are_ignored(x64):
    truth = low_rank_truth(jax.random.PRNGKey(2), 4, 4, 1, jnp.float64)
    problem = make_sensing(jax.random.PRNGKey(3), truth, 8)  # underdetermined: a real choice
    padded = pad_measurements(problem, 13)
    # Garbage in the padding rows (weight 0): it must not constrain anything.
    op = padded.operator
    garbage = jax.random.normal(jax.random.PRNGKey(7), (5, 16), jnp.float64)
    op = DenseSensing(op.matrix.at[8:].set(garbage), op.weights, op.template)
    padded = MatrixProblem(op, padded.observations.at[8:].set(10.0), truth)
    for p in PS:
        plain, pad = schatten_p_min(problem, p), schatten_p_min(padded, p)
        assert pad.converged and pad.constraint_residual <= CONSTRAINT_ATOL
        assert _rel(pad.x, plain.x) <= 1e-10
        assert pad.iterations == plain.iterations


@pytest.mark.parametrize("m", [12, 20])  # 6 x 5 rank 1: underdetermined, then recovering
def test_rank_one_sensing_p1_agrees_with_cvxpy(x64, m):
    k_truth, k_left, k_right = jax.random.split(jax.random.PRNGKey(0), 3)
    truth = low_rank_truth(k_truth, 6, 5, 1, jnp.float64)
    left = jax.random.normal(k_left, (m, 6), jnp.float64)
    right = jax.random.normal(k_right, (m, 5), jnp.float64)
    problem = rank_one_sensing_problem(truth, left, right)
    y_scale = float(jnp.max(jnp.abs(problem.observations)))
    reference = nuclear_norm_min_cvxpy(problem, tol=0.0, **SCS_OPTIONS)
    result = schatten_p_min(problem, 1.0, rel_tol=1e-10)
    assert result.converged and result.constraint_residual <= CONSTRAINT_ATOL * y_scale
    residual = np.abs(np.asarray(problem.operator.apply(result.x)) - problem.observations)
    assert float(np.max(residual)) == pytest.approx(result.constraint_residual, abs=1e-13)
    assert _rel(result.x, reference) <= 1e-4
    assert abs(result.objective / schatten_p_objective(reference, 1.0) - 1.0) <= 1e-6


def test_result_types_scaling_and_iteration_cap():
    # A float32 JAX problem (no x64) comes back as float64 NumPy.
    truth = low_rank_truth(jax.random.PRNGKey(0), 5, 7, 1)
    problem = make_completion(jax.random.PRNGKey(1), truth, 20)
    result = schatten_p_min(problem, 0.5)
    assert isinstance(result.x, np.ndarray) and result.x.dtype == np.float64
    assert result.x.shape == (5, 7)
    assert isinstance(result.iterations, int) and isinstance(result.converged, bool)
    assert isinstance(result.objective, float) and isinstance(result.constraint_residual, float)
    assert result.objective == pytest.approx(schatten_p_objective(result.x, 0.5), rel=1e-12)
    # Every choice is relative to the start's scale: scaling y scales x.
    scaled = problem._replace(observations=problem.observations * 1000.0)
    assert _rel(schatten_p_min(scaled, 0.5).x, 1000.0 * result.x) <= 1e-6
    cut = schatten_p_min(problem, 0.5, max_iters=3)
    assert cut.iterations == 3 and not cut.converged


@pytest.mark.parametrize("p", [0.0, -0.5, 1.5, 2.0, math.nan, math.inf, -math.inf, "1/2", None])
def test_rejects_bad_p(p):
    problem = MatrixProblem(EntryMask(np.ones((2, 2))), np.ones((2, 2)), None)
    with pytest.raises(ValueError, match=r"\bp must be"):
        schatten_p_min(problem, p)


def test_rejects_bad_arguments():
    problem = MatrixProblem(EntryMask(np.eye(3)), np.eye(3), None)
    for kwargs, name in [
        ({"max_iters": 0}, "max_iters"),
        ({"rel_tol": 0.0}, "rel_tol"),
        ({"gamma_decay": 1.0}, "gamma_decay"),
        ({"gamma_min": 0.0}, "gamma_min"),
        ({"gamma0": -1.0}, "gamma0"),
        ({"x0": np.zeros((2, 3))}, "x0"),
    ]:
        with pytest.raises(ValueError, match=name):
            schatten_p_min(problem, 0.5, **kwargs)
