"""The robust-PCA objective: the l1-ball projection against cvxpy and a bisection reference,
the fit's value and gradient, the local model, and the objective under jit and vmap."""

import cvxpy as cp
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from overparam import registry
from overparam.models import deep_factorization
from overparam.objectives import squared_loss
from overparam.objectives.kinds.robust_pca import (
    l1_ball_distance_sq,
    local_model_problem,
    local_model_target,
    project_l1_ball,
    robust_pca_fit,
    robust_pca_objective,
)
from overparam.problems import MatrixProblem, stack_problems

PROBLEM = {"kind": "robust_pca", "d1": 5, "d2": 4, "rank": 2, "l": 2}
# jitted once each: one compile per shape instead of one per eager operation
project = jax.jit(project_l1_ball)
fit = jax.jit(robust_pca_fit)
fit_grad = jax.jit(jax.grad(robust_pca_fit, argnums=1))


def build(fields: dict, dtype=jnp.float64):
    entry = registry.PROBLEMS.get(fields["kind"])
    return registry.resolve(entry.build)(entry.config.model_validate(fields), dtype)


def bisection_projection(v: np.ndarray, radius: float) -> np.ndarray:
    """Slow reference: the soft threshold theta with sum(max(|v| - theta, 0)) = radius, by
    bisection (200 halvings, to float64 resolution)."""
    if np.abs(v).sum() <= radius:
        return v.copy()
    lo, hi = 0.0, np.abs(v).max()
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if np.maximum(np.abs(v) - mid, 0).sum() > radius else (lo, mid)
    return np.sign(v) * np.maximum(np.abs(v) - hi, 0)


CASES = [  # (vector, radius): outside, inside, on the sphere, radius 0, ties, a matrix
    (np.array([3.0, -1.0, 0.5, 2.0, -0.2]), 1.0),
    (np.array([0.1, -0.2, 0.3]), 5.0),
    (np.array([0.5, -0.5, 1.0]), 2.0),
    (np.array([1.0, -2.0, 0.3]), 0.0),
    (np.array([1.0, 1.0, -1.0, 1.0, 0.0]), 2.5),
    (np.random.default_rng(0).normal(size=(4, 3)), 1.7),
]


