"""GD on a tiny problem matches a hand-derived gradient, and autodiff matches finite differences."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from overparam.models import deep_factorization
from overparam.objectives import squared_loss, squared_loss_gradient
from overparam.problems import low_rank_truth, make_completion, make_sensing


def hand_gradient(layers, grad_w):
    """d loss / d W_j = (W_N...W_{j+1})^T G (W_{j-1}...W_1)^T for W = W_N...W_1 (numpy)."""
    n = len(layers)
    out = []
    for j in range(n):
        left = np.eye(layers[-1].shape[0])
        for w in layers[j + 1:][::-1]:
            left = left @ w
        right = np.eye(layers[0].shape[1])
        for w in layers[:j]:
            right = w @ right
        out.append(left.T @ grad_w @ right.T)
    return out


def _problems(key):
    k1, k2, k3 = jax.random.split(key, 3)
    t = low_rank_truth(k1, 4, 3, 1, jnp.float64)
    return [make_completion(k2, t, 7), make_sensing(k3, t, 5)]


def test_gradient_of_weighted_mse_matches_numpy(x64):
    for problem in _problems(jax.random.PRNGKey(0)):
        x = jax.random.normal(jax.random.PRNGKey(1), (4, 3), jnp.float64)
        w = np.asarray(problem.operator.weights)
        r = np.asarray(problem.operator.apply(x) - problem.observations)
        loss = float(np.sum(w * r * r) / np.sum(w))
        assert float(squared_loss(problem, x)) == pytest.approx(loss, rel=1e-13)
        np.testing.assert_allclose(jax.grad(lambda x: squared_loss(problem, x))(x),
                                   squared_loss_gradient(problem, x), rtol=1e-12)
        check_grads(lambda x: squared_loss(problem, x), (x,), order=2, modes=["rev"])


def test_gd_step_matches_hand_derived_gradient(x64):
    """One plain-GD step of a depth-3 factorization, autodiff vs the closed form."""
    for problem in _problems(jax.random.PRNGKey(2)):
        model = deep_factorization(4, 3, 3, width=5)
        params = model.init(jax.random.PRNGKey(3), 0.7, jnp.float64)
        loss = lambda p: squared_loss(problem, model.predict(p))  # noqa: E731
        grads = jax.grad(loss)(params)
        g_w = np.asarray(squared_loss_gradient(problem, model.predict(params)))
        expected = hand_gradient([np.asarray(p) for p in params], g_w)
        for g, e in zip(grads, expected):
            np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-14)
        lr = 0.05
        stepped = [np.asarray(p) - lr * e for p, e in zip(params, expected)]
        after = jax.tree.map(lambda p, g: p - lr * g, params, grads)
        for a, b in zip(after, stepped):
            np.testing.assert_allclose(a, b, rtol=1e-12)
        check_grads(loss, (params,), order=1, modes=["rev"])
