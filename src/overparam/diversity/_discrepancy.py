r"""L2 discrepancy of the unit directions and the diversity regularizer built on it.

For the directions :math:`u_k = w_k / \|w_k\|` (k = 1..n) on :math:`S^{d-1}` and a family of
sets :math:`S(x, y)` indexed by two independent uniform points x, y, the discrepancy is
:math:`\mathrm{disc}(x, y) = \frac1n \#\{k : u_k \in S(x, y)\} - \sigma(S(x, y))` and the L2
discrepancy is :math:`\mathrm{L2}(W)^2 = \mathbb{E}_{x,y}[\mathrm{disc}(x, y)^2]`. Three
families, each with a Stolarsky-type closed form in the pairwise angles
:math:`\theta_{kl}` (including k = l, where :math:`\theta = 0`) and :math:`c_{kl} = 1 -
2\theta_{kl}/\pi`:

- ``"lune"``: :math:`S = \{u : u^\top x > 0,\ u^\top y > 0\}`, the set in :math:`D^\top D`,

  .. math:: \mathrm{L2}_{\rm lune}^2 = \frac1{n^2}\sum_{k,l}\Big(\frac{\pi - \theta_{kl}}{2\pi}
     \Big)^2 - C_{\rm lune}(d),\quad C_{\rm lune}(d) = \mathbb{E}\Big[\Big(\frac{\pi -
     \theta_{xy}}{2\pi}\Big)^2\Big];

- ``"wedge"`` (Bilyk and Lacey's one-bit sensing sets
  :math:`S = \{u : \mathrm{sign}(u^\top x) \ne \mathrm{sign}(u^\top y)\}`),

  .. math:: \mathrm{L2}_{\rm wedge}^2 = \frac1{n^2}\sum_{k,l}\Big(\frac12 -
     \frac{\theta_{kl}}{\pi}\Big)^2 - C_{\rm wedge}(d),\quad C_{\rm wedge}(d) =
     \mathrm{Var}(\theta_{xy})/\pi^2;

- ``"hemisphere"`` (:math:`S = \{u : u^\top x > 0\}`, y unused),
  :math:`\mathrm{L2}_{\rm hemi}^2 = \frac{1}{4n^2}\sum_{k,l} c_{kl}
  = \frac1{n^2}\sum_{k,l}\frac{\pi - \theta_{kl}}{2\pi} - \frac14` (:math:`c_{kl}` is not
  the cosine; the paper notes' "hemi" sum :math:`\frac1{n^2}\sum c_{kl}` is 4 times this).

Term by term :math:`((\pi-\theta)/(2\pi))^2 = (1 + c)^2/16`, so
:math:`C_{\rm lune} = 1/16 + C_{\rm wedge}/4` and
:math:`\mathrm{L2}_{\rm lune}^2 = \frac12 \mathrm{L2}_{\rm hemi}^2 + \frac14
\mathrm{L2}_{\rm wedge}^2`. The constants are computed by quadrature over the angle density
:math:`\propto \sin^{d-2}\theta`.

References: B. Xie, Y. Liang, L. Song, AISTATS 2017 (discrepancy of the units and a regularizer
promoting diversity); D. Bilyk, M. Lacey, "One bit sensing, discrepancy, and Stolarsky
principle", 2015 (the wedge form).
"""

import functools

import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from overparam.diversity._kernel import angle_quadrature
from overparam.types import Array

FORMS = ("lune", "wedge", "hemisphere")


def _pair_term(form: str, cos: Array) -> Array:
    """Pair function g(c) of each form, with theta = arccos(c)."""
    theta = jnp.arccos(cos)
    if form == "lune":
        return ((jnp.pi - theta) / (2 * jnp.pi)) ** 2
    if form == "wedge":
        return (0.5 - theta / jnp.pi) ** 2
    return 0.5 - theta / (2 * jnp.pi)  # = (1 + c)/4 with c = 1 - 2 theta/pi


def _check_form(form: str) -> None:
    if form not in FORMS:
        raise ValueError(f"form must be one of {FORMS}, got {form!r}")


@functools.lru_cache(maxsize=256)
def discrepancy_constant(d: int, form: str = "lune") -> float:
    r"""The constant :math:`C_{\rm form}(d) = \mathbb{E}_{x,y}[g(\theta_{xy})]` of the closed form.

    :math:`g` is the form's pair function (:math:`((\pi-\theta)/(2\pi))^2`,
    :math:`(1/2 - \theta/\pi)^2` or :math:`(\pi - \theta)/(2\pi)`) and :math:`\theta_{xy}` the angle
    between two independent uniform points of :math:`S^{d-1}`, density
    :math:`\propto\sin^{d-2}\theta`. Gauss-Legendre quadrature in float64 with
    ``2 d + 400`` nodes. ``"hemisphere"`` gives exactly 1/4; ``"wedge"`` in d = 3 is
    :math:`1/4 - 2/\pi^2`.
    """
    _check_form(form)
    if d < 2:
        raise ValueError(f"d must be >= 2, got {d}")
    theta, weight = angle_quadrature(int(d), 2 * int(d) + 400)
    if form == "lune":
        g = ((np.pi - theta) / (2 * np.pi)) ** 2
    elif form == "wedge":
        g = (0.5 - theta / np.pi) ** 2
    else:
        g = 0.5 - theta / (2 * np.pi)
    return float(weight @ g)


