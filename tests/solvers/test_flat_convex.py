"""The convex programs of Ding et al. 2022's flat minima: robust PCA (nuclear norm over an l1
ball) and weighted l_q minimization (Hadamard models of depth k), against cvxpy + SCS,
recovery at the paper's sizes, batched against unbatched, and input validation. Each new
shape, and each q, compiles the solver anew (seconds): the cases share a few shapes."""

from typing import NamedTuple

import cvxpy as cp
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import brentq

from overparam.solvers import (
    hadamard_flat_exponent,
    robust_pca_nuclear_min,
    weighted_lq_min,
)
from overparam.solvers._weighted_lq import _prox_lq

SCS_OPTIONS = {"eps_abs": 1e-10, "eps_rel": 1e-10, "max_iters": 500_000}
RECOVERED = 1e-6  # Frobenius error to the unit-norm truth below which it counts as recovered

_rpca = jax.jit(robust_pca_nuclear_min, static_argnames=("max_iters", "eps"))
_lq = jax.jit(weighted_lq_min, static_argnames=("q", "max_iters", "eps"))


def _nuclear(x) -> float:
    return float(np.linalg.svd(np.asarray(x, np.float64), compute_uv=False).sum())


class _RPCAProblem(NamedTuple):
    observations: np.ndarray  # Y = M + S, (d, d)
    radius: float  # ||S||_{1,1}
    truth: np.ndarray  # M, rank 2, unit Frobenius norm


def _rpca_problem(d: int, l: int, seed: int) -> _RPCAProblem:  # noqa: E741 (the paper's name)
    """As the ``robust_pca`` problem kind, in NumPy (building the kind's problems with eager
    JAX costs seconds per shape): M from Gaussian factors, S with N(0, 1) values on ``l``
    disjoint permutation patterns, so exactly ``l`` nonzeros in each row and column."""
    rng = np.random.default_rng(seed)
    m = rng.normal(size=(d, 2)) @ rng.normal(size=(2, d))
    m /= np.linalg.norm(m)
    rows = np.repeat(rng.permutation(d), l)
    cols = rng.permutation(d)[(np.arange(d)[:, None] + np.arange(l)[None, :]).reshape(-1) % d]
    s = np.zeros((d, d))
    s[rows, cols] = rng.normal(size=d * l)
    assert np.all(np.count_nonzero(s, axis=0) == l) and np.all(np.count_nonzero(s, axis=1) == l)
    return _RPCAProblem(m + s, float(np.abs(s).sum()), m)


def _rpca_cvxpy(y: np.ndarray, radius: float) -> np.ndarray:
    x = cp.Variable(y.shape)
    prob = cp.Problem(cp.Minimize(cp.normNuc(x)), [cp.sum(cp.abs(y - x)) <= radius])
    prob.solve(solver="SCS", **SCS_OPTIONS)
    assert prob.status == cp.OPTIMAL, prob.status
    return np.asarray(x.value)


def _check_rpca(problem) -> tuple[np.ndarray, np.ndarray]:
    """Solve by ADMM and by cvxpy; check convergence, feasibility, the sparse part and the
    agreement (objectives to 1e-6 relative, solutions to 1e-5); return both solutions."""
    y, radius = problem.observations, problem.radius
    result = _rpca(y, jnp.asarray(radius))  # an array, as in the other tests: one compilation
    assert bool(result.converged), (result.iterations, result.primal_residual,
                                    result.dual_residual)
    x = np.asarray(result.x)
    np.testing.assert_allclose(np.asarray(result.sparse), y - x, rtol=0, atol=1e-14)
    assert np.abs(y - x).sum() <= radius * (1 + 1e-9)
    reference = _rpca_cvxpy(y, radius)
    obj = abs(_nuclear(x) / _nuclear(reference) - 1.0)
    err = np.linalg.norm(x - reference) / np.linalg.norm(reference)
    print(f"iterations={int(result.iterations)} rel_objective={obj:.1e} rel_frobenius={err:.1e}")
    assert obj <= 1e-6, obj
    assert err <= 1e-5, err
    return x, reference


@pytest.mark.parametrize("l", [1, 2])
def test_robust_pca_recovers_the_truth_at_d20(x64, l):  # noqa: E741
    problem = _rpca_problem(20, l, 0)
    x, reference = _check_rpca(problem)
    truth = np.asarray(problem.truth)
    assert np.linalg.norm(reference - truth) < RECOVERED  # cvxpy recovers M
    assert np.linalg.norm(x - truth) < 1e-9
    assert np.sum(np.linalg.svd(x, compute_uv=False) > 1e-8) == 2


# (l, seed, whether the solution is the truth) at d = 10 (one shape: one compilation)
RPCA_CASES = {"l2-recovers": (2, 0, True), "l3-fails": (3, 0, False), "l4-fails": (4, 0, False)}


