r"""The robust-PCA data fit of Ding et al. 2022 (Sec. 6) as an objective kind.

.. math:: f(X) = \frac{1}{d_1 d_2}\,\operatorname{dist}^2(Y - X, \Omega)
   = \frac{1}{d_1 d_2}\,\|(Y - X) - P_\Omega(Y - X)\|_F^2,\qquad
   \Omega = \{S : \|S\|_{1,1} \le \rho\},

with :math:`Y` the problem's ``observations``, :math:`\rho` its ``radius`` (the oracle
:math:`\|S^\star\|_{1,1}` of the ``robust_pca`` problem kind) and :math:`P_\Omega` the exact
Euclidean projection onto the l1 ball (:func:`project_l1_ball`, sort-based, Duchi et al. 2008).
The paper writes the fit without :math:`1/(d_1 d_2)`; the factor makes it the mean over the
entries, like the ``squared`` kind's mean over the observations (no 1/2 either). Every entry is
taken as observed (the problem's mask is not read).

:math:`f` is :math:`C^1` (a squared distance to a convex set, gradient
:math:`-\tfrac{2}{d_1 d_2}(R - P_\Omega(R))` in X for :math:`R = Y - X`) but not
:math:`C^2`. The squared distance has a custom JVP that returns this gradient exactly, also at
the kinks of the projection; its second derivative, where it exists, comes from differentiating
the projection (a.e.). Flatness is therefore measured on the paper's **local model** at
:math:`\tilde X` (:func:`local_model_target`, :func:`local_model_problem`):

.. math:: \tilde f_{\tilde X}(X) = \frac{1}{d_1 d_2}\,\|Y - P_\Omega(Y - \tilde X) - X\|_F^2,

a majorant of :math:`f` that equals it at :math:`X = \tilde X` with the same gradient there.

This module imports no JAX at import time (the registry imports it); the functions import it.

References: J. Duchi, S. Shalev-Shwartz, Y. Singer, T. Chandra, "Efficient projections onto
the l1-ball for learning in high dimensions", ICML 2008 (Fig. 1).
"""

from functools import cache
from typing import Literal

from overparam.configs import KindConfig

NO_RADIUS_MSG = ("objective robust_pca needs a problem with a radius (the robust_pca problem "
                 "kind), got {name}")


class RobustPCAObjectiveConfig(KindConfig):
    """(1/(d1 d2)) dist^2(Y - X, l1 ball of the problem's radius): Ding et al.'s robust PCA
    fit, for problems of the ``robust_pca`` kind."""

    kind: Literal["robust_pca"] = "robust_pca"


def _project_and_threshold(v, radius):
    """``(P(v), theta)``: the projection of ``v`` (any shape) onto the l1 ball of ``radius``
    and its soft threshold (0 when ``v`` is inside the ball)."""
    import jax.numpy as jnp

    a = jnp.abs(v).reshape(-1)
    radius = jnp.asarray(radius, a.dtype)
    u = jnp.sort(a)[::-1]
    css = jnp.cumsum(u)
    j = jnp.arange(1, a.size + 1, dtype=a.dtype)
    # the condition holds exactly for j <= rho; none holds only when radius = 0 (theta = u_1)
    cond = u - (css - radius) / j > 0
    rho = jnp.max(jnp.where(cond, jnp.arange(1, a.size + 1), 1))
    theta = (jnp.take(css, rho - 1) - radius) / rho.astype(a.dtype)
    inside = jnp.sum(a) <= radius
    theta = jnp.where(inside, 0.0, jnp.maximum(theta, 0.0)).astype(a.dtype)
    p = jnp.where(inside, v, jnp.sign(v) * jnp.maximum(jnp.abs(v) - theta, 0.0))
    return p, theta


def project_l1_ball(v, radius):
    r"""Exact Euclidean projection of ``v`` onto :math:`\{s : \|s\|_1 \le \rho\}`.

    Sort-based (Duchi et al. 2008, Fig. 1): with :math:`u` the sorted magnitudes (descending),
    :math:`\rho^* = \max\{j : u_j > (\sum_{r \le j} u_r - \rho)/j\}`,
    :math:`\theta = (\sum_{r \le \rho^*} u_r - \rho)/\rho^*`, and
    :math:`P(v) = \operatorname{sign}(v)\max(|v| - \theta, 0)`; ``v`` itself when inside.
    Pure, jittable and vmappable; ``O(n log n)`` for ``n = v.size``.

    Args:
      v: array of any shape (the l1 norm is over all its entries).
      radius: non-negative scalar (may be traced).

    Returns:
      Array shaped like ``v``.
    """
    return _project_and_threshold(v, radius)[0]


