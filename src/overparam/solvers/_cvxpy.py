"""Reference nuclear-norm minimization through cvxpy (slow, exact up to the solver's accuracy)."""

import cvxpy as cp
import numpy as np

from overparam.problems._matrix import MatrixProblem

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
    observed entries when the operator's ``entry_mask()`` is not None, else ``A_w @ vec(X)``
    (row-major) with ``A_w = operator.dense_rows()``, and the right-hand side
    ``operator.observed(y)``. Everything is converted to float64.

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
    mask = op.entry_mask()
    if mask is not None:  # entry sampling: index the observed entries
        rows, cols = np.nonzero(np.asarray(mask) > 0)
        measured = x[rows, cols]
    else:
        measured = op.dense_rows() @ cp.vec(x, order="C")
    target = op.observed(y)  # the real measurements, in the order of rows, cols / dense_rows
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