@pytest.mark.parametrize("case", list(RPCA_CASES))
def test_robust_pca_agrees_with_cvxpy(x64, case):
    l, seed, recovers = RPCA_CASES[case]  # noqa: E741
    problem = _rpca_problem(10, l, seed)
    x, reference = _check_rpca(problem)
    truth = np.asarray(problem.truth)
    assert (np.linalg.norm(reference - truth) < RECOVERED) == recovers
    assert (np.linalg.norm(x - truth) < RECOVERED) == recovers


def test_robust_pca_vmap_equals_loop(x64):
    problems = [_rpca_problem(10, l, seed) for l, seed in [(2, 4), (1, 1), (3, 1)]]  # noqa: E741
    y = jnp.asarray(np.stack([p.observations for p in problems]))
    radii = jnp.asarray([p.radius for p in problems]) * jnp.array([1.0, 0.9, 1.1])
    batched = jax.jit(jax.vmap(robust_pca_nuclear_min))(y, radii)
    assert batched.x.shape == (3, 10, 10) and batched.sparse.shape == (3, 10, 10)
    for i in range(3):
        single = _rpca(y[i], radii[i])
        assert bool(batched.converged[i]) and bool(single.converged)
        np.testing.assert_allclose(batched.x[i], single.x, rtol=0, atol=1e-8)
        assert abs(int(batched.iterations[i]) - int(single.iterations)) <= 10
    assert len(set(np.asarray(batched.iterations).tolist())) == 3  # each run stops on its own


def test_robust_pca_edge_radii(x64):
    y = jnp.asarray(np.random.default_rng(0).normal(size=(10, 10)))
    result = _rpca(y, jnp.sum(jnp.abs(y)) * 1.01)  # Y inside the ball: X = 0
    assert bool(result.converged)
    assert float(jnp.max(jnp.abs(result.x))) <= 1e-12
    result = _rpca(y, jnp.zeros((), jnp.float64))  # radius 0: X = Y
    assert bool(result.converged)
    np.testing.assert_allclose(result.x, y, rtol=0, atol=1e-9)


def test_robust_pca_validation():
    y = jnp.ones((4, 3))
    with pytest.raises(ValueError, match="radius must be non-negative"):
        robust_pca_nuclear_min(y, -1.0)
    with pytest.raises(ValueError, match="radius must be a scalar"):
        robust_pca_nuclear_min(y, jnp.ones(2))
    with pytest.raises(ValueError, match="y must be a matrix"):
        robust_pca_nuclear_min(jnp.ones(4), 1.0)
    with pytest.raises(ValueError, match="max_iters"):
        robust_pca_nuclear_min(y, 1.0, max_iters=0)
    with pytest.raises(ValueError, match="eps"):
        robust_pca_nuclear_min(y, 1.0, eps=-1.0)


def test_hadamard_flat_exponent():
    assert hadamard_flat_exponent(2) == 1.0
    assert hadamard_flat_exponent(3) == pytest.approx(4 / 3)
    assert hadamard_flat_exponent(4) == 1.5
    assert hadamard_flat_exponent(8) == 1.75
    for bad in (1, 0, 2.0, True, "3"):
        with pytest.raises(ValueError, match="depth"):
            hadamard_flat_exponent(bad)


def _prox_reference(v: float, c: float, q: float) -> float:
    """argmin_t c|t|^q + (t - v)^2 / 2 by Brent's method on log|t|."""
    a = abs(v)
    if a == 0:
        return 0.0

    def h(tau):
        return np.exp(tau) + c * q * np.exp((q - 1) * tau) - a

    lo = np.log(a) - 700.0
    if h(lo) >= 0:
        return 0.0
    return float(np.sign(v) * np.exp(brentq(h, lo, np.log(a), xtol=1e-15, rtol=1e-15)))


@pytest.mark.parametrize("q", [1.0, 1.001, 4 / 3, 1.5, 1.75, 1.999, 2.0])
def test_lq_prox_matches_a_root_finder(x64, q):
    rng = np.random.default_rng(0)
    v = np.concatenate([10.0 ** rng.uniform(-10, 3, 200) * rng.choice([-1, 1], 200), [0.0]])
    c = 10.0 ** rng.uniform(-6, 4, v.size)
    got = np.asarray(_prox_lq(jnp.asarray(v), jnp.asarray(c), q))
    if q == 1.0:
        want = np.sign(v) * np.maximum(np.abs(v) - c, 0.0)
    elif q == 2.0:
        want = v / (1.0 + 2.0 * c)
    else:
        want = np.array([_prox_reference(vi, ci, q) for vi, ci in zip(v, c)])
    assert np.all(np.abs(got - want) <= 1e-14 * np.maximum(np.abs(v), 1e-300))


