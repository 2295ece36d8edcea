import jax
import jax.numpy as jnp
import numpy as np
import pytest

from overparam.problems import (
    DenseSensing,
    EntryMask,
    low_rank_truth,
    make_completion,
    make_sensing,
    pad_measurements,
    uniform_entry_mask,
)


def test_truth_has_rank_and_unit_rms(x64, getkey):
    t = low_rank_truth(getkey(), 30, 20, 4, jnp.float64)
    s = np.linalg.svd(np.asarray(t), compute_uv=False)
    assert t.shape == (30, 20)
    assert np.sqrt(np.mean(np.asarray(t) ** 2)) == pytest.approx(1.0, rel=1e-12)
    assert s[3] > 1e-3 and s[4] < 1e-10 * s[0]


def test_mask_samples_exactly_m_entries_without_replacement(getkey):
    mask = np.asarray(uniform_entry_mask(getkey(), 7, 9, 40))
    assert set(np.unique(mask)) == {0.0, 1.0}
    assert mask.sum() == 40


def test_mask_is_uniform_over_entries():
    # Monte Carlo: every entry is observed with probability m / (d1 d2).
    keys = jax.random.split(jax.random.PRNGKey(0), 4000)
    freq = np.asarray(jax.vmap(lambda k: uniform_entry_mask(k, 4, 5, 6))(keys)).mean(0)
    assert np.abs(freq - 6 / 20).max() < 0.04


def test_completion_observes_truth_on_mask(getkey):
    t = low_rank_truth(getkey(), 10, 10, 2)
    p = make_completion(getkey(), t, 30)
    assert isinstance(p.operator, EntryMask)
    np.testing.assert_array_equal(p.observations, t * p.operator.mask)


def test_sensing_matches_dense_inner_products(x64, getkey):
    t = low_rank_truth(getkey(), 6, 5, 2, jnp.float64)
    p = make_sensing(getkey(), t, 12)
    assert isinstance(p.operator, DenseSensing)
    a = np.asarray(p.operator.matrix).reshape(12, 6, 5)
    np.testing.assert_allclose(p.observations, np.einsum("mij,ij->m", a, np.asarray(t)),
                               rtol=1e-12)
    # adjoint: <A x, r> = <x, A* r>
    x, r = jax.random.normal(getkey(), (6, 5), jnp.float64), jax.random.normal(getkey(), (12,),
                                                                               jnp.float64)
    lhs = jnp.vdot(p.operator.apply(x), r)
    rhs = jnp.vdot(x, p.operator.adjoint(r))
    assert float(lhs) == pytest.approx(float(rhs), rel=1e-12)


def test_sensing_entries_have_variance_one_over_n_squared():
    a = make_sensing(jax.random.PRNGKey(3), jnp.ones((40, 40)), 200).operator.matrix
    assert float(jnp.var(a)) == pytest.approx(1 / 1600, rel=0.02)


def test_padding_adds_zero_weight_rows(getkey):
    p = make_sensing(getkey(), low_rank_truth(getkey(), 4, 4, 1), 5)
    q = pad_measurements(p, 9)
    assert q.operator.matrix.shape == (9, 16)
    np.testing.assert_array_equal(q.operator.weights, [1] * 5 + [0] * 4)
    with pytest.raises(ValueError, match="cannot pad"):
        pad_measurements(p, 3)


@pytest.mark.parametrize("kwargs, message", [
    (dict(d1=5, d2=5, rank=6), "rank must be <= min"),
    (dict(d1=0, d2=5, rank=1), "d1 must be a positive integer"),
])
def test_truth_rejects_bad_sizes(kwargs, message):
    with pytest.raises(ValueError, match=message):
        low_rank_truth(jax.random.PRNGKey(0), **kwargs)


def test_mask_rejects_too_many_observations():
    with pytest.raises(ValueError, match="m must be <= d1\\*d2"):
        uniform_entry_mask(jax.random.PRNGKey(0), 3, 3, 10)


def test_one_key_gives_the_same_problem_in_both_dtypes():
    """Baselines (float64) must solve the very problem that float32 training sees."""
    key = jax.random.PRNGKey(5)
    t32 = np.asarray(low_rank_truth(key, 9, 7, 2, jnp.float32), np.float64)
    with jax.enable_x64(True):
        t64 = np.asarray(low_rank_truth(key, 9, 7, 2, jnp.float64))
        s64 = make_sensing(jax.random.PRNGKey(6), jnp.asarray(t64), 5).operator.matrix
        s32 = make_sensing(jax.random.PRNGKey(6), jnp.asarray(t32, jnp.float32),
                           5).operator.matrix
        assert np.linalg.svd(t64, compute_uv=False)[2] < 1e-12
    np.testing.assert_allclose(t32, t64, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(s32, np.float64), np.asarray(s64), rtol=1e-6)
