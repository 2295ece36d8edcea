"""LAPACK-backed decompositions that are safe to batch across several CPU devices.

jaxlib runs a *batched* LAPACK call (``vmap`` of ``svd``, ``qr``...) as tasks on the XLA CPU
thread pool and blocks until they finish. When several CPU devices run such calls at the same
time (one device per core, as overparam's executor does), every pool thread can end up blocked
waiting for tasks that no free thread will run: the program deadlocks with 0% CPU (seen with
jaxlib 0.10.2 on 2 cores, batched 100x100 SVDs). The wrappers below batch these decompositions
as a sequential ``lax.map`` on the CPU (each call then runs inline), and as the usual batched
kernel elsewhere. Use them instead of ``jnp.linalg`` for anything that may run under ``vmap``
inside the executor.
"""

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax import lax


def _broadcast(x, batched: bool, size: int):
    return x if batched else jnp.broadcast_to(x, (size, *jnp.shape(x)))


def sequential_batching(fn: Callable) -> Callable:
    """``fn`` whose ``vmap`` is a ``lax.map`` on the CPU and a plain ``vmap`` elsewhere."""
    f = jax.custom_batching.custom_vmap(fn)

    @f.def_vmap
    def _rule(axis_size, in_batched, *args):
        args = tuple(jax.tree.map(lambda x, b: _broadcast(x, b, axis_size), a, ib)
                     for a, ib in zip(args, in_batched))
        if jax.default_backend() == "cpu":
            out = lax.map(lambda xs: f(*xs), args)
        else:
            out = jax.vmap(fn)(*args)
        return out, jax.tree.map(lambda _: True, out)

    return f


@sequential_batching
def svdvals(x: jax.Array) -> jax.Array:
    """Singular values, descending."""
    return jnp.linalg.svd(x, compute_uv=False)


@sequential_batching
def svd(x: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Thin SVD ``(u, s, vt)``."""
    return jnp.linalg.svd(x, full_matrices=False)


@sequential_batching
def qr(x: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Reduced QR ``(q, r)``."""
    return jnp.linalg.qr(x)


@sequential_batching
def det(x: jax.Array) -> jax.Array:
    """Determinant of a square matrix."""
    return jnp.linalg.det(x)


@sequential_batching
def eigvalsh(x: jax.Array) -> jax.Array:
    """Eigenvalues of a symmetric matrix, ascending."""
    return jnp.linalg.eigvalsh(x)
