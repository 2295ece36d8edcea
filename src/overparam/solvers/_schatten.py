"""Schatten-p quasi-norm minimization under measurement constraints, by IRLS (NumPy, float64).

The baseline "min Schatten-p" of Arora et al. 2019, who conjecture that gradient descent on a
depth-N matrix factorization tends to the minimum Schatten-p interpolant with p = 2 / N.
Runs on the host in NumPy/SciPy (float64), one problem per call: no jit and no vmap, and no
batched ``jax.numpy.linalg`` (jaxlib's batched LAPACK deadlocks with several CPU devices).
"""

import math
from typing import NamedTuple

import numpy as np
import scipy.linalg

from overparam.problems._matrix import MatrixProblem

GAMMA0 = 1e-1  # default initial smoothing, relative to sigma_1(X_0)^2
GAMMA_DECAY = 0.1  # default factor applied to the smoothing at the end of each stage
GAMMA_MIN = 1e-15  # default final smoothing, relative to sigma_1(X_0)^2
STAGE_TOL_FACTOR = 10.0  # a stage before the last ends at 10 * rel_tol
WINDOW = 5  # a stage ends when the last 5 iterations moved x and f little
STAGE_MAX_ITERS = 500  # ... or after 500 iterations, except the last stage
ANDERSON_MEMORY = 5  # Anderson acceleration: extrapolate from the last 6 IRLS images
GROUP_ENTRIES = 1 << 24  # completion: largest gather of W^{-1} rows in one batched solve
RANK_RTOL = 1e-12  # rows of A with singular values below this (relative) are redundant
BAD_P_MSG = "p must be a number in (0, 1], got {p!r}"


class SchattenResult(NamedTuple):
    """Output of :func:`schatten_p_min` (NumPy values on the host)."""

    x: np.ndarray  # (d1, d2), float64, the last iterate
    iterations: int  # IRLS iterations run (weighted least-squares solves after the start)
    converged: bool  # the stopping rule held before max_iters
    objective: float  # sum_i sigma_i(x)^p
    constraint_residual: float  # max |A(x)_i - y_i| over the real measurements (w_i > 0)


def _check_args(p, max_iters, rel_tol, gamma0, gamma_decay, gamma_min) -> float:
    try:
        p_value = float(p)
    except (TypeError, ValueError):
        raise ValueError(BAD_P_MSG.format(p=p)) from None
    if isinstance(p, bool) or not math.isfinite(p_value) or not 0.0 < p_value <= 1.0:
        raise ValueError(BAD_P_MSG.format(p=p))
    if isinstance(max_iters, bool) or not isinstance(max_iters, int) or max_iters < 1:
        raise ValueError(f"max_iters must be a positive integer, got {max_iters!r}")
    if not 0 < rel_tol < math.inf:
        raise ValueError(f"rel_tol must be positive and finite, got {rel_tol!r}")
    if not 0 < gamma_decay < 1:
        raise ValueError(f"gamma_decay must be in (0, 1), got {gamma_decay!r}")
    if not 0 < gamma_min < math.inf:
        raise ValueError(f"gamma_min must be positive and finite, got {gamma_min!r}")
    if gamma0 is not None and not 0 < gamma0 < math.inf:
        raise ValueError(f"gamma0 must be positive and finite, got {gamma0!r}")
    return p_value


def schatten_p_objective(x, p: float) -> float:
    """Schatten-p quasi-norm to the power p, ``sum_i sigma_i(x)^p``, in float64."""
    s = np.linalg.svd(np.asarray(x, np.float64), compute_uv=False)
    return float(np.sum(s**p))


class _Point(NamedTuple):
    """An iterate with its SVD (``x`` tall: d1 >= d2, so ``vt`` is a full d2 x d2 basis)."""

    x: np.ndarray  # (d1, d2)
    s: np.ndarray  # (d2,), singular values
    vt: np.ndarray  # (d2, d2), right singular vectors as rows


def _point(x: np.ndarray) -> _Point:
    _, s, vt = np.linalg.svd(x, full_matrices=False)
    return _Point(x, s, vt)


