"""Spectral measures of a matrix: singular values, norms, effective rank."""

import jax.numpy as jnp

from overparam._linalg import det, svdvals
from overparam.measures._schatten_ps import SCHATTEN_PS
from overparam.types import Array


def singular_values(x: Array) -> Array:
    """Singular values of ``x`` (shape (d1, d2)) in descending order, shape (min(d1, d2),).

    Safe to batch across CPU devices (see :mod:`overparam._linalg`); not differentiable.

    Example:

    >>> import jax.numpy as jnp
    >>> singular_values(jnp.array([[3.0, 0.0], [0.0, -4.0]])).tolist()
    [4.0, 3.0]
    """
    return svdvals(x)


def nuclear_norm(x: Array) -> Array:
    r"""Nuclear (trace) norm :math:`\|X\|_* = \sum_i \sigma_i(X)`.

    Example:

    >>> import jax.numpy as jnp
    >>> float(nuclear_norm(jnp.array([[3.0, 0.0], [0.0, -4.0]])))
    7.0
    """
    return jnp.sum(singular_values(x))


def effective_rank_of(s: Array) -> Array:
    """:func:`effective_rank` from the singular values ``s``."""
    p = s / jnp.sum(s)
    safe = jnp.where(p > 0, p, 1.0)
    return jnp.exp(-jnp.sum(jnp.where(p > 0, p * jnp.log(safe), 0.0)))


def schatten_quasi_norms_of(s: Array) -> Array:
    """:func:`schatten_quasi_norms` from the singular values ``s``."""
    return jnp.stack([jnp.sum(s**p) ** (1.0 / p) for p in SCHATTEN_PS])


def effective_rank(x: Array) -> Array:
    r"""Effective rank of Roy and Vetterli (2007).

    .. math:: \operatorname{erank}(X) = \exp\Big(-\sum_i p_i \log p_i\Big),\qquad
       p_i = \sigma_i / \|\sigma\|_1,

    with :math:`0 \log 0 = 0`. It equals k for a matrix with k equal nonzero singular values.

    References: O. Roy, M. Vetterli, "The effective rank: a measure of effective
    dimensionality", EUSIPCO 2007; used in Arora et al. 2019, Fig. 2.

    Example: two equal singular values and a zero one give exactly 2.

    >>> import jax.numpy as jnp
    >>> round(float(effective_rank(jnp.diag(jnp.array([5.0, 5.0, 0.0])))), 5)
    2.0
    """
    return effective_rank_of(singular_values(x))


def schatten_quasi_norm(x: Array, p) -> Array:
    r"""Schatten-p (quasi-)norm :math:`\|X\|_{S_p} = (\sum_i \sigma_i^p)^{1/p}`, for p > 0.

    Arora et al. 2019 consider :math:`p = 2/N` for a depth-N factorization (their code logs
    :math:`\sum_i\sigma_i^{2/N}`, the p-th power of this value).

    Example: singular values 4 and 1 at p = 1/2 give (2 + 1)^2 = 9.

    >>> import jax.numpy as jnp
    >>> round(float(schatten_quasi_norm(jnp.diag(jnp.array([4.0, 1.0])), 0.5)), 4)
    9.0
    """
    s = singular_values(x)
    return jnp.sum(s**p) ** (1.0 / p)


def schatten_quasi_norms(x: Array) -> Array:
    """:func:`schatten_quasi_norm` at every p of :data:`SCHATTEN_PS`, shape (len(SCHATTEN_PS),)."""
    return schatten_quasi_norms_of(singular_values(x))


def determinant(x: Array) -> Array:
    """Determinant of a square matrix; NaN for a rectangular one."""
    if x.shape[0] != x.shape[1]:
        return jnp.asarray(jnp.nan, x.dtype)
    return det(x)