@pytest.mark.parametrize("case", [0, 4, 5])  # the bisection test covers many more
def test_projection_matches_cvxpy(x64, case):
    v, radius = CASES[case]
    s = cp.Variable(v.size)
    cp.Problem(cp.Minimize(cp.sum_squares(s - v.reshape(-1))), [cp.norm1(s) <= radius]).solve(
        solver="CLARABEL", tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    p = np.asarray(project(jnp.asarray(v), radius))
    assert p.shape == v.shape
    np.testing.assert_allclose(p.reshape(-1), s.value, atol=1e-5)  # the solver's accuracy
    np.testing.assert_allclose(p, bisection_projection(v, radius), atol=1e-12)
    assert np.abs(p).sum() <= radius * (1 + 1e-12) + 1e-15


def test_projection_matches_bisection_under_vmap_and_in_float32(x64):
    for v, radius in CASES:
        np.testing.assert_allclose(project(jnp.asarray(v), radius),
                                   bisection_projection(v, radius), atol=1e-12)
    rng = np.random.default_rng(1)
    v = rng.normal(size=(20, 7)) * rng.uniform(0.1, 3.0, size=(20, 1))
    radius = rng.uniform(0.0, 6.0, size=20)
    got = jax.jit(jax.vmap(project_l1_ball))(jnp.asarray(v), jnp.asarray(radius))
    want = np.stack([bisection_projection(vi, ri) for vi, ri in zip(v, radius)])
    np.testing.assert_allclose(got, want, atol=1e-12)
    with jax.enable_x64(False):
        got32 = project(jnp.asarray(v[0], jnp.float32), np.float32(radius[0]))
        assert got32.dtype == jnp.float32
        np.testing.assert_allclose(got32, want[0], atol=1e-5)


def test_distance_gradient_is_the_moreau_formula_and_matches_finite_differences(x64):
    v, radius = jnp.asarray(CASES[5][0]), 1.7
    p = project_l1_ball(v, radius)
    grad_v, grad_r = jax.grad(l1_ball_distance_sq, argnums=(0, 1))(v, radius)
    np.testing.assert_allclose(grad_v, 2 * (v - p), rtol=1e-12)
    theta = float(jnp.max(jnp.abs(v) - jnp.abs(p)))  # the soft threshold
    assert float(grad_r) == pytest.approx(-2 * theta, rel=1e-10)
    check_grads(lambda x: l1_ball_distance_sq(x, radius), (v,), order=1, modes=["rev"],
                atol=1e-6, rtol=1e-6)
    # a.e. the Hessian is 2 (I - J_P): eigenvalue 0 on the k - 1 directions within the face
    # of the k nonzeros of P(v), 2 elsewhere
    h = jax.jit(jax.hessian(lambda x: l1_ball_distance_sq(x, radius)))(v).reshape(12, 12)
    np.testing.assert_allclose(h, h.T, atol=1e-12)
    ev = np.linalg.eigvalsh(h)
    k = int(np.sum(np.asarray(p) != 0))
    np.testing.assert_allclose(ev, [0.0] * (k - 1) + [2.0] * (13 - k), atol=1e-10)
    # inside the ball the distance and its gradient vanish
    assert float(l1_ball_distance_sq(0.01 * v, radius)) == 0.0
    np.testing.assert_array_equal(jax.grad(l1_ball_distance_sq)(0.01 * v, radius), 0.0)


def test_fit_is_zero_at_the_truth_and_the_distance_elsewhere(x64):
    p = build(PROBLEM)
    assert float(fit(p, p.truth)) < 1e-28
    x = jnp.asarray(np.random.default_rng(2).normal(size=p.shape))
    r = np.asarray(p.observations - x)
    want = np.sum((r - bisection_projection(r, float(p.radius))) ** 2) / r.size
    assert float(fit(p, x)) == pytest.approx(want, rel=1e-12)
    assert float(fit(p, p.observations)) == 0.0  # Y - X = 0 is in the ball
    # with M + (a part of S) the residual lies in the ball too
    assert float(fit(p, p.truth + 0.5 * p.sparse)) == 0.0
    np.testing.assert_allclose(fit_grad(p, x),
                               -2 * (r - bisection_projection(r, float(p.radius))) / r.size,
                               atol=1e-12)


def test_local_model_majorizes_the_fit_and_matches_it_to_first_order(x64):
    p = build(PROBLEM)
    rng = np.random.default_rng(3)
    x_ref = p.truth + 0.3 * jnp.asarray(rng.normal(size=p.shape))
    local = jax.jit(local_model_problem)(p, x_ref)
    np.testing.assert_array_equal(local.observations, local_model_target(p, x_ref))
    np.testing.assert_array_equal(local.truth, p.truth)
    model = jax.jit(squared_loss)  # on the local problem: ||T - X||_F^2 / (d1 d2)
    model_grad = jax.jit(jax.grad(squared_loss, argnums=1))
    assert float(model(local, x_ref)) == pytest.approx(float(fit(p, x_ref)), rel=1e-12)
    np.testing.assert_allclose(model_grad(local, x_ref), fit_grad(p, x_ref), rtol=1e-10,
                               atol=1e-14)
    for _ in range(5):
        x = x_ref + jnp.asarray(rng.normal(size=p.shape))
        assert float(model(local, x)) >= float(fit(p, x)) - 1e-14
    # the target is held fixed, so the local model's Hessian is 2 I / (d1 d2)
    h = jax.hessian(lambda x: squared_loss(local_model_problem(p, x_ref), x))(x_ref)
    np.testing.assert_allclose(h.reshape(20, 20), 2 * np.eye(20) / 20, atol=1e-14)
    # at the truth (a minimizer) the target is the truth itself
    np.testing.assert_allclose(local_model_target(p, p.truth), p.truth, atol=1e-12)


def test_objective_runs_under_jit_and_vmap_on_stacked_problems(x64):
    a, b = build(PROBLEM), build({**PROBLEM, "l": 1, "seed": 1})
    model = deep_factorization(5, 4, 2)
    keys = jax.random.split(jax.random.PRNGKey(0), 2)
    params = jax.vmap(lambda k: model.init(k, 0.5, jnp.float64))(keys)
    fn = registry.resolve(registry.OBJECTIVES.get("robust_pca").build)(
        registry.OBJECTIVES.get("robust_pca").config())
    assert fn is robust_pca_objective

    def loss_and_grad(prm, problem):
        return jax.value_and_grad(lambda q: fn(model, q, problem, {}), has_aux=True)(prm)

    (total, fit), grads = jax.jit(jax.vmap(loss_and_grad))(params, stack_problems([a, b]))
    np.testing.assert_array_equal(total, fit)
    for i, problem in enumerate((a, b)):
        single = jax.tree.map(lambda x: x[i], params)
        assert float(fit[i]) == pytest.approx(
            float(robust_pca_fit(problem, model.predict(single))), rel=1e-12)
    assert all(np.isfinite(g).all() for g in jax.tree.leaves(grads))


def test_objective_refuses_a_problem_without_a_radius(x64):
    p = build(PROBLEM)
    plain = MatrixProblem(p.operator, p.observations, p.truth)
    with pytest.raises(ValueError, match="needs a problem with a radius"):
        robust_pca_fit(plain, p.truth)


def test_hessian_trace_of_a_robust_pca_run_is_that_of_its_local_model(x64):
    # L R^T (the depth-2 factorization) at a random point: the exact trace of the declared
    # local model equals jax.hessian of the local squared loss with the target held fixed.
    from jax.flatten_util import ravel_pytree

    from overparam.measures import MeasureContext, get_measure
    from overparam.objectives._local import bind_objective

    p = build(PROBLEM)
    model = deep_factorization(5, 4, 2)
    params = model.init(jax.random.PRNGKey(1), 1.0, dtype=jnp.float64)
    ctx = MeasureContext(model, params, p, bind_objective(robust_pca_objective, model, {}),
                         jax.random.PRNGKey(0))
    local = local_model_problem(p, model.predict(params))
    flat, unravel = ravel_pytree(params)
    dense = jax.hessian(lambda v: squared_loss(local, model.predict(unravel(v))))(flat)
    assert float(get_measure("hessian_trace_exact").fn(ctx)) == 1.0
    assert float(get_measure("hessian_trace").fn(ctx)) == pytest.approx(
        float(jnp.trace(dense)), rel=1e-10)