def _smoothed(point: _Point, gamma: float, p: float) -> float:
    """The smoothed objective ``sum_i (s_i^2 + gamma)^(p/2)`` that IRLS decreases."""
    return float(np.sum((point.s**2 + gamma) ** (p / 2.0)))


def _weight_inverse(point: _Point, gamma: float, p: float) -> np.ndarray:
    """``W^{-1} = (X^T X + gamma I)^(1 - p/2)``, scaled to max-abs 1 (the solves are scale-free).

    Built from the SVD of ``x``: its squared singular values are accurate where an
    eigendecomposition of ``X^T X`` would lose the small ones below ``eps * s_1^2``.
    """
    w_inv = (point.vt.T * (point.s**2 + gamma) ** (1.0 - p / 2.0)) @ point.vt
    return w_inv / np.max(np.abs(w_inv))


def _anderson(images: list[np.ndarray], residuals: list[np.ndarray]) -> np.ndarray:
    """Type-II Anderson extrapolation from ``g_j = G(x_j)`` and ``r_j = g_j - x_j``.

    Returns ``g_k - dG @ c`` with ``c = argmin ||r_k - dR @ c||``, where ``dG`` and ``dR`` hold
    the differences of consecutive ``g_j`` and ``r_j`` as columns: an affine combination
    (weights summing to 1) of the ``g_j``, so it satisfies the constraints that they satisfy.
    """
    d_res = np.diff(np.stack(residuals), axis=0)
    d_img = np.diff(np.stack(images), axis=0)
    coef = np.linalg.lstsq(d_res.T, residuals[-1], rcond=None)[0]
    return images[-1] - coef @ d_img


class _RowGroup(NamedTuple):
    """Rows of a completion problem solved together, padded to their largest ``|O|``."""

    rows: np.ndarray  # (g,), row indices
    idx: np.ndarray  # (g, width), observed columns first, then 0 as padding
    valid: np.ndarray  # (g, width), bool, False on padding
    y_obs: np.ndarray  # (g, width), the observed values, 0 on padding


class _Completion:
    """Entry constraints ``X_ij = y_ij`` on the observed entries (of the tall orientation)."""

    def __init__(self, observed: np.ndarray, y: np.ndarray):
        self.observed = observed  # (d1, d2), bool
        self.y = np.where(observed, y, 0.0)
        counts = observed.sum(axis=1)
        order = np.argsort(~observed, axis=1, kind="stable")  # observed columns first
        # Rows sorted by |O| and grouped so that a group's (g, width, d2) gather of W^{-1}
        # stays below GROUP_ENTRIES numbers (one group for 100 x 100 from 2000 entries).
        self.groups = []
        sorted_rows = np.argsort(counts, kind="stable")
        start = 0
        while start < sorted_rows.size:
            width = max(1, int(counts[sorted_rows[start]]))
            stop = start + 1
            while stop < sorted_rows.size:
                width_next = max(1, int(counts[sorted_rows[stop]]))
                if (stop + 1 - start) * width_next * observed.shape[1] > GROUP_ENTRIES:
                    break
                width, stop = width_next, stop + 1
            rows = sorted_rows[start:stop]
            valid = np.arange(width)[None, :] < counts[rows][:, None]
            idx = np.where(valid, order[rows, :width], 0)
            y_obs = np.where(valid, np.take_along_axis(self.y[rows], idx, axis=1), 0.0)
            self.groups.append(_RowGroup(rows, idx, valid, y_obs))
            start = stop

    def start(self) -> np.ndarray:  # minimum Frobenius norm: zero on the unobserved entries
        return self.y.copy()

    def project(self, x: np.ndarray) -> np.ndarray:
        return np.where(self.observed, self.y, x)

    def solve(self, w_inv: np.ndarray) -> np.ndarray:
        # Row i: min x W x^T s.t. x_O = y_O. Its solution x_F = -W_FF^{-1} W_FO y_O equals
        # x = W^{-1}[:, O] (W^{-1}[O, O])^{-1} y_O (KKT), an |O| x |O| system per row instead
        # of |F| x |F|: one batched solve per group, with identity blocks on the padding.
        x = np.empty_like(self.y)
        for group in self.groups:
            gathered = w_inv[group.idx]  # (g, width, d2): rows O of W^{-1}
            gram = np.take_along_axis(gathered, group.idx[:, None, :], axis=2)  # (g, w, w)
            both = group.valid[:, :, None] & group.valid[:, None, :]
            gram = np.where(both, gram, 0.0) + np.eye(gram.shape[1]) * ~group.valid[:, None, :]
            coef = np.linalg.solve(gram, group.y_obs[..., None])[..., 0] * group.valid
            x[group.rows] = np.einsum("ik,ikj->ij", coef, gathered)
        return self.project(x)


