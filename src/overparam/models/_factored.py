r"""Factored models of Ding, Drusvyatskiy, Fazel, Harchaoui 2022 ("Flat minima generalize for
low-rank matrix recovery"): :math:`L R^\top`, :math:`U_1 U_1^\top - U_2 U_2^\top` and the
depth-k Hadamard product of vectors.

Initial scales follow :func:`~overparam.models.deep_factorization`: ``init_scale`` c sets the
scale of the *output* (the deep factorization's gaussian layer j has entries of standard
deviation :math:`c^{1/N}/\sqrt{\text{rows}_j}`, so each layer multiplies
:math:`E\|\cdot\|^2` by :math:`c^{2/N}`), and each factor carries its share of c.
"""

from types import MappingProxyType

import jax
import jax.numpy as jnp

from overparam.models._base import Model, zero_laplacian
from overparam.models._deep_factorization import DEEP_FACTORIZATION_INITS, deep_factorization
from overparam.types import Array

TWO_FACTOR_INITS = DEEP_FACTORIZATION_INITS
SYMMETRIC_INITS = ("gaussian",)
HADAMARD_INITS = ("gaussian", "constant")


def _check_init(init: str, allowed: tuple[str, ...]) -> None:
    if init not in allowed:
        raise ValueError(f"init must be one of {allowed}, got {init!r}")


def _check_size(name: str, value: int, low: int = 1) -> None:
    if not isinstance(value, int) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")


# --- L R^T ---------------------------------------------------------------------------------

def two_factor_product(params: tuple[Array, Array]) -> Array:
    r""":math:`X = L R^\top` of ``params = (L, R)``, L (d1, k) and R (d2, k)."""
    left, right = params
    return left @ right.T


def two_factor(d1: int, d2: int, width: int | None = None, init: str = "gaussian") -> Model:
    r"""The two-factor model :math:`X = L R^\top` of a ``(d1, d2)`` matrix, inner width k.

    The paper's overparameterized loss :math:`f(L, R) = \frac1m\|\mathcal A(LR^\top) - b\|^2`
    (Ding et al. 2022, Sec. 1), with any k (default ``min(d1, d2)``).

    Initializations are those of the depth-2 :func:`~overparam.models.deep_factorization` of
    width k, with :math:`L = W_2` and :math:`R = W_1^\top` (the same key gives the same
    matrix). So ``gaussian`` draws L iid :math:`N(0, c/d_1)` and R iid :math:`N(0, c/k)`, with
    :math:`E\|X(0)\|_F^2 = c^2 d_2`; ``identity``, ``orthogonal`` and ``balanced`` are as
    documented there (``balanced`` gives :math:`L^\top L = R^\top R`).

    ``info["factor_rows"] = (d1, d2)``: the scaled Hessian trace weighs the L block by
    :math:`1/d_1` and the R block by :math:`1/d_2`. ``info["depth"] = 2``.

    Returns:
      A :class:`Model` whose params are ``(L, R)``, shapes ``(d1, k)`` and ``(d2, k)``.
    """
    _check_init(init, TWO_FACTOR_INITS)
    k = min(d1, d2) if width is None else width
    _check_size("width", k)
    deep = deep_factorization(d1, d2, 2, k, init)

    def init_fn(key: Array, init_scale, dtype=jnp.float32) -> tuple[Array, Array]:
        w1, w2 = deep.init(key, init_scale, dtype)
        return w2, w1.T

    return Model(name="two_factor", init=init_fn, predict=two_factor_product,
                 label=f"L R^T k={k} {d1}x{d2}", param_count=(d1 + d2) * k,
                 activation_size=d1 * d2,
                 info=MappingProxyType({"depth": 2, "factor_rows": (d1, d2)}),
                 output_laplacian=zero_laplacian(two_factor_product))


# --- U1 U1^T - U2 U2^T ---------------------------------------------------------------------

def symmetric_product(params: tuple[Array, Array]) -> Array:
    r""":math:`X = U_1 U_1^\top - U_2 U_2^\top` of ``params = (U1, U2)``."""
    u1, u2 = params
    return u1 @ u1.T - u2 @ u2.T


