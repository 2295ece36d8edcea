r"""Certified failures of exact nuclear-norm programs, for maps of success verdicts.

A program :math:`\min \|D_1XD_2\|_*` s.t. :math:`\mathcal A(X) = b` (:math:`D_1 = D_2 = I`:
plain nuclear-norm minimization; the flat weights: the flat relaxation) whose truth
:math:`M` fits the observations has :math:`M_Y = D_1MD_2` as a feasible point in
:math:`Y = D_1XD_2`. Any feasible :math:`Y` with :math:`\|Y\|_* < \|M_Y\|_*`, a minimizer
:math:`Y^*` included, then misses the truth:

.. math:: \|D_1^{-1}YD_2^{-1} - M\|_F \ge
   \frac{\|M_Y\|_* - \|Y\|_*}{\sqrt{\min(d_1, d_2)}\,\|D_1\|_2\|D_2\|_2},

since :math:`\|Y - M_Y\|_* \ge \|M_Y\|_* - \|Y\|_*` and a nuclear norm is at most
:math:`\sqrt{\text{rank}}` times the Frobenius norm. An ADMM whose feasible iterate falls
below :func:`failure_norm` can stop: the exact solution fails the success rule by a margin.
"""

import numpy as np

CERTIFY_MARGIN = 10.0  # stop when the certified error exceeds this * SUCCESS_THRESHOLD
CONSISTENT_RTOL = 1e-10  # the truth fits the observations: ||A(M) - y|| <= this * ||y||


def failure_norm(problem, d1: np.ndarray | None = None, d2: np.ndarray | None = None
                 ) -> float | None:
    """The nuclear norm (in Y) below which a feasible point certifies an error above
    ``CERTIFY_MARGIN * SUCCESS_THRESHOLD``: ``||M_Y||_* - margin * sqrt(min(d1, d2)) *
    ||D1|| ||D2||`` (``d1``, ``d2`` the weights :math:`D_1`, :math:`D_2`; None: identity).
    None when the problem has no truth or its truth does not fit the observations."""
    from overparam.measures._exact_recovery import SUCCESS_THRESHOLD

    truth = getattr(problem, "truth", None)
    if truth is None:
        return None
    op = problem.operator
    y = op.observed(problem.observations)
    if np.linalg.norm(op.observed(op.apply(truth)) - y) > CONSISTENT_RTOL * max(
            float(np.linalg.norm(y)), 1e-300):
        return None
    rows, cols = problem.shape
    d1 = np.eye(rows) if d1 is None else np.asarray(d1, np.float64)
    d2 = np.eye(cols) if d2 is None else np.asarray(d2, np.float64)
    truth_norm = np.linalg.norm(d1 @ np.asarray(truth, np.float64) @ d2, "nuc")
    slack = (CERTIFY_MARGIN * SUCCESS_THRESHOLD * min(rows, cols) ** 0.5
             * np.linalg.norm(d1, 2) * np.linalg.norm(d2, 2))
    return float(truth_norm - slack)
