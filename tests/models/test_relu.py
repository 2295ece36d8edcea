"""The one-hidden-layer ReLU network against a per-unit numpy loop."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from overparam.models._relu import fixed_signs, output_weights, relu_network


def _numpy_net(w, v, x):
    """sum_k v_k max(0, w_k . x_i), one unit at a time."""
    out = np.zeros((x.shape[0],) + np.shape(v)[1:])
    for k in range(w.shape[0]):
        out += np.maximum(0.0, x @ w[k])[:, None] * v[k] if np.ndim(v) > 1 else \
            np.maximum(0.0, x @ w[k]) * v[k]
    return out


def test_fixed_signs_half_each():
    assert fixed_signs(4).tolist() == [1, 1, -1, -1]
    assert fixed_signs(5).tolist() == [1, 1, 1, -1, -1]


@pytest.mark.parametrize("outputs, signs", [(1, "fixed"), (1, "trained"), (3, "fixed")])
def test_prediction_matches_a_loop_over_units(outputs, signs):
    model = relu_network(4, 6, outputs, signs)
    params = model.init(jax.random.PRNGKey(0), init_scale=2.0)
    x = np.random.default_rng(1).normal(size=(9, 4))
    got = np.asarray(model.predict(params, jnp.asarray(x, jnp.float32)))
    v = np.asarray(output_weights(model, params))
    want = _numpy_net(np.asarray(params["w"]), v, x)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    assert got.shape == ((9,) if outputs == 1 else (9, outputs))
    assert ("v" in params) == (signs == "trained" or outputs > 1)
    assert model.param_count == sum(p.size for p in jax.tree.leaves(params))


def test_init_scale_sets_the_row_norms():
    model = relu_network(50, 2000)
    w = model.init(jax.random.PRNGKey(3), init_scale=0.5)["w"]
    assert float(jnp.mean(jnp.linalg.norm(w, axis=1))) == pytest.approx(0.5, rel=0.02)


def test_trained_signs_start_at_the_fixed_ones():
    trained = relu_network(3, 5, signs="trained")
    params = trained.init(jax.random.PRNGKey(0), init_scale=1.0)
    np.testing.assert_array_equal(np.asarray(params["v"]), fixed_signs(5))


@pytest.mark.parametrize("kwargs, field", [({"width": 0}, "width"), ({"outputs": 0}, "outputs"),
                                           ({"signs": "free"}, "signs")])
def test_bad_arguments_name_the_field(kwargs, field):
    args = {"input_dim": 3, "width": 4, **kwargs}
    with pytest.raises(ValueError, match=field):
        relu_network(**args)


def test_spread_init_moves_from_one_direction_to_all():
    model = relu_network(6, 300, init="spread")
    key = jax.random.PRNGKey(4)

    def mean_cos(s):
        w = model.init(key, init_scale=2.0, spread=s)["w"]
        np.testing.assert_allclose(np.linalg.norm(w, axis=1), 2.0, rtol=1e-5)
        u = np.asarray(w) / 2.0
        return float(np.mean(u @ u.T))

    assert mean_cos(0.01) > 0.99 and abs(mean_cos(100.0)) < 0.05
    with pytest.raises(ValueError, match="init"):
        relu_network(3, 4, init="orthogonal")
