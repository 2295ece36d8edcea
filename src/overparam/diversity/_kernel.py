r"""The kernel of the extended feature matrix and its spherical-harmonic spectrum.

For :math:`w` uniform on :math:`S^{d-1}` (or standard Gaussian),
:math:`\mathbb{E}_w[D^\top D]/n = K` with

.. math:: K(x, y) = \langle x, y\rangle\, \mathbb{E}_w\big[1[w^\top x > 0]\,1[w^\top y > 0]\big]
   = \langle x, y\rangle\, \frac{\pi - \theta_{xy}}{2\pi},

:math:`\theta_{xy}` the angle between x and y: the linear kernel times half the degree-0
arc-cosine kernel of Cho and Saul. On the unit sphere it is a function of
:math:`t = \langle x, y\rangle` alone, :math:`k(t) = t/4 + t \arcsin(t)/(2\pi)`.

References: B. Xie, Y. Liang, L. Song, AISTATS 2017 (the kernel and its spectrum);
Y. Cho, L. Saul, "Kernel methods for deep learning", NIPS 2009 (arc-cosine kernels).
"""

import functools
import math
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike
from scipy import special

from overparam._linalg import eigvalsh
from overparam.types import Array


def relu_kernel(X: ArrayLike, Y: ArrayLike) -> Array:
    r"""Gram matrix :math:`K_{ij} = \langle x_i, y_j\rangle (\pi - \theta_{ij}) / (2\pi)`.

    Valid for vectors of any norm (the angle uses the normalised vectors, the inner product
    does not); a zero row gives a zero row of K. The angle is
    :math:`2\,\mathrm{atan2}(\|\hat x - \hat y\|, \|\hat x + \hat y\|)`, accurate to
    rounding everywhere; ``arccos`` of the cosine loses half the digits near 0 and pi (on the
    diagonal, a cosine of 1 - eps gives an angle of sqrt(2 eps)). It costs an (m, p, d)
    temporary: for small samples (the discrepancy experiment's m = 100, 200).

    Args:
      X: shape (m, d).
      Y: shape (p, d).

    Returns:
      K, shape (m, p).
    """
    X, Y = jnp.asarray(X), jnp.asarray(Y)
    if X.ndim != 2 or Y.ndim != 2 or X.shape[1] != Y.shape[1]:
        raise ValueError(f"need X (m, d) and Y (p, d); got {X.shape} and {Y.shape}")
    dot = X @ Y.T

    def unit(A):
        n = jnp.linalg.norm(A, axis=1, keepdims=True)
        return A / jnp.where(n > 0, n, 1.0)

    u, v = unit(X)[:, None, :], unit(Y)[None, :, :]
    theta = 2 * jnp.arctan2(jnp.linalg.norm(u - v, axis=-1), jnp.linalg.norm(u + v, axis=-1))
    return dot * (jnp.pi - theta) / (2 * jnp.pi)


def kernel_lambda_min(X: ArrayLike) -> Array:
    r"""Smallest eigenvalue :math:`\lambda_{\min}(K)` of the Gram ``relu_kernel(X, X)``.

    The limit :math:`s_m(D)^2 / n \to \lambda_{\min}(K)` for many uniform random units. Safe
    under ``vmap`` on several CPU devices (:func:`overparam._linalg.eigvalsh`).

    Args:
      X: data, shape (m, d).

    Returns:
      :math:`\lambda_{\min}(K)`, shape ().
    """
    return eigvalsh(relu_kernel(X, X))[0]


class KernelSpectrum(NamedTuple):
    """Funk-Hecke spectrum of :func:`relu_kernel` on the unit sphere, one entry per degree."""

    eigenvalues: np.ndarray  # shape=(max_degree + 1,), float64; entry u is lambda_u
    multiplicities: np.ndarray  # shape=(max_degree + 1,), float64; entry u is N(d, u)


def harmonic_multiplicity(d: int, u: int) -> int:
    r"""Dimension :math:`N(d, u)` of the degree-u spherical harmonics on :math:`S^{d-1}`.

    .. math:: N(d, 0) = 1,\qquad N(d, u) = \frac{2u + d - 2}{u}\binom{u + d - 3}{u - 1}.
    """
    if d < 2 or u < 0:
        raise ValueError(f"need d >= 2 and u >= 0, got d={d}, u={u}")
    if u == 0:
        return 1
    return (2 * u + d - 2) * math.comb(u + d - 3, u - 1) // u


