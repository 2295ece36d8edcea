"""Baseline solutions of a training problem that its measures compare with.

A measure that declares ``references`` (see :class:`overparam.registry.MeasureSpec`) reads
``problem.references[kind]``; :func:`attach_references` solves the problem once per solver
kind, at that kind's default config, in float64, and puts the solution there. A solver kind
or measure is one module plus one registry entry; nothing here names one.
"""

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from overparam import registry
from overparam._runtime import dtype_context, full_precision
from overparam.measures import compute_measures
from overparam.models import Model
from overparam.objectives._local import bind_objective

MATRIX = Model(name="matrix", init=None, predict=lambda params: params[0])


def measure_outcome(names: Sequence[str], out, problem, seed: int) -> dict:
    """Final measures of a baseline's outcome: of its matrix ``out.x``, except those that need
    factors, which are those of ``out.factors`` (a :class:`~overparam.solvers.FactorSolution`;
    the Hessian diagnostics under the loss of its objective kind) where the solver gives them,
    else NaN."""
    finals = compute_measures(names, MATRIX, (out.x,), problem, factors=False)
    f = out.factors
    need = [n for n in names if "factors" in registry.MEASURES[n].needs]
    if f is not None and need:
        kind = registry.OBJECTIVES.get(f.objective)
        objective = bind_objective(registry.resolve(kind.build)(kind.config()), f.model, {})
        finals.update(compute_measures(need, f.model, f.params, problem, objective=objective,
                                       key=jax.random.PRNGKey(seed)))
    return {k: np.asarray(v) for k, v in finals.items()}


def references_of(measures: Sequence[str]) -> tuple[str, ...]:
    """The solver kinds the named measures compare with, sorted, each once."""
    kinds = {k for n in measures for k in registry.MEASURES[n].references}
    for k in sorted(kinds):
        if k not in registry.SOLVERS:
            raise ValueError(f"a measure compares with solver kind {k!r}, which is not "
                             f"registered (one of {registry.SOLVERS.names()})")
    return tuple(sorted(kinds))


def solve_reference(kind: str, problem64) -> dict[str, np.ndarray]:
    """``kind``'s solution of ``problem64`` (a float64 problem) at the kind's defaults:
    ``{"x": matrix, "hessian_trace": trace at its factors (NaN without them)}``, float64."""
    entry = registry.SOLVERS.get(kind)
    solve = registry.resolve(entry.solve)
    with dtype_context("float64"), full_precision():
        [(_, out)] = list(solve([entry.config()], [problem64], devices=[], max_batch=1))
        trace = measure_outcome(["hessian_trace"], out, problem64, 0)["hessian_trace"]
        return {"x": np.asarray(out.x, np.float64),
                "hessian_trace": np.asarray(trace, np.float64)}


def attach_references(problem, solutions: dict[str, dict], dtype: str):
    """``problem`` with ``references``: each of ``solutions`` (kind -> :func:`solve_reference`)
    as arrays of ``dtype``. A problem type without a ``references`` field (e.g. robust PCA's)
    is returned as it is: measures that compare with a reference are NaN on it."""
    if not solutions or "references" not in getattr(problem, "_fields", ()):
        return problem
    with dtype_context(dtype):
        refs = {k: {name: jnp.asarray(v, dtype) for name, v in sol.items()}
                for k, sol in solutions.items()}
    return problem._replace(references=refs)
