"""The singular-value ODE of Arora et al. 2019 (Theorem 3) and the gradient alignment."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from overparam.measures._dynamics import (
    gradient_alignment,
    sv_rate_measured,
    sv_rate_predicted,
)
from overparam.models import deep_factorization
from overparam.objectives import squared_loss, squared_loss_gradient
from overparam.problems import low_rank_truth, make_completion, make_sensing


def _problem(kind: str):
    t = low_rank_truth(jax.random.PRNGKey(0), 10, 10, 2, jnp.float64)
    make = make_completion if kind == "completion" else make_sensing
    return make(jax.random.PRNGKey(1), t, 40)


@pytest.mark.parametrize("kind", ["completion", "sensing"])
@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_formula_matches_finite_differences_for_balanced_factors(x64, depth, kind):
    problem = _problem(kind)
    model = deep_factorization(10, 10, depth, init="balanced")
    params = model.init(jax.random.PRNGKey(2), 1.0, jnp.float64)
    measured = np.asarray(sv_rate_measured(model, params, problem))
    predicted = np.asarray(sv_rate_predicted(model, params, problem))
    np.testing.assert_allclose(measured, predicted, rtol=1e-6, atol=1e-9 * np.abs(predicted).max())


def test_rates_match_a_slow_reference_of_one_tiny_gd_step(x64):
    # sigma(theta - eta g) - sigma(theta) ~ eta * rate, by plain numpy SVDs
    problem = _problem("completion")
    model = deep_factorization(10, 10, 3, init="balanced")
    params = model.init(jax.random.PRNGKey(3), 1.0, jnp.float64)
    g = jax.grad(lambda p: squared_loss(problem, model.predict(p)))(params)
    eta = 1e-7
    after = np.linalg.svd(np.asarray(model.predict(jax.tree.map(lambda p, d: p - eta * d,
                                                                params, g))), compute_uv=False)
    before = np.linalg.svd(np.asarray(model.predict(params)), compute_uv=False)
    rate = np.asarray(sv_rate_measured(model, params, problem))
    np.testing.assert_allclose((after - before) / eta, rate, rtol=1e-4,
                               atol=1e-6 * np.abs(rate).max())


def test_formula_fails_for_unbalanced_factors(x64):
    # the ODE needs balancedness: a gaussian init with unequal layer norms breaks it
    problem = _problem("completion")
    model = deep_factorization(10, 10, 3, init="gaussian")
    params = model.init(jax.random.PRNGKey(4), 1.0, jnp.float64)
    params = (params[0] * 3.0, params[1], params[2] / 3.0)  # same product, unbalanced
    measured = np.asarray(sv_rate_measured(model, params, problem))
    predicted = np.asarray(sv_rate_predicted(model, params, problem))
    assert np.linalg.norm(measured - predicted) > 0.1 * np.linalg.norm(predicted)


def test_alignment_against_numpy(x64):
    problem = _problem("completion")
    x = jax.random.normal(jax.random.PRNGKey(5), (10, 10), jnp.float64)
    grad = squared_loss_gradient(problem, x)
    u, _, vt = np.linalg.svd(np.asarray(x))
    a = np.abs(u.T @ np.asarray(grad) @ vt.T)
    diag, off = gradient_alignment(x, grad)
    assert float(diag) == pytest.approx(np.diag(a).mean(), rel=1e-10)
    assert float(off) == pytest.approx(a[~np.eye(10, dtype=bool)].mean(), rel=1e-10)


def test_alignment_is_diagonal_when_gradient_shares_singular_vectors(x64):
    u, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(6, 6)))
    v, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(6, 6)))
    x = jnp.asarray(u @ np.diag([6.0, 5, 4, 3, 2, 1]) @ v.T)
    grad = jnp.asarray(u @ np.diag([1.0, -2, 3, -4, 5, -6]) @ v.T)
    diag, off = gradient_alignment(x, grad)
    assert float(diag) == pytest.approx(3.5, rel=1e-10)
    assert float(off) < 1e-12
