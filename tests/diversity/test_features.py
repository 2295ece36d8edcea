"""The extended feature matrix D, s_m(D) from its Gram, and the loss bound, against explicit D,
numpy SVD and autodiff gradients."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from overparam.diversity import (
    extended_features,
    feature_gram,
    kernel_lambda_min,
    l2_discrepancy,
    loss_bound,
    s_min_D,
    signed_patterns,
)


def _sphere(rng, m, d):
    x = rng.standard_normal((m, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _net(n, d, m, seed):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((n, d))
    v = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    return W, v, _sphere(rng, m, d), rng


def _loss(W, v, X, y):
    """L(W) = (1/2m) sum_i (f(x_i) - y_i)^2, f(x) = sum_k v_k relu(w_k.x)."""
    r = jax.nn.relu(X @ W.T) @ v - y
    return jnp.sum(r * r) / (2 * X.shape[0])


# jitted once per shape: eager dispatch of each small op would dominate the test time
s_min = jax.jit(s_min_D)
l2 = jax.jit(l2_discrepancy)
grad_loss = jax.jit(jax.grad(_loss))


def test_the_gradient_of_the_loss_is_d_times_the_residual_over_m(x64):
    W, v, X, rng = _net(4, 3, 6, 0)
    y = rng.standard_normal(6)
    r = np.maximum(X @ W.T, 0) @ v - y
    D = np.asarray(extended_features(W, v, X))
    grad = np.asarray(grad_loss(jnp.asarray(W), v, X, y))
    np.testing.assert_allclose(grad.reshape(-1), D @ r / 6, rtol=1e-12, atol=1e-14)


def test_extended_features_match_a_loop_over_the_definition():
    W, v, X, _ = _net(3, 4, 5, 1)
    D = np.asarray(extended_features(W, v, X))
    ref = np.stack([np.kron(v * (W @ x > 0), x) for x in X], axis=1)
    assert D.shape == (12, 5)
    np.testing.assert_allclose(D, ref, rtol=1e-6)


def test_the_gram_is_dtd_and_does_not_depend_on_the_signs(x64):
    W, v, X, _ = _net(5, 3, 8, 2)
    D = np.asarray(extended_features(W, v, X))
    G = np.asarray(feature_gram(W, v, X))
    np.testing.assert_allclose(G, D.T @ D, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(feature_gram(W, -np.roll(v, 1), X), G, rtol=1e-12)
    A = np.asarray(signed_patterns(W, v, X))
    np.testing.assert_array_equal(np.abs(A), (X @ W.T > 0))


@pytest.mark.parametrize("n, d, m", [(6, 3, 10), (4, 5, 14), (20, 2, 12), (5, 3, 9)])
def test_s_min_matches_the_svd_of_the_explicit_d(x64, n, d, m):
    W, v, X, _ = _net(n, d, m, n + d + m)
    s = np.linalg.svd(np.asarray(extended_features(W, v, X)), compute_uv=False)
    assert float(s[-1]) > 1e-3  # a well-conditioned case: the Gram route is accurate here
    np.testing.assert_allclose(float(s_min(W, v, X)), s[m - 1], rtol=1e-9)


def test_a_rank_deficient_d_gives_s_min_at_the_gram_resolution(x64):
    """Here D has a dead unit (rank 6 < m = 9): the SVD finds 0, the Gram route a value below
    sqrt(eps) ||D||, as its docstring says."""
    W, v, X, _ = _net(3, 3, 9, 15)
    s = np.linalg.svd(np.asarray(extended_features(W, v, X)), compute_uv=False)
    assert s[-1] < 1e-12 * s[0]
    assert float(s_min(W, v, X)) < 1e-7 * s[0]


def test_s_min_is_zero_when_dn_is_below_m(x64):
    W, v, X, _ = _net(3, 3, 10, 5)  # dn = 9 < m = 10
    assert float(s_min(W, v, X)) == 0.0
    assert np.linalg.matrix_rank(np.asarray(extended_features(W, v, X))) <= 9


def test_dead_units_give_s_min_zero():
    rng = np.random.default_rng(6)
    X = np.abs(_sphere(rng, 6, 4))  # every x has positive coordinates
    W = -np.abs(rng.standard_normal((5, 4)))  # so every unit is off on every x
    assert float(s_min(W, np.ones(5), X)) == 0.0


def test_s_min_in_float32_is_close_to_the_float64_svd():
    W, v, X, _ = _net(6, 4, 12, 7)
    s = np.linalg.svd(np.asarray(extended_features(W, v, X), np.float64), compute_uv=False)
    got = s_min(jnp.asarray(W, jnp.float32), jnp.asarray(v, jnp.float32),
                  jnp.asarray(X, jnp.float32))
    assert got.dtype == jnp.float32
    np.testing.assert_allclose(float(got), s[-1], rtol=1e-3, atol=1e-3 * s[0])


def test_s_min_under_jit_and_vmap_over_w_equals_a_loop():
    W, v, X, rng = _net(6, 3, 10, 8)
    Ws = jnp.asarray(rng.standard_normal((3, 6, 3)), jnp.float32)
    loop = np.array([float(s_min(w, v, X)) for w in Ws])
    batched = jax.jit(jax.vmap(s_min_D, in_axes=(0, None, None)))(Ws, v, X)
    np.testing.assert_allclose(np.asarray(batched), loop, rtol=1e-5)
    assert float(s_min(W, v, X)) == pytest.approx(float(s_min_D(W, v, X)), rel=1e-6)


def test_the_loss_bound_holds_and_is_tight_along_the_smallest_singular_vector(x64):
    W, v, X, rng = _net(5, 4, 12, 9)
    m = X.shape[0]
    s = float(s_min(W, v, X))
    f = np.maximum(X @ W.T, 0) @ v
    for y in (rng.standard_normal(m), f + 0.1 * rng.standard_normal(m)):
        g = grad_loss(jnp.asarray(W), v, X, y)
        assert float(_loss(W, v, X, y)) <= float(loss_bound(jnp.sum(g * g), s, m)) * (1 + 1e-12)
    # residual r = 0.3 u_min: ||grad|| = 0.3 s / m exactly, and the bound is the loss
    _, vecs = np.linalg.eigh(np.asarray(feature_gram(W, v, X)))
    y = f - 0.3 * vecs[:, 0]
    g = grad_loss(jnp.asarray(W), v, X, y)
    np.testing.assert_allclose(float(loss_bound(jnp.sum(g * g), s, m)),
                               float(_loss(W, v, X, y)), rtol=1e-9)


def test_the_loss_bound_is_infinite_without_a_singular_value_and_checks_m():
    np.testing.assert_array_equal(loss_bound(jnp.array([1.0, 2.0]), 0.0, 5), [np.inf, np.inf])
    assert float(loss_bound(2.0, 1.0, 3)) == 3.0
    with pytest.raises(ValueError, match="m must be >= 1"):
        loss_bound(1.0, 1.0, 0)


def test_shape_mismatch_is_refused():
    with pytest.raises(ValueError, match="shapes disagree"):
        s_min_D(np.ones((3, 4)), np.ones(3), np.ones((5, 3)))
    with pytest.raises(ValueError, match="need W"):
        extended_features(np.ones(4), np.ones(3), np.ones((5, 4)))


def test_spread_units_have_low_discrepancy_and_s_min_near_its_kernel_limit():
    """The notes' sanity table (d=10, m=100, n=400, w_k = mu + s g): clustered units give
    s_m(D) = 0, spread ones approach sqrt(n lambda_min(K)) as L2_lune falls."""
    rng = np.random.default_rng(1)
    d, m, n = 10, 100, 400
    X = _sphere(rng, m, d)
    mu = _sphere(rng, 1, d)
    v = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    limit = np.sqrt(n * float(kernel_lambda_min(X)))
    assert limit == pytest.approx(4.68, abs=0.01)
    disc, s = [], []
    for spread in (0.05, 0.5, 5.0):
        W = mu + spread * rng.standard_normal((n, d))
        disc.append(float(l2(W)))
        s.append(float(s_min(W, v, X)))
    assert disc[0] > disc[1] > disc[2]
    assert s[0] < 1e-2 and s[1] > 3.0 and 0.85 * limit < s[2] < limit