@cache
def _distance_sq():
    import jax
    import jax.numpy as jnp

    @jax.custom_jvp
    def distance_sq(v, radius):
        r = v - _project_and_threshold(v, radius)[0]
        return jnp.sum(r * r)

    @distance_sq.defjvp
    def _jvp(primals, tangents):
        # Moreau: d dist^2 / dv = 2 (v - P(v)); d dist^2 / d radius = -2 theta (the multiplier)
        v, radius = primals
        dv, dradius = tangents
        p, theta = _project_and_threshold(v, radius)
        r = v - p
        return jnp.sum(r * r), 2.0 * jnp.vdot(r, dv) - 2.0 * theta * dradius

    return distance_sq


def l1_ball_distance_sq(v, radius):
    r""":math:`\operatorname{dist}^2(v, \{s : \|s\|_1 \le \rho\}) = \|v - P(v)\|^2`, with
    the exact gradient :math:`2(v - P(v))` (custom JVP) and :math:`-2\theta` in the radius."""
    import jax.numpy as jnp

    v = jnp.asarray(v)
    return _distance_sq()(v, jnp.asarray(radius, v.dtype))


def _radius(problem):
    radius = getattr(problem, "radius", None)
    if radius is None:
        raise ValueError(NO_RADIUS_MSG.format(name=type(problem).__name__))
    return radius


def robust_pca_fit(problem, x):
    r"""The fit :math:`\frac{1}{d_1 d_2}\operatorname{dist}^2(Y - X, \Omega)` of ``x``.

    Args:
      problem: a problem with ``observations`` (Y, shape (d1, d2)) and ``radius`` (scalar),
        e.g. of the ``robust_pca`` kind.
      x: candidate matrix, shape (d1, d2).

    Returns:
      Scalar array; 0 at ``x = M`` when the radius is :math:`\|S^\star\|_{1,1}`.

    Raises:
      ValueError: the problem has no ``radius``.
    """
    radius = _radius(problem)
    r = problem.observations - x
    return l1_ball_distance_sq(r, radius) / r.size


def local_model_target(problem, x_ref):
    r"""The target :math:`T = Y - P_\Omega(Y - \tilde X)` of the local model at ``x_ref``.

    The paper measures flatness of the robust-PCA loss (which is not :math:`C^2`) on
    :math:`\tilde f_{\tilde X}(X) = \frac{1}{d_1 d_2}\|T - X\|_F^2` with :math:`T` held fixed:
    it majorizes :func:`robust_pca_fit` (since :math:`P_\Omega(Y - \tilde X) \in \Omega`),
    equals it at :math:`X = \tilde X` and has the same gradient there. At a minimizer
    :math:`\tilde X` (fit 0), :math:`T = \tilde X`. :math:`T` is returned under
    ``stop_gradient``: the local model's Hessian in X is :math:`\frac{2}{d_1 d_2} I`.

    Args:
      problem: as for :func:`robust_pca_fit`.
      x_ref: the point :math:`\tilde X`, shape (d1, d2).

    Returns:
      Array of shape (d1, d2).
    """
    import jax

    radius = _radius(problem)
    y = problem.observations
    return jax.lax.stop_gradient(y - project_l1_ball(y - x_ref, radius))


def local_model_problem(problem, x_ref):
    """The local model at ``x_ref`` as a plain :class:`~overparam.problems.MatrixProblem`:
    every entry observed, ``observations`` = :func:`local_model_target`, the same truth.

    Its :func:`~overparam.objectives.squared_loss` is the local model
    :math:`\\frac{1}{d_1 d_2}\\|T - X\\|_F^2`, so squared-loss tools (e.g. exact
    Gauss-Newton Hessian traces) apply to it unchanged.
    """
    import jax.numpy as jnp

    from overparam.problems import EntryMask, MatrixProblem

    target = local_model_target(problem, x_ref)
    return MatrixProblem(EntryMask(jnp.ones_like(target)), target, problem.truth)


def robust_pca_objective(model, params, batch, hparams):
    """The objective of the ``robust_pca`` kind: :func:`robust_pca_fit` of the model's matrix;
    (total, fit) are equal."""
    del hparams
    fit = robust_pca_fit(batch, model.predict(params))
    return fit, fit


def build(cfg: RobustPCAObjectiveConfig):
    del cfg
    return robust_pca_objective


def robust_pca_local_least_squares(model, params, problem, hparams):
    """The local model :func:`local_model_problem` at the model's matrix, declared for the
    Hessian measures (:mod:`overparam.objectives._local`): their exact trace of a robust-PCA
    run is that of the paper's local model, :math:`\\frac{1}{d_1 d_2}\\|T - X\\|_F^2`."""
    del hparams
    from overparam.objectives._local import LocalLeastSquares

    local = local_model_problem(problem, model.predict(params))
    w = local.operator.weights
    return LocalLeastSquares(local.operator, local.observations, w / w.size)


robust_pca_objective.local_least_squares = robust_pca_local_least_squares
