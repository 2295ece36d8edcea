"""Gaussian draws for problem builders that compile a few programs, not one per shape.

``jax.random.normal(key, shape)`` compiles a program for every new shape, eagerly: a phase
map over (d, m) built one problem per cell spent about a quarter of its wall time there (33
programs, 23 s of the ``ding2022-phase`` quick profile). With JAX's partitionable threefry
(the default since JAX 0.5) element i of a draw depends only on the key and i, so the first
n values of a longer draw are the draw of n values: :func:`normal` draws a power of two at
least n and keeps the first n, the same numbers as ``jax.random.normal(key, shape,
float32)``, in O(log n) compiled programs.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np

MIN_DRAW = 256  # the smallest draw: shapes below it share one program


def normal(key, shape: tuple[int, ...], dtype) -> jax.Array:
    """``jax.random.normal(key, shape, jnp.float32).astype(dtype)``, value for value, from a
    draw of a power-of-two length; the slicing and the cast run in NumPy (no compile)."""
    n = math.prod(shape)
    if not jax.config.jax_threefry_partitionable:  # no prefix property: draw as asked
        return jax.random.normal(key, shape, jnp.float32).astype(dtype)
    size = max(MIN_DRAW, 1 << max(n - 1, 0).bit_length())
    draw = np.asarray(jax.random.normal(key, (size,), jnp.float32))[:n]
    return jnp.asarray(draw.reshape(shape).astype(jnp.dtype(dtype)))
