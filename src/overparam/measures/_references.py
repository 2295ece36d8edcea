r"""Comparisons of a run with its problem's convex flat solution (Ding, Drusvyatskiy, Fazel,
Harchaoui 2022): does a gradient method land on the flattest minimizer?

The flat solution is the ``flat`` solver kind at its defaults (the weighted nuclear-norm
relaxation, ADMM in float64 to relative residuals 1e-9), solved once per problem by the sweep
and read from ``ctx.problem.references["flat"]`` (see
:class:`overparam.registry.MeasureSpec`'s ``references``). Where the problem carries no
reference (a baseline row), or the relaxation has no solution (singular weights: NaN
matrix), the measures are NaN.
"""

import jax.numpy as jnp

from overparam.measures._hessian import hessian_trace
from overparam.measures._registry import nan_like
from overparam.types import Array


def _flat(ctx) -> dict | None:
    refs = getattr(ctx.problem, "references", None)
    return None if refs is None else refs.get("flat")


def distance_to_flat(ctx) -> Array:
    r""":math:`\|X - X_\flat\|_F / \|X_\flat\|_F`, with :math:`X` the run's end-to-end
    matrix and :math:`X_\flat` the problem's flat solution."""
    ref = _flat(ctx)
    if ref is None:
        return nan_like(ctx)
    x = ctx.prediction()
    flat = ref["x"].astype(x.dtype)
    return jnp.linalg.norm(x - flat) / jnp.linalg.norm(flat)


def flat_trace_gap(ctx) -> Array:
    """``hessian_trace`` of the run over the Hessian trace at the flat factors, minus 1: 0 at
    a minimizer as flat as the flat solution, positive above it. (The two traces are of the
    same loss only when the run's model is the flat factors' model: ``two_factor`` for
    general problems, ``symmetric`` for symmetric ones.)"""
    ref = _flat(ctx)
    if ref is None:
        return nan_like(ctx)
    trace = hessian_trace(ctx)
    return trace / ref["hessian_trace"].astype(trace.dtype) - 1