def unit_directions(W: ArrayLike) -> Array:
    r"""Rows :math:`w_k / \|w_k\|` of ``W`` (shape (n, d)); a zero row stays zero.

    Differentiable, with a finite gradient also at a zero row.
    """
    W = jnp.asarray(W)
    if W.ndim != 2:
        raise ValueError(f"W must have shape (n, d), got {W.shape}")
    sq = jnp.sum(W * W, axis=1, keepdims=True)
    nonzero = sq > 0
    return jnp.where(nonzero, W / jnp.sqrt(jnp.where(nonzero, sq, 1.0)), 0.0)


def _cosines(W: Array) -> Array:
    u = unit_directions(W)
    return u @ u.T


def l2_discrepancy(W: ArrayLike, *, form: str = "lune", squared: bool = False) -> Array:
    r"""L2 discrepancy of the unit directions of the rows of ``W``, in closed form.

    .. math:: \mathrm{L2}(W)^2 = \frac1{n^2}\sum_{k,l=1}^n g(\theta_{kl}) - C_{\rm form}(d)

    (module docstring for g and the three forms; :func:`discrepancy_constant` for C). The
    diagonal uses :math:`\theta_{kk} = 0` exactly. The square is clipped at 0 before the square
    root. In float32 the subtraction loses about :math:`10^{-8}` absolutely, so values below
    about :math:`10^{-4}` (n beyond :math:`10^7`) are roundoff. A zero row is treated as a
    direction orthogonal to every other row.

    Args:
      W: weights, shape (n, d); only the directions of the rows matter.
      form: ``"lune"`` (the set in :math:`D^\top D`), ``"wedge"`` (Bilyk-Lacey) or
        ``"hemisphere"``.
      squared: return :math:`\mathrm{L2}^2` (unclipped) instead of :math:`\mathrm{L2}`.

    Returns:
      shape ().
    """
    _check_form(form)
    W = jnp.asarray(W)
    n, d = W.shape
    eye = jnp.eye(n, dtype=bool)
    cos = jnp.where(eye, 1.0, jnp.clip(_cosines(W), -1.0, 1.0))
    sq = jnp.mean(_pair_term(form, cos)) - discrepancy_constant(d, form)
    return sq if squared else jnp.sqrt(jnp.maximum(sq, 0.0))


def diversity_regularizer(W: ArrayLike, *, form: str = "lune", eps: float = 1e-6,
                          include_constant: bool = False) -> Array:
    r"""Diversity regularizer :math:`R(W)`: the off-diagonal part of :math:`\mathrm{L2}(W)^2`.

    .. math:: R(W) = \frac1{n^2}\sum_{k \ne l} g\big(\arccos \mathrm{clip}(\langle u_k,
       u_l\rangle, -1 + \epsilon, 1 - \epsilon)\big),\qquad u_k = w_k / \|w_k\|,

    with g the pair function of ``form``. It is scale-invariant (uses the directions only) and
    costs :math:`O(n^2 d)`. With ``include_constant`` it adds :math:`g(0)/n - C_{\rm form}(d)`,
    which makes it equal to :func:`l2_discrepancy` (squared) wherever no cosine is clamped;
    the gradient is the same either way.

    The exact R variant of the paper is not known (the notes reconstruct it, [R]). The default
    ``"lune"`` is the choice that controls :math:`\|D^\top D/n - K\|_F` (it pushes pairs apart;
    its minimisers are uniform-like); ``"wedge"`` is the Bilyk-Lacey ablation, invariant under
    :math:`w_k \to -w_k`, which pushes angles towards :math:`\pi/2`.

    .. note:: :math:`d\arccos c/dc = -1/\sqrt{1-c^2}` is infinite at :math:`c = \pm 1`
       (duplicated or antipodal units). The clamp keeps the gradient finite, at most about
       :math:`1/\sqrt{2\epsilon}` per pair; a pair inside the clamped band contributes *no*
       gradient (the clamp is flat there), so exactly duplicated units are not separated by R
       alone: random initialisation or noise breaks the tie. In float32 use ``eps`` >= 1e-6.

    Args:
      W: first-layer weights, shape (n, d), n >= 1.
      form: ``"lune"`` (default), ``"wedge"`` or ``"hemisphere"``.
      eps: clamp margin on the cosines, in (0, 1).
      include_constant: add the diagonal and constant terms of :math:`\mathrm{L2}^2`.

    Returns:
      :math:`R(W)`, shape (). Differentiable in ``W``.
    """
    _check_form(form)
    if not 0.0 < eps < 1.0:
        raise ValueError(f"eps must be in (0, 1), got {eps}")
    W = jnp.asarray(W)
    n, d = W.shape
    cos = jnp.clip(_cosines(W), -1.0 + eps, 1.0 - eps)
    off = ~jnp.eye(n, dtype=bool)
    r = jnp.sum(jnp.where(off, _pair_term(form, cos), 0.0)) / n**2
    if include_constant:
        g0 = 0.5 if form == "hemisphere" else 0.25
        r = r + g0 / n - discrepancy_constant(d, form)
    return r
