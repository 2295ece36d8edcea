r"""Flat solutions of low-rank recovery by convex relaxation (Ding, Drusvyatskiy, Fazel,
Harchaoui 2022, Thm 3.2 and Sec. 8-9).

The flattest minimizers of :math:`f(L, R) = \frac1m\|\mathcal A(LR^\top) - b\|^2` (least
scaled Hessian trace :math:`2\|D_1L\|_F^2 + 2\|D_2R\|_F^2` over the minimizers) solve
:math:`\min \|D_1 X D_2\|_*` s.t. :math:`\mathcal A(X) = b`, :math:`\operatorname{rank} X \le
k`; dropping the rank constraint gives the relaxation

.. math:: \min_Y \|Y\|_* \quad\text{s.t.}\quad \mathcal A(D_1^{-1} Y D_2^{-1}) = b,
   \qquad D_1 = \Big(\tfrac{1}{m d_2}\sum_i A_iA_i^\top\Big)^{1/2},\
   D_2 = \Big(\tfrac{1}{m d_1}\sum_i A_i^\top A_i\Big)^{1/2},

a nuclear-norm minimization with the rescaled measurements
:math:`\langle D_1^{-1}A_iD_2^{-1}, Y\rangle`. Its solution :math:`Y = U\Sigma V^\top` gives
the flat factors :math:`L = D_1^{-1}U\Sigma^{1/2}`, :math:`R = D_2^{-1}V\Sigma^{1/2}` and the
matrix :math:`X = D_1^{-1}YD_2^{-1} = LR^\top`. Here:

* **Entry sampling** (completion): :math:`D_1, D_2` are diagonal, the square roots of the
  row and column counts over :math:`m d_2` and :math:`m d_1`, so the relaxation is completion
  of the rescaled entries :math:`(D_1)_{ii}(D_2)_{jj}\,y_{ij}` (a weighted trace norm with the
  empirical marginals).
* **Symmetric measurements** (every :math:`A_i = A_i^\top`: the quadratic network, symmetric
  Gaussian sensing): :math:`D_1 = D_2 = D` and the relaxation is the paper's
  :math:`\min \|DZD\|_*` s.t. :math:`\mathcal A(Z) = y` with :math:`Y = DZD`. Its solution is
  symmetric (the iterates stay so; the result is symmetrized), and the factors are those of the
  network, :math:`U_1 = D^{-1}W_+\Lambda_+^{1/2}`, :math:`U_2 = D^{-1}W_-|\Lambda_-|^{1/2}`
  from :math:`Y = W\Lambda W^\top`.
* **Robust PCA** (:class:`~overparam.problems.kinds.robust_pca.RobustPCAProblem`): every
  entry is observed, so :math:`D_1, D_2 \propto I` and flat = norm-minimal:
  :math:`\min\|X\|_*` s.t. :math:`\|Y - X\|_{1,1} \le \|S^\natural\|_{1,1}`, factors
  :math:`U\Sigma^{1/2}`, :math:`V\Sigma^{1/2}`.
* **Vectors** (``d x 1`` problems: sparse recovery, Sec. 9), taken as the depth-k Hadamard
  model :math:`x = v_1\odot\cdots\odot v_k`: the flat solutions minimize
  :math:`\sum_j D_{jj}|x_j|^q`, :math:`q = 2(k-1)/k`, :math:`D = \operatorname{diag}(\|a_j\|^2
  / m)` over the columns :math:`a_j` of A, s.t. :math:`Ax = b`; factors :math:`|v_l| =
  |x|^{1/k}` (AM-GM is tight there), the sign on :math:`v_1`.

The weights are computed in float64 NumPy, once per problem. They are **singular** when the
smallest eigenvalue of :math:`D_1^2` or :math:`D_2^2` is at most :data:`SINGULAR_RTOL` times
the largest (completion with an empty row or column); the relaxation is then undefined and
the solve reports so (``singular_weights``).
"""

from typing import NamedTuple

import numpy as np

SINGULAR_RTOL = 1e-12  # D^2 singular when lambda_min <= this * lambda_max


class FlatWeights(NamedTuple):
    """The rescaling of a problem's measurements (float64 NumPy).

    Attributes:
      d1_sq, d2_sq: :math:`D_1^2` (d1, d1) and :math:`D_2^2` (d2, d2).
      d1_inv, d2_inv: :math:`D_1^{-1}`, :math:`D_2^{-1}` (NaN where singular).
      singular: whether either is singular (see :data:`SINGULAR_RTOL`).
      symmetric: whether every measurement matrix is symmetric (square problems only).
    """

    d1_sq: np.ndarray
    d2_sq: np.ndarray
    d1_inv: np.ndarray
    d2_inv: np.ndarray
    singular: bool
    symmetric: bool


def _inverse_sqrt(a: np.ndarray) -> tuple[np.ndarray, bool]:
    """:math:`A^{-1/2}` of a symmetric PSD matrix and whether A is singular."""
    lam, vec = np.linalg.eigh(0.5 * (a + a.T))
    top = max(float(lam.max()), 0.0)
    singular = top <= 0 or float(lam.min()) <= SINGULAR_RTOL * top
    if singular:
        return np.full_like(a, np.nan), True
    return (vec / np.sqrt(lam)) @ vec.T, False