class _Sensing:
    """Constraints ``B vec(X) = c`` with orthonormal rows ``B`` spanning the real measurements.

    ``A_w`` (the rows with weight > 0) is replaced by ``B = V_r^T`` from its SVD
    ``A_w = U_r S_r V_r^T`` (singular values below ``RANK_RTOL * S_1`` dropped) and ``y_w`` by
    ``c = S_r^{-1} U_r^T y_w``: the same affine set when the measurements are consistent, but
    redundant rows are harmless and the weighted solves are better conditioned.
    """

    def __init__(self, a: np.ndarray, y: np.ndarray, shape: tuple[int, int]):
        u, s, vt = np.linalg.svd(a, full_matrices=False)
        keep = s > RANK_RTOL * s[0] if s.size and s[0] > 0 else np.zeros(s.shape, bool)
        self.b = vt[keep]  # (r, d1*d2)
        self.c = (u[:, keep].T @ y) / s[keep]
        self.shape = shape

    def start(self) -> np.ndarray:  # minimum Frobenius norm: B^T c
        return (self.c @ self.b).reshape(self.shape)

    def project(self, x: np.ndarray) -> np.ndarray:  # nearest point of the affine set
        v = x.reshape(-1)
        return (v + (self.c - self.b @ v) @ self.b).reshape(self.shape)

    def solve(self, w_inv: np.ndarray) -> np.ndarray:
        # x = Q^{-1} B^T (B Q^{-1} B^T)^{-1} c with Q = I (x) W: Q^{-1} vec(M) = vec(M W^{-1}).
        r = self.b.shape[0]
        if r == 0:  # no real measurements: the minimizer is 0
            return np.zeros(self.shape)
        qb = (self.b.reshape(r, *self.shape) @ w_inv).reshape(r, -1)  # rows: Q^{-1} b_i
        gram = self.b @ qb.T
        gram = 0.5 * (gram + gram.T)
        try:
            factor = scipy.linalg.cho_factor(gram)

            def solve(v):
                return scipy.linalg.cho_solve(factor, v)
        except np.linalg.LinAlgError:  # numerically semi-definite (extreme weights)

            def solve(v):
                return np.linalg.lstsq(gram, v, rcond=None)[0]

        coef = solve(self.c)
        coef += solve(self.c - self.b @ (coef @ qb))  # one step of iterative refinement
        return (coef @ qb).reshape(self.shape)


