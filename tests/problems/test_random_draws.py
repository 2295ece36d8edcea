"""Problem builders' Gaussian draws: the same numbers as jax.random.normal, from draws of a
power-of-two length (a few compiled programs for a whole phase map)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from overparam import registry
from overparam.problems._random import normal
from overparam.problems.kinds._unit import measurement_key


@pytest.mark.parametrize("shape", [(1,), (7, 5), (255, 1), (257,), (40, 100), (3, 4, 5)])
def test_normal_equals_jax_random_normal(x64, shape):
    key = jax.random.PRNGKey(11)
    ref = jax.random.normal(key, shape, jnp.float32)
    for dtype in (jnp.float32, jnp.float64):
        got = normal(key, shape, dtype)
        assert got.shape == shape and got.dtype == dtype
        np.testing.assert_array_equal(np.asarray(got), np.asarray(ref.astype(dtype)))


def test_a_phase_map_of_shapes_draws_a_few_lengths(monkeypatch):
    sizes = set()
    real = jax.random.normal

    def spy(key, shape, dtype):
        sizes.add(shape)
        return real(key, shape, dtype)

    monkeypatch.setattr(jax.random, "normal", spy)
    key = jax.random.PRNGKey(0)
    for d in range(6, 31, 2):
        for m in range(d, 6 * d, 7):
            normal(key, (m, d * d), jnp.float32)
    assert len(sizes) <= 12, sorted(sizes)


def test_gaussian_sensing_draws_what_it_did(x64):
    fields = {"kind": "gaussian_sensing", "d1": 6, "d2": 5, "rank": 2, "m": 17, "seed": 4}
    entry = registry.PROBLEMS.get("gaussian_sensing")
    problem = registry.resolve(entry.build)(entry.config.model_validate(fields), jnp.float64)
    ref = jax.random.normal(measurement_key(4, 17), (17, 30), jnp.float32).astype(jnp.float64)
    np.testing.assert_array_equal(np.asarray(problem.operator.as_matrix())[:17], ref)
