"""Strict JAX for the tests, two CPU devices, and shared helpers."""

import jax

jax.config.update("jax_num_cpu_devices", 2)  # before any backend starts; sharding is exercised
jax.config.update("jax_numpy_rank_promotion", "raise")

import pytest  # noqa: E402

import overparam  # noqa: E402, F401  (after the device count is fixed)


@pytest.fixture
def x64():
    """Run the test body with 64-bit arrays; restores the previous setting afterwards."""
    with jax.enable_x64(True):
        yield


@pytest.fixture
def getkey():
    counter = iter(range(10**6))
    return lambda: jax.random.PRNGKey(next(counter))
