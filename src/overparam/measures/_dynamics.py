r"""Gradient-flow diagnostics of a deep factorization (Arora, Cohen, Hu, Luo 2019, Sec. 3).

Under gradient flow on the factors from a balanced initialization, the singular values of the
end-to-end matrix :math:`W = U\,\mathrm{diag}(\sigma)\,V^\top` move as

.. math:: \dot\sigma_r = -N\,(\sigma_r^2)^{1-1/N}\,\langle\nabla\ell(W),\, u_r v_r^\top\rangle,

(Theorem 3 of the paper), with time :math:`t` such that gradient descent with step
:math:`\eta` takes :math:`t = \eta \cdot \text{step}`. :func:`sv_rate_predicted` evaluates the
right-hand side, :func:`sv_rate_measured` the left-hand side by a central finite difference of
the singular values along the gradient flow of the factors, so the two can be compared on any
state of any run. :func:`gradient_alignment` measures how close :math:`U^\top\nabla\ell(W)V`
is to diagonal (the paper's Fig. 3, right column), the assumption under which the singular
vectors stay put.

The loss :math:`\ell` is the data fit :func:`overparam.objectives.squared_loss`.
"""

import jax
import jax.numpy as jnp

from overparam._linalg import svd, svdvals
from overparam.objectives import squared_loss, squared_loss_gradient
from overparam.types import Array


def _rel_step(dtype) -> Array:
    # central differences: truncation ~ h^2, rounding ~ eps / h, balanced at h ~ eps^(1/3)
    return jnp.asarray(jnp.finfo(dtype).eps ** (1.0 / 3.0), dtype)


def sv_rate_measured(model, params, problem) -> Array:
    r"""Rate :math:`\dot\sigma_r` of every singular value under gradient flow of the factors.

    A central difference along :math:`\dot\theta = -\nabla_\theta \ell`:
    :math:`(\sigma(\theta - hg) - \sigma(\theta + hg)) / 2h`, with :math:`h\|g\| =
    \epsilon^{1/3}\|\theta\|` for the dtype's machine epsilon. Descending order of
    :math:`\sigma`; meaningful for simple (non-repeated) singular values.
    """
    loss = lambda p: squared_loss(problem, model.predict(p))  # noqa: E731
    g = jax.grad(loss)(params)
    sq = lambda tree: sum(jnp.sum(x * x) for x in jax.tree.leaves(tree))  # noqa: E731
    g_norm = jnp.sqrt(sq(g))
    dtype = jax.tree.leaves(params)[0].dtype
    h = _rel_step(dtype) * jnp.sqrt(sq(params)) / jnp.where(g_norm > 0, g_norm, 1.0)
    move = lambda sign: jax.tree.map(lambda p, d: p + sign * h * d, params, g)  # noqa: E731
    ahead = svdvals(model.predict(move(-1.0)))
    behind = svdvals(model.predict(move(1.0)))
    return jnp.where(g_norm > 0, (ahead - behind) / (2.0 * h), jnp.zeros_like(ahead))


def sv_rate_predicted(model, params, problem) -> Array:
    r""":math:`-N(\sigma_r^2)^{1-1/N}\langle\nabla\ell(W), u_r v_r^\top\rangle` for every r, with N
    the model's depth (``model.info["depth"]``; the paper's Theorem 3, exact for balanced
    factors)."""
    return sv_rate_predicted_at(model.predict(params), problem, model.info["depth"])


def sv_rate_predicted_at(x: Array, problem, depth: int, decomposition=None,
                         grad: Array | None = None) -> Array:
    """:func:`sv_rate_predicted` at end-to-end matrix ``x`` of a depth-``depth`` model (its
    ``svd(x)`` and loss gradient may be given, to share them with other measures)."""
    u, s, vt = svd(x) if decomposition is None else decomposition
    grad = squared_loss_gradient(problem, x) if grad is None else grad
    along = jnp.einsum("ir,ij,rj->r", u, grad, vt)
    return -depth * (s * s) ** (1.0 - 1.0 / depth) * along


def gradient_alignment(x: Array, grad: Array, decomposition=None) -> tuple[Array, Array]:
    r"""Mean :math:`|\cdot|` of the diagonal and of the off-diagonal of
    :math:`U^\top \nabla\ell(W) V` (thin SVD of ``x``, so a k x k matrix with
    k = min(d1, d2); ``svd(x)`` may be given). Off-diagonal is 0 for k = 1."""
    u, _, vt = svd(x) if decomposition is None else decomposition
    a = jnp.abs(u.T @ grad @ vt.T)
    k = a.shape[0]
    diag = jnp.sum(jnp.diagonal(a))
    off = (jnp.sum(a) - diag) / max(k * k - k, 1)
    return diag / k, off


def alignment_diag(model, params, problem) -> Array:
    x = model.predict(params)
    return gradient_alignment(x, squared_loss_gradient(problem, x))[0]


def alignment_offdiag(model, params, problem) -> Array:
    x = model.predict(params)
    return gradient_alignment(x, squared_loss_gradient(problem, x))[1]