def _sparse_problem(d: int, m: int, s: int, seed: int, weights: str):
    rng = np.random.default_rng(seed)
    x0 = np.zeros(d)
    x0[rng.choice(d, s, replace=False)] = rng.normal(size=s)
    x0 /= np.linalg.norm(x0)
    a = rng.normal(size=(m, d))
    w = (a**2).sum(0) / m if weights == "columns" else rng.uniform(0.5, 2.0, d)
    return a, a @ x0, w, x0


def test_lq_depth_2_recovers_and_deeper_does_not(x64):
    # d = 100, m = 40, 5-sparse unit-norm truth, D = diag(||a_j||^2 / m) (the paper's Sec. 9)
    a, b, w, x0 = _sparse_problem(100, 40, 5, 0, "columns")
    for depth in (2, 3, 4, 8):
        q = hadamard_flat_exponent(depth)
        result = _lq(a, b, w, q)
        assert bool(result.converged), (depth, result.iterations)
        x = np.asarray(result.x)
        err = np.linalg.norm(x - x0)
        nonzeros = int(np.sum(np.abs(x) > 1e-6))
        assert np.linalg.norm(a @ x - b) <= 1e-9
        print(f"depth={depth} q={q:.3f} iterations={int(result.iterations)} "
              f"error={err:.2e} nonzeros={nonzeros}")
        if depth == 2:
            assert err < 1e-6 and nonzeros == 5
        else:
            assert err > 0.1 and nonzeros > 50


def _lq_cvxpy(a, b, w, q):
    x = cp.Variable(a.shape[1])
    objective = cp.sum(cp.multiply(w, cp.power(cp.abs(x), q)))
    prob = cp.Problem(cp.Minimize(objective), [a @ x == b])
    prob.solve(solver="SCS", **SCS_OPTIONS)
    assert prob.status == cp.OPTIMAL, prob.status
    return np.asarray(x.value)


@pytest.mark.parametrize("q", [1.0, 4 / 3, 1.75, 2.0])  # each q compiles anew
@pytest.mark.parametrize("seed", [0, 1])
def test_lq_agrees_with_cvxpy(x64, q, seed):
    a, b, w, _ = _sparse_problem(12, 6, 2, seed, "uniform")
    result = _lq(a, b, w, q)
    assert bool(result.converged), (result.iterations, result.primal_residual)
    x = np.asarray(result.x)
    reference = _lq_cvxpy(a, b, w, q)
    f, f_ref = np.sum(w * np.abs(x) ** q), np.sum(w * np.abs(reference) ** q)
    obj, err = abs(f / f_ref - 1.0), np.linalg.norm(x - reference) / np.linalg.norm(reference)
    print(f"iterations={int(result.iterations)} rel_objective={obj:.1e} rel_x={err:.1e}")
    assert obj <= 1e-6 and err <= 1e-4
    assert np.linalg.norm(a @ x - b) <= 1e-8 * np.linalg.norm(b)


def test_lq_vmap_equals_loop(x64):
    problems = [_sparse_problem(12, 6, 2, seed, "uniform") for seed in range(3)]
    a, b, w = (jnp.asarray(np.stack(z)) for z in list(zip(*problems))[:3])
    batched = jax.jit(jax.vmap(lambda a, b, w: weighted_lq_min(a, b, w, 4 / 3)))(a, b, w)
    assert batched.x.shape == (3, 12)
    for i in range(3):
        single = _lq(a[i], b[i], w[i], 4 / 3)
        assert bool(batched.converged[i]) and bool(single.converged)
        np.testing.assert_allclose(batched.x[i], single.x, rtol=0, atol=1e-10)
        assert abs(int(batched.iterations[i]) - int(single.iterations)) <= 10


def test_lq_validation():
    a, b, w = jnp.ones((2, 4)), jnp.ones(2), jnp.ones(4)
    for q in (0.5, 2.5, True, "1"):
        with pytest.raises(ValueError, match="q must be"):
            weighted_lq_min(a, b, w, q)
    with pytest.raises(ValueError, match="a must be"):
        weighted_lq_min(jnp.ones((4, 4)), jnp.ones(4), w, 1.0)
    with pytest.raises(ValueError, match="a must be"):
        weighted_lq_min(jnp.ones(4), b, w, 1.0)
    with pytest.raises(ValueError, match="b must have shape"):
        weighted_lq_min(a, jnp.ones(3), w, 1.0)
    with pytest.raises(ValueError, match="weights must have shape"):
        weighted_lq_min(a, b, jnp.ones(3), 1.0)
    with pytest.raises(ValueError, match="max_iters"):
        weighted_lq_min(a, b, w, 1.0, max_iters=0)
    with pytest.raises(ValueError, match="eps"):
        weighted_lq_min(a, b, w, 1.0, eps=-1.0)
