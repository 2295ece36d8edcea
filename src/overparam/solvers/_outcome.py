"""What a baseline solver returns for one run."""

from typing import Any, NamedTuple


class SolverOutcome(NamedTuple):
    """One solved run: the solution matrix and how the solve went.

    Attributes:
      x: the solution, shape (d1, d2), an array of the run's dtype.
      status: ``"converged"`` or ``"max_steps"`` (the iteration cap was hit).
      iterations: solver iterations taken (0 when not iterative).
      wall_time_s: seconds spent on this run (shared by runs solved in one batch).
      extra: further columns for the run's row (residuals, solver flags).
    """

    x: Any
    status: str
    iterations: int
    wall_time_s: float
    extra: dict
