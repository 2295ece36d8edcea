import jax
import jax.numpy as jnp
import numpy as np
import pytest

from overparam.models import deep_factorization, end_to_end, layer_shapes


def test_layer_shapes_chain_from_input_to_output():
    assert layer_shapes(4, 6, 3) == [(4, 6), (4, 4), (4, 4)]
    assert layer_shapes(4, 6, 3, width=7) == [(7, 6), (7, 7), (4, 7)]
    assert layer_shapes(4, 6, 1) == [(4, 6)]
    with pytest.raises(ValueError, match="depth must be >= 1"):
        layer_shapes(4, 6, 0)


def test_predict_is_the_product_of_the_layers(getkey):
    m = deep_factorization(3, 5, 3, width=4)
    params = m.init(getkey(), 1.0)
    w1, w2, w3 = (np.asarray(p, np.float64) for p in params)
    np.testing.assert_allclose(m.predict(params), w3 @ w2 @ w1, rtol=1e-5)


def test_gaussian_init_norm_matches_init_scale_sqrt_n():
    # The paper's convention: E||W(0)||_F ~= init_scale * sqrt(n); average over seeds.
    m = deep_factorization(100, 100, 3)
    norms = [float(jnp.linalg.norm(m.predict(m.init(jax.random.PRNGKey(s), 1e-3))))
             for s in range(8)]
    assert np.mean(norms) == pytest.approx(1e-3 * 10, rel=0.2)


def test_gaussian_init_per_layer_std(getkey):
    m = deep_factorization(200, 200, 2)
    w1, w2 = m.init(getkey(), 1e-2)
    assert float(jnp.std(w1)) == pytest.approx(1e-2 ** 0.5 / np.sqrt(200), rel=0.02)


def test_identity_init_gives_scaled_identity(getkey):
    m = deep_factorization(5, 5, 3, init="identity")
    np.testing.assert_allclose(m.predict(m.init(getkey(), 1e-3)), 1e-3 * np.eye(5), rtol=1e-5)


@pytest.mark.parametrize("init", ["orthogonal", "balanced"])
def test_balanced_inits_are_balanced(x64, getkey, init):
    m = deep_factorization(6, 6, 3, init=init)
    params = m.init(getkey(), 0.5, jnp.float64)
    for lower, upper in zip(params, params[1:]):
        np.testing.assert_allclose(upper.T @ upper, lower @ lower.T, atol=1e-12)
    assert float(jnp.linalg.norm(m.predict(params))) == pytest.approx(0.5 * np.sqrt(6), rel=0.5)


def test_balanced_init_with_narrow_width_keeps_top_singular_values(x64, getkey):
    m = deep_factorization(6, 5, 3, width=2, init="balanced")
    params = m.init(getkey(), 1.0, jnp.float64)
    assert [p.shape for p in params] == [(2, 5), (2, 2), (6, 2)]
    assert np.linalg.matrix_rank(np.asarray(m.predict(params))) == 2


def test_init_dtype_and_unknown_init(getkey, x64):
    m = deep_factorization(3, 3, 2)
    assert all(p.dtype == jnp.float64 for p in m.init(getkey(), 1e-3, jnp.float64))
    with pytest.raises(ValueError, match="init must be one of"):
        deep_factorization(3, 3, 2, init="xavier")


@pytest.mark.parametrize("init", ["gaussian", "balanced", "orthogonal"])
def test_positive_det_init_conditions_on_the_sign_and_keeps_balance(x64, init):
    model = deep_factorization(2, 2, 3, init=init, positive_det=True)
    plain = deep_factorization(2, 2, 3, init=init)
    keys = jax.random.split(jax.random.PRNGKey(0), 200)
    params = jax.vmap(lambda k: model.init(k, 0.5, jnp.float64))(keys)
    before = jax.vmap(lambda k: plain.init(k, 0.5, jnp.float64))(keys)
    dets = np.linalg.det(np.asarray(jax.vmap(end_to_end)(params)))
    plain_dets = np.linalg.det(np.asarray(jax.vmap(end_to_end)(before)))
    assert (dets > 0).all()
    assert (plain_dets < 0).any()  # the flip did something
    np.testing.assert_allclose(np.abs(dets), np.abs(plain_dets), rtol=1e-12)
    w1, w1_plain = np.asarray(params[0]), np.asarray(before[0])
    # W1 W1^T (hence balancedness) is unchanged by the column flip
    np.testing.assert_allclose(w1 @ w1.transpose(0, 2, 1),
                               w1_plain @ w1_plain.transpose(0, 2, 1), atol=1e-12)


def test_positive_det_needs_square_layers():
    with pytest.raises(ValueError, match="square"):
        deep_factorization(3, 2, 2, positive_det=True)
