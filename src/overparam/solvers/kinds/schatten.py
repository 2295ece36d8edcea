"""Schatten-p minimization (p in (0, 1]) by IRLS as a baseline."""

import time
from typing import Annotated, Literal

from pydantic import Field

from overparam.configs import PosInt
from overparam.solvers.kinds._base import SolverConfigBase


class SchattenConfig(SolverConfigBase):
    """min sum_i sigma_i^p s.t. A(X) = y, for ``p`` in (0, 1], by iteratively reweighted least
    squares (a local minimizer for p < 1; see :func:`overparam.solvers.schatten_p_min`)."""

    kind: Literal["schatten"] = "schatten"
    p: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]
    max_iters: PosInt | None = Field(None, description="IRLS iteration cap (default 5000)")


def solve(cfgs, problems, *, devices, max_batch):
    import jax.numpy as jnp

    from overparam.solvers import SolverOutcome, schatten_p_min

    del devices, max_batch
    for i, (cfg, problem) in enumerate(zip(cfgs, problems)):
        t0 = time.perf_counter()
        options = {"max_iters": cfg.max_iters} if cfg.max_iters else {}
        res = schatten_p_min(problem, cfg.p, **options)
        x = jnp.asarray(res.x, cfg.dtype)
        yield i, SolverOutcome(x, "converged" if res.converged else "max_steps", res.iterations,
                               time.perf_counter() - t0,
                               {"solver_converged": res.converged,
                                "solver_constraint_residual": res.constraint_residual})