def legendre_d(u_max: int, d: int, t: np.ndarray) -> np.ndarray:
    r"""Legendre polynomials of dimension d, :math:`P_u^{(d)}(t)` for u = 0..u_max.

    :math:`P_u^{(d)} = C_u^{(\alpha)} / C_u^{(\alpha)}(1)`, the Gegenbauer polynomial with
    :math:`\alpha = (d-2)/2` normalised to :math:`P_u^{(d)}(1) = 1` (Chebyshev :math:`T_u` for
    d = 2). Computed by the three-term recurrence
    :math:`(u + d - 2) P_{u+1} = (2u + d - 2)\, t\, P_u - u P_{u-1}`, which avoids the overflow
    of :math:`C_u^{(\alpha)}(1)` for large d.

    Returns:
      shape (u_max + 1, *t.shape), float64; row u is :math:`P_u^{(d)}(t)`.
    """
    t = np.asarray(t, np.float64)
    p = np.empty((u_max + 1, *t.shape))
    p[0] = 1.0
    if u_max >= 1:
        p[1] = t
    for u in range(1, u_max):
        p[u + 1] = ((2 * u + d - 2) * t * p[u] - u * p[u - 1]) / (u + d - 2)
    return p


def angle_quadrature(d: int, num_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    r"""Nodes and weights for :math:`\mathbb{E}[g(\theta)]`, :math:`\theta` the angle between two
    independent uniform points of :math:`S^{d-1}` (density :math:`\propto \sin^{d-2}\theta` on
    :math:`[0, \pi]`), by Gauss-Legendre in :math:`\theta`; each of shape (num_nodes,), float64.
    """
    phi, w = special.roots_legendre(num_nodes)
    phi = (phi + 1.0) * (np.pi / 2)
    log_density = (d - 2) * np.log(np.sin(phi))  # the nodes avoid 0 and pi
    weight = w * np.exp(log_density - log_density.max())
    return phi, weight / weight.sum()  # normalised by the same rule: E[1] = 1 exactly


@functools.lru_cache(maxsize=64)
def _spectrum(d: int, max_degree: int, num_nodes: int) -> tuple[tuple, tuple]:
    phi, weight = angle_quadrature(d, num_nodes)
    t = np.cos(phi)
    k = t * (np.pi - phi) / (2 * np.pi)  # k(cos phi), smooth in phi (arcsin t = pi/2 - phi)
    lam = legendre_d(max_degree, d, t) @ (weight * k)
    mult = [float(harmonic_multiplicity(d, u)) for u in range(max_degree + 1)]
    return tuple(lam), tuple(mult)


def kernel_spectrum(d: int, max_degree: int, *, num_nodes: int | None = None) -> KernelSpectrum:
    r"""Eigenvalues and multiplicities of :func:`relu_kernel` on :math:`S^{d-1}`, by Funk-Hecke.

    The integral operator :math:`(T g)(x) = \mathbb{E}_{y \sim \sigma}[k(\langle x,y\rangle)
    g(y)]`, with :math:`\sigma` the *normalised* surface measure, acts on degree-u spherical
    harmonics as multiplication by

    .. math:: \lambda_u = \frac{|S^{d-2}|}{|S^{d-1}|}\int_{-1}^{1} k(t)\, P_u^{(d)}(t)\,
       (1 - t^2)^{(d-3)/2}\, dt,

    with multiplicity :math:`N(d, u)` (:func:`harmonic_multiplicity`). So
    :math:`\sum_u N(d,u) \lambda_u = k(1) = 1/2`, :math:`\lambda_1 = 1/(4d)` exactly and
    :math:`\lambda_u = 0` for odd :math:`u \ge 3`; the eigenvalues of a Gram matrix of m
    uniform points, divided by m, approach these. The integral is taken in
    :math:`t = \cos\varphi`, where the integrand is smooth, by Gauss-Legendre quadrature on
    :math:`[0, \pi]` in float64 (results cached per arguments).

    Args:
      d: ambient dimension (the sphere is :math:`S^{d-1}`), d >= 2.
      max_degree: largest degree u computed.
      num_nodes: quadrature nodes; default ``2 * (max_degree + d) + 200``, which gives an
        absolute error of about :math:`10^{-13}\lambda_0` or less (the odd degrees >= 3, zero
        in exact arithmetic, come out below that for d from 2 to 784).

    Returns:
      :class:`KernelSpectrum` with ``eigenvalues`` and ``multiplicities``, each of shape
      (max_degree + 1,), index u = degree.
    """
    if d < 2:
        raise ValueError(f"d must be >= 2, got {d}")
    if max_degree < 0:
        raise ValueError(f"max_degree must be >= 0, got {max_degree}")
    nodes = 2 * (max_degree + d) + 200 if num_nodes is None else num_nodes
    lam, mult = _spectrum(int(d), int(max_degree), int(nodes))
    return KernelSpectrum(np.array(lam), np.array(mult))
