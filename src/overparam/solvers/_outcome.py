"""What a baseline solver returns for one run."""

from typing import Any, NamedTuple


class FactorSolution(NamedTuple):
    """A baseline's solution as a model's parameters, so that measures needing factors (the
    Hessian diagnostics) are those of this point rather than NaN.

    Attributes:
      model: a :class:`~overparam.models.Model` whose ``predict(params)`` is the solution.
      params: its parameters (arrays of the run's dtype).
      objective: the objective kind whose loss the Hessian measures differentiate (built
        with its default config), e.g. ``"squared"`` or ``"robust_pca"``.
    """

    model: Any
    params: Any
    objective: str = "squared"


class SolverOutcome(NamedTuple):
    """One solved run: the solution matrix and how the solve went.

    Attributes:
      x: the solution, shape (d1, d2), an array of the run's dtype.
      status: ``"converged"``, ``"max_steps"`` (the iteration cap was hit) or a solver's own
        reason it has no solution (e.g. ``"singular_weights"``).
      iterations: solver iterations taken (0 when not iterative).
      wall_time_s: seconds spent on this run (shared by runs solved in one batch).
      extra: further columns for the run's row (residuals, solver flags).
      factors: the solution's factors, a :class:`FactorSolution`, or None (measures that
        need factors are then NaN).
    """

    x: Any
    status: str
    iterations: int
    wall_time_s: float
    extra: dict
    factors: FactorSolution | None = None
