r"""Regularity of a factorization (Ding et al. 2022, Thm 3.3 and Fig. 4): how far a point's
factors are from the norm-minimal, balanced factorization of the same matrix.

The paper plots two gaps of the flat factors where recovery is exact; their exact formulas
are lost (see the notes), so these are the reconstruction chosen here, both relative and
scale-free:

* ``norm_gap``: :math:`\big(\tfrac12(\|L\|_F^2 + \|R\|_F^2) - \|LR^\top\|_*\big) /
  \|LR^\top\|_*` for two-factor models (:math:`\|X\|_* = \min_{LR^\top = X}
  \tfrac12(\|L\|^2 + \|R\|^2)`, so the gap is :math:`\ge 0`, zero exactly at norm-minimal
  factors); :math:`\big(\|U_1\|^2 + \|U_2\|^2 - \|X\|_*\big)/\|X\|_*` for
  :math:`X = U_1U_1^\top - U_2U_2^\top`.
* ``balance_gap``: :math:`\|L^\top L - R^\top R\|_* / (\|L\|_F^2 + \|R\|_F^2)` (Thm 3.3 (ii)
  bounds the numerator by a multiple of the denominator), two-factor models only.

"Two-factor" means the ``two_factor`` model (params ``(L, R)``) or a depth-2
``deep_factorization`` (``(W1, W2)``: :math:`L = W_2`, :math:`R = W_1^\top`). Other models:
NaN.
"""

import jax.numpy as jnp

from overparam._linalg import svdvals
from overparam.types import Array


def _two_factors(ctx) -> tuple[Array, Array] | None:
    name, params = ctx.model.name, ctx.params
    if name == "two_factor":
        return params[0], params[1]
    if name == "deep_factorization" and len(params) == 2:
        return params[1], params[0].T
    return None


def _nan(ctx) -> Array:
    return jnp.asarray(jnp.nan, jnp.result_type(*ctx.params))


def norm_gap(ctx) -> Array:
    """The ``norm_gap`` measure (see the module docstring)."""
    pair = _two_factors(ctx)
    if pair is not None:
        left, right = pair
        half = 0.5 * (jnp.sum(left * left) + jnp.sum(right * right))
    elif ctx.model.name == "symmetric":
        half = sum(jnp.sum(u * u) for u in ctx.params)
    else:
        return _nan(ctx)
    nuc = jnp.sum(svdvals(ctx.prediction()))
    return (half - nuc) / nuc


def balance_gap(ctx) -> Array:
    """The ``balance_gap`` measure (see the module docstring)."""
    pair = _two_factors(ctx)
    if pair is None:
        return _nan(ctx)
    left, right = pair
    gap = jnp.sum(svdvals(left.T @ left - right.T @ right))
    return gap / (jnp.sum(left * left) + jnp.sum(right * right))
