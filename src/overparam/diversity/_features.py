r"""The extended feature matrix D of a one-hidden-layer ReLU net and the loss bound it gives.

The net is :math:`f(x) = \sum_{k=1}^n v_k\,\sigma(w_k^\top x)` with :math:`\sigma(u) = \max(0, u)`,
first-layer weights ``W`` of shape (n, d), output signs ``v`` of shape (n,) and data ``X`` of
shape (m, d). For the squared loss :math:`L(W) = \frac{1}{2m}\sum_i r_i^2`,
:math:`r_i = f(x_i) - y_i`, the gradient is :math:`\nabla_W L = \frac1m D r` (flattened row by
row, so entry :math:`k d + j` is :math:`\partial L / \partial W_{kj}`), where column i of
:math:`D \in \mathbb{R}^{dn \times m}` is :math:`(v \odot a_i) \otimes x_i`,
:math:`a_i = 1[W x_i > 0]`.

References: B. Xie, Y. Liang, L. Song, "Diverse neural network learns true target functions",
AISTATS 2017 (the extended feature matrix and its smallest singular value :math:`s_m(D)`).
"""

import jax.numpy as jnp
from jax.typing import ArrayLike

from overparam._linalg import eigvalsh
from overparam.types import Array


def _check(W: Array, v: Array, X: Array) -> None:
    if W.ndim != 2 or X.ndim != 2 or v.ndim != 1:
        raise ValueError(f"need W (n, d), v (n,), X (m, d); got W {W.shape}, v {v.shape}, "
                         f"X {X.shape}")
    if W.shape[1] != X.shape[1] or v.shape[0] != W.shape[0]:
        raise ValueError(f"shapes disagree: W {W.shape}, v {v.shape}, X {X.shape} "
                         "(W is (n, d), v is (n,), X is (m, d))")


def signed_patterns(W: ArrayLike, v: ArrayLike, X: ArrayLike) -> Array:
    r"""Signed activation patterns :math:`A_{ik} = v_k\,1[w_k^\top x_i > 0]`, shape (m, n).

    The indicator is strict: a unit exactly at its kink (:math:`w_k^\top x_i = 0`) counts as
    off, which is also the derivative ``jax.nn.relu`` uses there.
    """
    W, v, X = jnp.asarray(W), jnp.asarray(v), jnp.asarray(X)
    _check(W, v, X)
    on = (X @ W.T > 0).astype(W.dtype)
    return on * v[None, :]


def extended_features(W: ArrayLike, v: ArrayLike, X: ArrayLike) -> Array:
    r"""The extended feature matrix :math:`D`, shape (d n, m), formed explicitly.

    .. math:: D_{k d + j,\, i} = v_k\, 1[w_k^\top x_i > 0]\, x_{ij},

    i.e. column i is :math:`(v \odot a_i) \otimes x_i`. Memory is :math:`d n m`; meant for
    small cases and as a reference. :func:`s_min_D` gets the smallest singular value without it.

    Args:
      W: first-layer weights, shape (n, d).
      v: output weights (signs :math:`\pm 1` in the paper), shape (n,).
      X: data, one example per row, shape (m, d).

    Returns:
      D, shape (d n, m).
    """
    X = jnp.asarray(X)
    A = signed_patterns(W, v, X)
    m, n = A.shape
    return jnp.einsum("ik,ij->kji", A, X).reshape(n * X.shape[1], m)


def feature_gram(W: ArrayLike, v: ArrayLike, X: ArrayLike) -> Array:
    r"""The Gram matrix :math:`D^\top D = (X X^\top) \circ (A A^\top)`, shape (m, m).

    Here :math:`A` is :func:`signed_patterns`, so :math:`A A^\top = \tilde A\,\mathrm{diag}(v^2)
    \tilde A^\top` with :math:`\tilde A_{ik} = 1[w_k^\top x_i > 0]`; with :math:`v \in \{\pm1\}^n`
    it does not depend on v. Costs :math:`O(m^2 (n + d))` and never forms D.
    """
    X = jnp.asarray(X)
    A = signed_patterns(W, v, X)
    return (X @ X.T) * (A @ A.T)


def s_min_D(W: ArrayLike, v: ArrayLike, X: ArrayLike) -> Array:
    r"""The m-th (smallest of m) singular value :math:`s_m(D)` of the extended feature matrix.

    .. math:: s_m(D) = \sqrt{\max(0,\ \lambda_{\min}((X X^\top) \circ (A A^\top)))}

    computed from the m x m Gram (:func:`feature_gram`) without forming D. When
    :math:`d n < m`, D has at most dn nonzero singular values and the convention here is
    :math:`s_m(D) = 0` (returned exactly, decided from the static shapes).

    Jittable, and safe under ``vmap`` over ``W`` (or any argument) on several CPU devices: the
    eigenvalues come from :func:`overparam._linalg.eigvalsh`. Not differentiable in ``W``
    (the patterns are piecewise constant).

    .. note:: Going through the Gram squares the condition number: the eigenvalue is accurate
       to about :math:`\epsilon \|D\|^2`, so :math:`s_m(D)` below about
       :math:`\sqrt{\epsilon}\,\|D\|` (float32: :math:`3\cdot10^{-4}\|D\|`; float64:
       :math:`10^{-8}\|D\|`) cannot be told from 0. Rank-deficient D returns such a small
       value, not exactly 0.

    Args:
      W: first-layer weights, shape (n, d).
      v: output weights, shape (n,).
      X: data, shape (m, d).

    Returns:
      :math:`s_m(D)`, shape ().
    """
    W, X = jnp.asarray(W), jnp.asarray(X)
    gram = feature_gram(W, v, X)
    (n, d), m = W.shape, X.shape[0]
    if d * n < m:
        return jnp.zeros((), gram.dtype)
    return jnp.sqrt(jnp.maximum(eigvalsh(gram)[0], 0.0))


def loss_bound(grad_norm_sq: ArrayLike, s_min: ArrayLike, m: int) -> Array:
    r"""Upper bound on the training loss from the gradient norm and :math:`s_m(D)`.

    .. math:: L(W) \le \frac{m\, \|\nabla_W L\|_F^2}{2\, s_m(D)^2}

    for the loss normalised as :math:`L(W) = \frac{1}{2m}\sum_{i=1}^m (f(x_i) - y_i)^2` (the
    paper notes' choice). It follows from :math:`\nabla_W L = \frac1m D r` and
    :math:`\|D r\| \ge s_m(D)\|r\|` when :math:`dn \ge m`, and is tight when the residual is
    along the right singular vector of :math:`s_m(D)`. With another normalisation
    :math:`L' = c L` the bound scales the same way: pass the gradient of :math:`L` itself.
    Returns ``inf`` where ``s_min`` is 0 (no bound).

    Args:
      grad_norm_sq: :math:`\|\nabla_W L\|_F^2`, any shape.
      s_min: :math:`s_m(D)` (:func:`s_min_D`), broadcastable with ``grad_norm_sq``.
      m: number of training examples.

    Returns:
      The bound, shape of the broadcast inputs.
    """
    if m < 1:
        raise ValueError(f"m must be >= 1, got {m}")
    g, s = jnp.asarray(grad_norm_sq), jnp.asarray(s_min)
    s2 = s * s
    safe = jnp.where(s2 > 0, s2, 1.0)
    return jnp.where(s2 > 0, m * g / (2.0 * safe), jnp.inf)
