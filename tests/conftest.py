"""Strict JAX for the tests, two CPU devices, a compilation cache of the session's own, and
shared helpers."""

import atexit
import shutil
import tempfile

import jax

jax.config.update("jax_num_cpu_devices", 2)  # before any backend starts; sharding is exercised
jax.config.update("jax_numpy_rank_promotion", "raise")

import pytest  # noqa: E402

import overparam  # noqa: E402  (after the device count is fixed)

# programs compiled by one test are reused by the next (same HLO); nothing goes to ~/.cache
_CACHE = tempfile.mkdtemp(prefix="overparam-test-cache-")
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)
overparam.enable_compilation_cache(_CACHE)


@pytest.fixture
def x64():
    """Run the test body with 64-bit arrays; restores the previous setting afterwards."""
    with jax.enable_x64(True):
        yield


@pytest.fixture
def getkey():
    counter = iter(range(10**6))
    return lambda: jax.random.PRNGKey(next(counter))
