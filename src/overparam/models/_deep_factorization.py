"""Deep matrix factorization W = W_N ... W_1 (Arora, Cohen, Hu, Luo 2019)."""

from types import MappingProxyType

import jax
import jax.numpy as jnp

from overparam._linalg import det, qr, svd
from overparam.models._base import Model, zero_laplacian
from overparam.types import Array

DEEP_FACTORIZATION_INITS = ("gaussian", "identity", "orthogonal", "balanced")


def layer_shapes(d1: int, d2: int, depth: int, width: int | None = None) -> list[tuple[int, int]]:
    """Shapes of W_1 ... W_N, from input (d2 columns) to output (d1 rows).

    Hidden widths default to ``min(d1, d2)``, so the factorization puts no constraint on rank.
    """
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    h = min(d1, d2) if width is None else width
    if h < 1:
        raise ValueError(f"width must be >= 1, got {h}")
    dims = [d2] + [h] * (depth - 1) + [d1]
    return [(dims[j + 1], dims[j]) for j in range(depth)]


def end_to_end(params: tuple[Array, ...]) -> Array:
    """The product W_N ... W_1 of the factors ``params = (W_1, ..., W_N)``."""
    w = params[0]
    for layer in params[1:]:
        w = layer @ w
    return w


def _semi_orthogonal(key: Array, rows: int, cols: int, dtype) -> Array:
    """A Haar-random matrix with orthonormal rows or columns, shape (rows, cols)."""
    g = jax.random.normal(key, (max(rows, cols), min(rows, cols)), dtype)
    q, r = qr(g)
    q = q * jnp.sign(jnp.diagonal(r))[None, :]
    return q if rows >= cols else q.T


def _embed(block: Array, rows: int, cols: int) -> Array:
    """Place ``block`` in the top-left corner of a zero (rows, cols) matrix."""
    return jnp.zeros((rows, cols), block.dtype).at[: block.shape[0], : block.shape[1]].set(block)


def deep_factorization(
    d1: int, d2: int, depth: int, width: int | None = None, init: str = "gaussian",
    positive_det: bool = False,
) -> Model:
    r"""Depth-N linear factorization of a ``(d1, d2)`` matrix.

    Initializations, each with :math:`\|W(0)\|_F \approx c\sqrt{d_2}` for ``init_scale`` c:

    * ``gaussian``: layer j iid :math:`N(0, s_j^2)`, :math:`s_j = c^{1/N}/\sqrt{\text{rows}_j}`
      (for square n x n this is the paper's :math:`c^{1/N}/\sqrt{n}`).
    * ``identity``: every layer :math:`c^{1/N} I`, so :math:`W(0) = c I` (the dynamics figure).
    * ``orthogonal``: every layer Haar (semi-)orthogonal times :math:`c^{1/N}`; balanced for
      square layers.
    * ``balanced``: a Gaussian end-to-end matrix :math:`U S V^\top` split as
      :math:`W_1 = S^{1/N}V^\top`, :math:`W_j = S^{1/N}`, :math:`W_N = U S^{1/N}` (zero-padded),
      so :math:`W_{j+1}^\top W_{j+1} = W_j W_j^\top` exactly.

    With ``positive_det`` (square layers only) the first column of :math:`W_1` changes sign
    where :math:`\det W(0) < 0`. The map is a measure-preserving bijection between the two signs,
    so a Gaussian init becomes a Gaussian init conditioned on :math:`\det W(0) > 0` (as Razin and
    Cohen 2020 resample until it holds), and it keeps :math:`W_1 W_1^\top`, hence balancedness.

    References: Arora, Cohen, Hu, Luo 2019, Sec. 2 and code ``main.py``; Razin, Cohen 2020.

    Returns:
      A :class:`Model` whose params are the tuple ``(W_1, ..., W_N)``.
    """
    shapes = layer_shapes(d1, d2, depth, width)
    if init not in DEEP_FACTORIZATION_INITS:
        raise ValueError(f"init must be one of {DEEP_FACTORIZATION_INITS}, got {init!r}")
    if positive_det and any(r != c for r, c in shapes):
        raise ValueError(f"positive_det needs square layers, got shapes {shapes}")

    def init_fn(key: Array, init_scale, dtype=jnp.float32) -> tuple[Array, ...]:
        params = _init(key, init_scale, dtype)
        if not positive_det:
            return params
        sign = jnp.where(det(end_to_end(params)) < 0, -1.0, 1.0).astype(dtype)
        return (params[0].at[:, 0].multiply(sign), *params[1:])

    def _init(key: Array, init_scale, dtype) -> tuple[Array, ...]:
        c = jnp.asarray(init_scale, dtype)
        per_layer = c ** (1.0 / depth)
        keys = jax.random.split(key, depth)
        if init == "gaussian":
            return tuple(
                jax.random.normal(k, s, dtype) * per_layer / jnp.sqrt(jnp.asarray(s[0], dtype))
                for k, s in zip(keys, shapes)
            )
        if init == "identity":
            return tuple(per_layer * jnp.eye(*s, dtype=dtype) for s in shapes)
        if init == "orthogonal":
            return tuple(per_layer * _semi_orthogonal(k, *s, dtype) for k, s in zip(keys, shapes))
        # balanced: split a Gaussian end-to-end matrix evenly across the layers
        g = jax.random.normal(keys[0], (d1, d2), dtype) * c / jnp.sqrt(jnp.asarray(d1, dtype))
        if depth == 1:
            return (g,)
        u, s, vt = svd(g)
        k = min([s.shape[0]] + [shape[0] for shape in shapes[:-1]])  # narrowest layer keeps top-k
        root = s[:k] ** (1.0 / depth)
        middle = [jnp.diag(root)] * (depth - 2)
        blocks = [root[:, None] * vt[:k], *middle, u[:, :k] * root[None, :]]
        return tuple(_embed(b, *shape) for b, shape in zip(blocks, shapes))

    return Model(name="deep_factorization", init=init_fn, predict=end_to_end,
                 label=f"depth {depth} {d1}x{d2}", param_count=sum(r * c for r, c in shapes),
                 activation_size=d1 * d2,
                 info=MappingProxyType({"depth": depth} | ({"factor_rows": (d2, d1)}
                                                           if depth == 2 else {})),
                 output_laplacian=zero_laplacian(end_to_end))