def symmetric(d: int, width: int | None = None, negative_width: int = 0,
              init: str = "gaussian") -> Model:
    r"""The symmetric model :math:`X = U_1 U_1^\top - U_2 U_2^\top` of a ``(d, d)`` matrix.

    A quadratic-activation network :math:`\hat y(x) = x^\top X x` with k1 = ``width`` hidden
    units of output weight +1 and k2 = ``negative_width`` of weight -1 (Ding et al. 2022,
    Sec. 7); k2 = 0 is :math:`U U^\top` (covariance estimation, phase retrieval). ``width``
    defaults to d.

    ``gaussian`` init: every entry of U1 and U2 iid :math:`N(0, c/d)`, the deep
    factorization's rule for its output layer :math:`W_2 = U` (d rows); for the default
    k1 = d, k2 = 0 this is the square depth-2 deep factorization's per-layer scale. Then
    :math:`E\|X(0)\|_F^2 = (c/d)^2\, d\,[k_1(d+k_1+1) + k_2(d+k_2+1) - 2k_1k_2]`
    (:math:`c^2(2d+1)` at the default widths: the diagonal of :math:`UU^\top` adds to the
    :math:`c^2 d` of :math:`W_2W_1`).

    ``output_laplacian`` is :math:`\sum_t \partial^2 X/\partial t^2 = 2(k_1 - k_2) I`: each
    entry :math:`(U_1)_{il}` contributes :math:`2e_ie_i^\top`, each :math:`(U_2)_{il}`
    :math:`-2e_ie_i^\top`.

    Returns:
      A :class:`Model` whose params are ``(U1, U2)``, shapes ``(d, k1)`` and ``(d, k2)``; U2
      has zero columns when k2 = 0 (a zero-size leaf: no gradient, no optimizer state).
    """
    _check_init(init, SYMMETRIC_INITS)
    _check_size("d", d)
    k1 = d if width is None else width
    k2 = negative_width
    _check_size("width", k1)
    _check_size("negative_width", k2, low=0)

    def init_fn(key: Array, init_scale, dtype=jnp.float32) -> tuple[Array, Array]:
        std = jnp.sqrt(jnp.asarray(init_scale, dtype) / d)
        k_pos, k_neg = jax.random.split(key)
        return (jax.random.normal(k_pos, (d, k1), dtype) * std,
                jax.random.normal(k_neg, (d, k2), dtype) * std)

    def laplacian(params: tuple[Array, Array]) -> Array:
        dtype = jnp.result_type(*params)
        return jnp.asarray(2 * (k1 - k2), dtype) * jnp.eye(d, dtype=dtype)

    widths = f"{k1}" if k2 == 0 else f"{k1}-{k2}"
    return Model(name="symmetric", init=init_fn, predict=symmetric_product,
                 label=f"U U^T k={widths} {d}x{d}", param_count=d * (k1 + k2),
                 activation_size=d * d,
                 info=MappingProxyType({"width": k1, "negative_width": k2}),
                 output_laplacian=laplacian)


# --- v1 ⊙ ... ⊙ vk ---------------------------------------------------------------------------

def hadamard_product(params: tuple[Array, ...]) -> Array:
    r""":math:`x = v_1 \odot \dots \odot v_k` of ``params = (v_1, ..., v_k)``, each (d,), as a
    ``(d, 1)`` matrix."""
    x = params[0]
    for v in params[1:]:
        x = x * v
    return x[:, None]


def hadamard(d: int, depth: int, init: str = "gaussian") -> Model:
    r"""The depth-k Hadamard (diagonal linear network) model of a vector in :math:`R^d`.

    :math:`x = v_1 \odot \dots \odot v_k`, returned as a ``(d, 1)`` matrix so that sparse
    recovery is a ``(d, 1)`` sensing problem (Ding et al. 2022, Sec. 9: flat solutions
    minimize a weighted :math:`\sum_j |x_j|^{2(k-1)/k}`, sparse only at k = 2).

    Initializations, with :math:`\mathrm{diag}(x) = \mathrm{diag}(v_k)\cdots\mathrm{diag}(v_1)`
    scaled as the deep factorization of a d x d matrix:

    * ``gaussian``: every :math:`v_l` iid :math:`N(0, c^{2/k})`, so the entries of x(0) have
      root-mean-square c and :math:`E\|x(0)\|^2 = c^2 d`.
    * ``constant``: every entry of every :math:`v_l` is :math:`c^{1/k}`, so x(0) = c 1 (the
      deep factorization's identity init, on the diagonal). The usual positive init of
      diagonal networks; a per-factor scale :math:`\alpha` is ``init_scale`` :math:`\alpha^k`.

    Returns:
      A :class:`Model` whose params are the tuple ``(v_1, ..., v_k)``, each of shape (d,).
    """
    _check_init(init, HADAMARD_INITS)
    _check_size("d", d)
    _check_size("depth", depth)

    def init_fn(key: Array, init_scale, dtype=jnp.float32) -> tuple[Array, ...]:
        per_factor = jnp.asarray(init_scale, dtype) ** (1.0 / depth)
        if init == "constant":
            return tuple(jnp.full((d,), per_factor, dtype) for _ in range(depth))
        keys = jax.random.split(key, depth)
        return tuple(jax.random.normal(k, (d,), dtype) * per_factor for k in keys)

    return Model(name="hadamard", init=init_fn, predict=hadamard_product,
                 label=f"hadamard depth {depth} d={d}", param_count=depth * d,
                 activation_size=d, info=MappingProxyType({"depth": depth}),
                 output_laplacian=zero_laplacian(hadamard_product))
