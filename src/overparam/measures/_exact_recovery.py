"""Exact-recovery measures of Ding, Drusvyatskiy, Fazel, Harchaoui 2022 (Sec. 8, Fig. 3).

The paper counts a solve as a success when the recovered matrix is within
:data:`SUCCESS_THRESHOLD` of the unit-Frobenius truth in absolute Frobenius distance
(``||D1^-1 Y D2^-1 - M||_F < 1e-6`` for the flat relaxation, ``||Y - M||_F < 1e-6`` for
nuclear-norm minimization). Here the rule is applied to a run's end-to-end matrix, whatever
produced it. The threshold is absolute, so it presumes the paper's unit-norm truth, and it is
at the edge of float32 resolution: use float64 runs (and tight solver tolerances).
"""

import jax.numpy as jnp

from overparam.measures._registry import nan_like
from overparam.problems import MatrixProblem
from overparam.types import Array

SUCCESS_THRESHOLD = 1e-6  # Ding et al.'s rule: exact recovery iff ||X - M||_F < 1e-6
SUPPORT_THRESHOLD = 1e-6  # an entry counts as nonzero when |X_ij| > this (Sec. 9's count)


def frobenius_error(problem: MatrixProblem, x: Array) -> Array:
    """Absolute Frobenius distance ``||X - M||_F`` to the truth (NaN when it is unknown)."""
    if problem.truth is None:
        return jnp.asarray(jnp.nan, x.dtype)
    return jnp.linalg.norm(x - problem.truth)


def exact_recovery(problem: MatrixProblem, x: Array) -> Array:
    """1.0 when ``||X - M||_F < SUCCESS_THRESHOLD``, else 0.0 (also for a NaN ``x``); NaN when
    the truth is unknown. In ``x``'s dtype."""
    if problem.truth is None:
        return jnp.asarray(jnp.nan, x.dtype)
    return (frobenius_error(problem, x) < SUCCESS_THRESHOLD).astype(x.dtype)


def _end_to_end(ctx) -> Array | None:
    """The run's end-to-end matrix, or None where there is none to compare with a truth: a
    model of data (``takes_inputs``, such as a user's regression) or a problem without a
    ``truth``. ``frob_error`` and ``success`` are on every row, so they must not fail there."""
    if ctx.model.takes_inputs or getattr(ctx.problem, "truth", None) is None:
        return None
    return ctx.prediction()


def frob_error(ctx) -> Array:
    """The ``frob_error`` measure: :func:`frobenius_error` of the run's prediction; NaN for a
    model of data or a problem without a truth."""
    x = _end_to_end(ctx)
    return nan_like(ctx) if x is None else frobenius_error(ctx.problem, x)


def success(ctx) -> Array:
    """The ``success`` measure: :func:`exact_recovery` of the run's prediction; NaN for a
    model of data or a problem without a truth."""
    x = _end_to_end(ctx)
    return nan_like(ctx) if x is None else exact_recovery(ctx.problem, x)


def support_size(ctx) -> Array:
    """The ``support_size`` measure: how many entries of the run's matrix exceed
    :data:`SUPPORT_THRESHOLD` in absolute value (the nonzeros of a sparse-recovery vector)."""
    x = ctx.prediction()
    return jnp.sum(jnp.abs(x) > SUPPORT_THRESHOLD).astype(x.dtype)