def flat_weights(op) -> FlatWeights:
    """:math:`D_1^2`, :math:`D_2^2` of an operator, their inverse square roots, and whether
    its measurements are symmetric. Entry masks and rank-one operators in closed form, any
    other operator from its dense rows."""
    d1, d2 = op.shape
    mask = op.entry_mask()
    if mask is not None:
        w = (np.asarray(mask) > 0).astype(np.float64)
        m = max(w.sum(), 1.0)
        d1_sq, d2_sq = np.diag(w.sum(1) / (m * d2)), np.diag(w.sum(0) / (m * d1))
        symmetric = False
    elif hasattr(op, "left") and hasattr(op, "right"):  # rank-one: A_i = a_i b_i^T
        real = np.asarray(op.weights).reshape(-1) > 0
        a = np.asarray(op.left, np.float64)[real]
        b = np.asarray(op.right, np.float64)[real]
        m = max(len(a), 1)
        d1_sq = (a * (b * b).sum(1, keepdims=True)).T @ a / (m * d2)
        d2_sq = (b * (a * a).sum(1, keepdims=True)).T @ b / (m * d1)
        symmetric = d1 == d2 and np.array_equal(a, b)
    else:
        mats = op.dense_rows().reshape(-1, d1, d2)  # the real A_i
        m = max(len(mats), 1)
        rows = mats.transpose(1, 0, 2).reshape(d1, -1)  # [A_1 ... A_m], d1 x m*d2
        cols = mats.reshape(-1, d2)  # [A_1; ...; A_m], m*d1 x d2
        d1_sq = rows @ rows.T / (m * d2)  # sum_i A_i A_i^T / (m d2)
        d2_sq = cols.T @ cols / (m * d1)  # sum_i A_i^T A_i / (m d1)
        symmetric = d1 == d2 and bool(np.allclose(mats, mats.transpose(0, 2, 1), rtol=0,
                                                  atol=1e-12 * max(np.abs(mats).max(), 1e-300)))
    d1_inv, s1 = _inverse_sqrt(d1_sq)
    d2_inv, s2 = _inverse_sqrt(d2_sq)
    return FlatWeights(d1_sq, d2_sq, d1_inv, d2_inv, s1 or s2, symmetric)


def rescaled_problem(problem, weights: FlatWeights):
    """The relaxation's nuclear-norm problem in Y: the same observations of
    :math:`\\langle D_1^{-1}A_iD_2^{-1}, Y\\rangle`, in the problem's dtype. Entry masks keep
    their mask (the observations are rescaled instead); other operators become a
    :class:`~overparam.problems.DenseSensing` of the rescaled matrices with the same padding."""
    import jax.numpy as jnp

    from overparam.problems import DenseSensing, MatrixProblem

    op, y = problem.operator, problem.observations
    dtype = y.dtype
    if op.entry_mask() is not None:
        scale = np.outer(1.0 / np.diag(weights.d1_inv), 1.0 / np.diag(weights.d2_inv))
        y_new = np.asarray(y, np.float64).reshape(scale.shape) * scale
        return MatrixProblem(op, jnp.asarray(y_new.reshape(y.shape), dtype), None)
    mats = np.asarray(op.as_matrix(), np.float64).reshape(-1, *op.shape)
    m, (d1, d2) = len(mats), op.shape
    mats = (mats.reshape(-1, d2) @ weights.d2_inv).reshape(m, d1, d2)  # A_i D2^-1
    mats = (weights.d1_inv @ mats.transpose(1, 0, 2).reshape(d1, -1)).reshape(
        d1, m, d2).transpose(1, 0, 2)  # D1^-1 A_i D2^-1 (padding rows stay 0)
    if weights.symmetric:
        mats = 0.5 * (mats + mats.transpose(0, 2, 1))
    new_op = DenseSensing(jnp.asarray(mats.reshape(len(mats), -1), dtype), op.weights,
                          jnp.zeros(op.shape, dtype))
    return MatrixProblem(new_op, y, None)


def two_factors(y: np.ndarray, left_inv: np.ndarray, right_inv: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    r"""Factors :math:`L = D_1^{-1}U\Sigma^{1/2}`, :math:`R = D_2^{-1}V\Sigma^{1/2}` of
    :math:`Y = U\Sigma V^\top` (full SVD, width min(d1, d2)), so :math:`LR^\top =
    D_1^{-1}YD_2^{-1}` and :math:`(D_1L, D_2R)` is balanced."""
    u, s, vt = np.linalg.svd(y, full_matrices=False)
    root = np.sqrt(s)
    return left_inv @ (u * root), right_inv @ (vt.T * root)


def symmetric_factors(y: np.ndarray, inv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Factors :math:`U_1 = D^{-1}W\Lambda_+^{1/2}`, :math:`U_2 = D^{-1}W\Lambda_-^{1/2}` of a
    symmetric :math:`Y = W\Lambda W^\top` (width d each, zero columns for the other sign), so
    :math:`U_1U_1^\top - U_2U_2^\top = D^{-1}YD^{-1}`."""
    lam, w = np.linalg.eigh(0.5 * (y + y.T))
    return inv @ (w * np.sqrt(np.maximum(lam, 0.0))), inv @ (w * np.sqrt(np.maximum(-lam, 0.0)))


def hadamard_factors(x: np.ndarray, depth: int) -> tuple[np.ndarray, ...]:
    r"""The flattest factorization :math:`x = v_1\odot\cdots\odot v_k` of a vector:
    :math:`|v_l| = |x|^{1/k}` for every l, the signs of x on :math:`v_1`."""
    x = np.asarray(x, np.float64).reshape(-1)
    mag = np.abs(x) ** (1.0 / depth)
    return (np.sign(x) * mag, *(mag.copy() for _ in range(depth - 1)))


def column_weights(op) -> np.ndarray:
    r""":math:`D_{jj} = \|a_j\|^2/m` for the columns :math:`a_j` of a ``d x 1`` sensing
    problem's matrix (real rows only)."""
    a = op.dense_rows()
    return (a * a).sum(0) / max(len(a), 1)