def schatten_p_min(
    problem: MatrixProblem,
    p: float,
    *,
    max_iters: int = 5000,
    rel_tol: float = 1e-7,
    gamma0: float | None = None,
    gamma_decay: float = GAMMA_DECAY,
    gamma_min: float = GAMMA_MIN,
    x0=None,
) -> SchattenResult:
    r"""Minimum Schatten-p interpolant, by iteratively reweighted least squares (IRLS-p).

    Attempts to solve, for :math:`0 < p \le 1`,

    .. math:: \min_{X \in \mathbb{R}^{d_1\times d_2}} \sum_i \sigma_i(X)^p
       \quad\text{s.t.}\quad \mathcal{A}(X)_i = y_i \ \text{ for every } i \text{ with } w_i > 0,

    with :math:`\mathcal{A}` = ``problem.operator`` and :math:`w` its weights (weight-0
    measurements are padding or unobserved entries and are ignored). :math:`p = 1` is the
    nuclear norm (convex). For :math:`p < 1` the problem is non-convex and NP-hard in general:
    IRLS returns a local minimum, often but not always the global one (see the note).

    **Iteration.** The problem is transposed when :math:`d_1 < d_2`, so that the weight is
    :math:`\min(d_1, d_2)` square. Each iteration solves the weighted least-norm problem

    .. math::
       X_{k+1} = \arg\min_{\mathcal{A}(X) = y} \operatorname{tr}(W_k X^\top X),\qquad
       W_k = (X_k^\top X_k + \gamma I)^{p/2 - 1},

    the minimizer of a quadratic majorizer of the smoothed objective
    :math:`f_\gamma(X) = \sum_i (\sigma_i(X)^2 + \gamma)^{p/2}` at :math:`X_k`, so
    :math:`f_\gamma(X_{k+1}) \le f_\gamma(X_k)`. :math:`W_k` is built from the SVD of
    :math:`X_k` (accurate small :math:`\sigma_i^2`, unlike an eigendecomposition of
    :math:`X_k^\top X_k`).

    - *Completion* (the operator's ``entry_mask()`` is not None): rows decouple. For row
      :math:`x` with observed columns :math:`O` and free columns :math:`F`, the minimizer
      :math:`x_F = -W_{FF}^{-1} W_{FO} y_O` is computed in the equivalent (KKT) form
      :math:`x = W^{-1}_{:,O} (W^{-1}_{OO})^{-1} y_O` (a :math:`|O| \times |O|` system per
      row instead of :math:`|F| \times |F|`; batched LU solves over groups of rows), then
      :math:`x_O = y_O` is set exactly.
    - *Sensing* (any other operator, e.g. :class:`DenseSensing` or :class:`RankOneSensing`,
      through its ``dense_rows()``, row-major ``vec``): with :math:`Q = I_{d_1} \otimes W`,
      :math:`x = Q^{-1} B^\top (B Q^{-1} B^\top)^{-1} c`, where :math:`B` has orthonormal rows
      spanning the real measurement rows and :math:`c` is the matching right-hand side (from
      one SVD of those rows: redundant rows are dropped, the solves are better conditioned);
      the :math:`r \times r` system is solved by Cholesky plus one refinement step. Cost per
      iteration :math:`O(m\,d_1 d_2 (m + d_2))`: meant for small sensing problems. If no
      :math:`X` fits inconsistent measurements, their least-squares-consistent part is fitted
      instead and ``constraint_residual`` shows the violation.

    **Choices** (all relative to :math:`s_1^2`, :math:`s_1` the largest singular value of the
    start, or 1 for a zero start, so the run is invariant to rescaling the problem):

    - *Start*: ``x0`` if given, else the minimum-Frobenius-norm interpolant (:math:`W = I`):
      zeros on the unobserved entries for completion, :math:`B^\top c` for sensing.
    - *Smoothing schedule*: :math:`\gamma` starts at ``gamma0`` (default 0.1, so the first
      weights are close to uniform: a continuation from the convex :math:`p = 2` problem)
      and is multiplied by ``gamma_decay`` (default 0.1) at the end of each *stage* down to
      the floor ``gamma_min`` (default 1e-15): geometric in stages, 15 by default. A stage
      ends when, over its last 5 iterations, the mean change
      :math:`\|X_{k+1} - X_k\|_F` is at most ``10 * rel_tol`` :math:`\cdot \|X\|_F` and the
      mean decrease of :math:`f_\gamma` at most ``10 * rel_tol`` :math:`\cdot f_\gamma`, or
      after 500 iterations (for :math:`p < 1`, :math:`f_\gamma` can have long flat valleys
      where IRLS drifts for thousands of iterations: 100 x 100 completion from 1000 entries).
      Decreasing :math:`\gamma` by a fixed factor every iteration instead (as in Mohan &
      Fazel) lets it fall below :math:`\sigma_i^2` of singular values that should still
      vanish, which then freeze: on 100 x 100 rank-5 completion from m = 2000 entries
      (``low_rank_truth`` with key 0, ``make_completion`` with key 1) a factor 0.97 per
      iteration left IRLS-1 at 3e-2 (relative Frobenius) from the nuclear-norm minimizer,
      with or without acceleration, and (without it) IRLS-1/2 at m = 1500 in a local
      minimum; following the path in stages reaches both minima.
    - *Acceleration*: type-II Anderson acceleration (memory 5) of the IRLS map within a
      stage, safeguarded: the extrapolated point (an affine combination of IRLS outputs, so
      feasible; projected onto the constraints against rounding) replaces the IRLS output
      only if it does not increase :math:`f_\gamma`, so :math:`f_\gamma` still decreases
      monotonically. Plain IRLS-1 needs thousands of iterations per stage on 100 x 100.
    - *Why a floor*: :math:`\gamma > 0` keeps :math:`W` finite; its condition number is
      :math:`(s_1^2/\gamma)^{1 - p/2} \le 10^{15}` at the default floor. At a stationary point
      of :math:`f_\gamma`, singular values that vanish at the exact minimizer are of order
      :math:`\gamma^{1 - p/2}`, and :math:`\sigma^p` amplifies them: with the default floor
      the reported objective exceeds a rank-deficient minimum by a few 1e-6 (relative) at
      :math:`p = 1/2` on small problems (2e-5 with a floor of 1e-13). Raise the floor for
      speed.
    - *Stopping rule*: the last stage (at the floor) ends with the stage test at ``rel_tol``
      itself; ``converged`` says whether that happened within ``max_iters`` iterations
      (100-300 iterations for small problems; 300-1300 for 100 x 100 completion from 1500 or
      2000 entries, 1500-2500 from 1000). Where the minimum is not sharp (:math:`p = 1`) the
      error in ``x`` is of order :math:`\sqrt{\text{rel\_tol}}` and that of the objective of
      order ``rel_tol``: lower ``rel_tol`` for a more accurate ``x``.

    .. note:: For :math:`p < 1` the answer depends on the start and the schedule. From the
       default start IRLS found the global minimum (checked by brute force) on 153 of 160
       random 2 x 2 and 3 x 3 completion problems with :math:`p \in \{2/3, 1/2\}`; on the
       other 7 it stopped at a local minimum 0.2-6% above the global one (a rank-deficient
       cusp), and neither a start from the :math:`p = 1` solution, continuation in :math:`p`,
       a larger ``gamma0`` nor a slower ``gamma_decay`` fixed them.

    References: K. Mohan, M. Fazel, "Iterative reweighted algorithms for matrix rank
    minimization", JMLR 13, 2012 (IRLS-p and its smoothing floor); M. Fornasier, H. Rauhut,
    R. Ward, "Low-rank matrix recovery via iteratively reweighted least squares
    minimization", SIAM J. Optim. 21(4), 2011; H. F. Walker, P. Ni, "Anderson acceleration
    for fixed-point iterations", SIAM J. Numer. Anal. 49(4), 2011; S. Arora, N. Cohen, W. Hu,
    Y. Luo, "Implicit Regularization in Deep Matrix Factorization", NeurIPS 2019 (the
    conjecture p = 2 / depth).

    Args:
      problem: one unbatched problem (JAX or NumPy arrays; computed in float64 on the host);
        its operator provides ``entry_mask()``, ``dense_rows()`` and ``observed(y)`` (see
        :class:`~overparam.problems.Operator`).
      p: the exponent, a finite number in (0, 1].
      max_iters: cap on IRLS iterations (weighted least-squares solves), >= 1.
      rel_tol: relative tolerance of the stopping rule, > 0 (stages use ``10 * rel_tol``).
      gamma0: initial smoothing relative to :math:`s_1^2`, > 0; default 0.1 (raised to
        ``gamma_min`` if below it).
      gamma_decay: factor in (0, 1) applied to the smoothing at the end of each stage.
      gamma_min: final smoothing relative to :math:`s_1^2`, > 0.
      x0: optional start, shape (d1, d2); need not satisfy the constraints.

    Returns:
      A :class:`SchattenResult`; ``x`` is a float64 NumPy array of shape (d1, d2).

    Raises:
      ValueError: ``p`` is not a finite number in (0, 1], another argument is out of range,
        or ``x0`` has the wrong shape.
    """
    p = _check_args(p, max_iters, rel_tol, gamma0, gamma_decay, gamma_min)
    op = problem.operator
    d1, d2 = op.shape
    y = np.asarray(problem.observations, np.float64)
    transpose = d1 < d2  # work on the tall orientation, so that W is min(d1, d2) square
    mask = op.entry_mask()
    if mask is not None:  # entry sampling: rows decouple
        observed = np.asarray(mask) > 0
        con = _Completion(observed.T, y.T) if transpose else _Completion(observed, y)
    else:  # any other operator, through its real rows
        a = op.dense_rows()
        if transpose:  # rows of A as matrices, transposed: <A_i, X> = <A_i^T, X^T>
            a = a.reshape(-1, d1, d2).transpose(0, 2, 1).reshape(a.shape[0], d1 * d2)
        con = _Sensing(a, op.observed(y), (d2, d1) if transpose else (d1, d2))
    if x0 is None:
        x = con.start()
    else:
        x = np.asarray(x0, np.float64)
        if x.shape != (d1, d2):
            raise ValueError(f"x0 must have shape {(d1, d2)}, got {x.shape}")
        x = x.T if transpose else x
    current = _point(np.array(x))
    scale = float(current.s[0]) ** 2 if current.s.size else 0.0
    scale = scale if scale > 0 else 1.0  # zero start (e.g. y = 0): X = 0 is then a fixed point
    gamma = max(GAMMA0 if gamma0 is None else gamma0, gamma_min) * scale
    floor = gamma_min * scale
    values = [_smoothed(current, gamma, p)]  # smoothed objective over the current stage
    changes: list[float] = []  # ||x_{k+1} - x_k||_F over the current stage
    images: list[np.ndarray] = []  # Anderson history, flattened: G(x_j) ...
    residuals: list[np.ndarray] = []  # ... and G(x_j) - x_j
    converged = False
    iterations = 0
    while iterations < max_iters:
        iterations += 1
        image = con.solve(_weight_inverse(current, gamma, p))
        images = [*images[-ANDERSON_MEMORY:], image.reshape(-1)]
        residuals = [*residuals[-ANDERSON_MEMORY:], (image - current.x).reshape(-1)]
        new = None
        if len(images) > 1:  # safeguard: keep the extrapolation only if it does not increase f
            candidate = _point(con.project(_anderson(images, residuals).reshape(image.shape)))
            if _smoothed(candidate, gamma, p) <= values[-1]:
                new = candidate
            else:
                images, residuals = images[-1:], residuals[-1:]
        new = _point(image) if new is None else new
        values.append(_smoothed(new, gamma, p))
        changes.append(float(np.linalg.norm(new.x - current.x)))
        current = new
        tol = WINDOW * rel_tol * (1.0 if gamma <= floor else STAGE_TOL_FACTOR)
        settled = (len(changes) >= WINDOW
                   and sum(changes[-WINDOW:]) <= tol * float(np.linalg.norm(current.x))
                   and values[-WINDOW - 1] - values[-1] <= tol * values[-1])
        if settled or (gamma > floor and len(changes) >= STAGE_MAX_ITERS):
            if gamma <= floor:
                converged = True
                break
            gamma = max(gamma * gamma_decay, floor)
            values, changes = [_smoothed(current, gamma, p)], []
            images, residuals = [], []
    x = current.x.T if transpose else current.x
    x = np.ascontiguousarray(x)
    return SchattenResult(
        x=x,
        iterations=iterations,
        converged=converged,
        objective=schatten_p_objective(x, p),
        constraint_residual=_constraint_residual(problem, x),
    )


def _constraint_residual(problem: MatrixProblem, x: np.ndarray) -> float:
    """``max |A(x)_i - y_i|`` over the real measurements, in float64 on the host."""
    op = problem.operator
    mask = op.entry_mask()
    if mask is not None:
        y = np.asarray(problem.observations, np.float64)
        residual = (x - y)[np.asarray(mask) > 0]
    else:
        residual = op.dense_rows() @ x.reshape(-1) - op.observed(problem.observations)
    return float(np.max(np.abs(residual), initial=0.0))
