import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from overparam.optim import group_rmsprop, make_optimizer


def reference_group_rmsprop(grads_seq, params, lr, alpha=0.99, eps=1e-4):
    """The update of Arora et al.'s opt.py, written out with numpy."""
    v = 0.0
    params = [np.asarray(p, np.float64) for p in params]
    for t, grads in enumerate(grads_seq, start=1):
        v = alpha * v + (1 - alpha) * sum(float(np.sum(np.square(g))) for g in grads)
        eta = lr / (np.sqrt(v / (1 - alpha**t)) + eps)
        params = [p - eta * np.asarray(g) for p, g in zip(params, grads)]
    return params


def test_matches_reference_over_several_steps(x64):
    rng = np.random.default_rng(0)
    params = (jnp.asarray(rng.normal(size=(3, 2))), jnp.asarray(rng.normal(size=(4,))))
    grads_seq = [(rng.normal(size=(3, 2)), rng.normal(size=(4,))) for _ in range(5)]
    opt = group_rmsprop(0.1)
    state = opt.init(params)
    p = params
    for grads in grads_seq:
        updates, state = opt.update(tuple(jnp.asarray(g) for g in grads), state, p)
        p = optax.apply_updates(p, updates)
    ref = reference_group_rmsprop(grads_seq, params, 0.1)
    for a, b in zip(p, ref):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_every_layer_gets_the_same_step():
    params = (jnp.ones((2, 2)), jnp.ones((3,)))
    grads = (jnp.full((2, 2), 2.0), jnp.full((3,), 5.0))
    opt = group_rmsprop(1.0)
    updates, _ = opt.update(grads, opt.init(params), params)
    ratios = [np.asarray(u) / np.asarray(g) for u, g in zip(updates, grads)]
    assert np.allclose(np.concatenate([r.ravel() for r in ratios]), ratios[0].ravel()[0])


def test_traced_learning_rate_under_vmap():
    def step(lr):
        opt = group_rmsprop(lr)
        p = (jnp.ones(2),)
        u, _ = opt.update((jnp.ones(2),), opt.init(p), p)
        return u[0][0]

    out = jax.vmap(step)(jnp.asarray([1.0, 2.0]))
    assert float(out[1]) == pytest.approx(2 * float(out[0]))


@pytest.mark.parametrize("name", ["gd", "group_rmsprop", "adam"])
def test_registry_builds_each_optimizer(name):
    opt = make_optimizer(name, 0.1)
    p = {"w": jnp.ones(3)}
    u, _ = opt.update({"w": jnp.ones(3)}, opt.init(p), p)
    assert np.all(np.asarray(u["w"]) < 0)


def test_registry_rejects_unknown_name_and_bad_hyperparameters():
    with pytest.raises(ValueError, match="optimizer must be one of"):
        make_optimizer("sgdd", 0.1)
    with pytest.raises(ValueError, match="alpha must be in"):
        group_rmsprop(0.1, alpha=1.5)
