"""Reference nuclear-norm minimization through cvxpy (slow, exact up to the solver's accuracy)."""

import cvxpy as cp
import numpy as np

from overparam.problems._matrix import MatrixProblem
from overparam.problems._operators import DenseSensing, EntryMask

ACCEPTED_STATUSES = (cp.OPTIMAL, cp.OPTIMAL_INACCURATE)


def nuclear_norm_min_cvxpy(
    problem: MatrixProblem, *, tol: float = 0.0, solver: str = "SCS", **solver_options
) -> np.ndarray:
    r"""Minimum nuclear-norm matrix consistent with the observations, solved by cvxpy.

    The reference for :func:`overparam.solvers.nuclear_norm_min`; it solves the same problem

    .. math:: \min_{X \in \mathbb{R}^{d_1\times d_2}} \|X\|_*
       \quad\text{s.t.}\quad |\mathcal{A}(X)_i - y_i| \le \tau
       \ \text{ for every } i \text{ with } w_i > 0,

    with :math:`\tau` = ``tol`` (equality constraints when ``tol == 0``). Only the real
    measurements (weight > 0) enter, as one vectorized constraint: ``X[rows, cols]`` over the
    observed entries for an :class:`EntryMask`, ``A_w @ vec(X)`` (row-major) for a
    :class:`DenseSensing`. Everything is converted to float64.

    Args:
      problem: one unbatched problem (NumPy or JAX arrays).
      tol: non-negative half-width of the constraint box (a Python number).
      solver: a cvxpy solver name, default ``"SCS"``.
      **solver_options: passed to ``cvxpy.Problem.solve``, e.g. ``eps_abs=1e-10``.

    Returns:
      The solution, a float64 NumPy array of shape (d1, d2).

    Raises:
      RuntimeError: the solver's status is not optimal or optimal_inaccurate.
    """
    if tol < 0:
        raise ValueError(f"tol must be non-negative, got {tol!r}")
    op = problem.operator
    y = np.asarray(problem.observations, dtype=np.float64)
    x = cp.Variable(op.shape)
    if isinstance(op, EntryMask):
        rows, cols = np.nonzero(np.asarray(op.mask) > 0)
        measured, target = x[rows, cols], y[rows, cols]
    elif isinstance(op, DenseSensing):
        active = np.asarray(op.weights) > 0
        a = np.asarray(op.matrix, dtype=np.float64)[active]
        measured, target = a @ cp.vec(x, order="C"), y[active]
    else:
        raise TypeError(f"operator must be EntryMask or DenseSensing, got {type(op).__name__}")
    if tol == 0:
        constraints = [measured == target]
    else:
        constraints = [cp.abs(measured - target) <= tol]
    prob = cp.Problem(cp.Minimize(cp.normNuc(x)), constraints)
    prob.solve(solver=solver, **solver_options)
    if prob.status not in ACCEPTED_STATUSES:
        raise RuntimeError(
            f"cvxpy solver {solver} returned status {prob.status!r} for nuclear-norm "
            "minimization; expected 'optimal' or 'optimal_inaccurate'"
        )
    return np.asarray(x.value, dtype=np.float64)
