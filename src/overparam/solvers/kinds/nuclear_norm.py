"""Nuclear-norm minimization within a tolerance of the observations, as a baseline."""

import time
from typing import Annotated, Literal

from pydantic import Field

from overparam.configs import Batched, NonNegFloat, PosInt
from overparam.solvers.kinds._base import SolverConfigBase

ADMM_MAX_ITERS = 20_000


class NuclearNormConfig(SolverConfigBase):
    """min ||X||_* s.t. |A(X) - y| <= tol on every observation: a batched ADMM in JAX
    (``backend = "jax"``) or cvxpy/SCS (``"cvxpy"``). ``tol`` is batched: solves of one
    problem shape with different tolerances share a compiled program."""

    kind: Literal["nuclear_norm"] = "nuclear_norm"
    tol: Batched[NonNegFloat] = 1e-3
    backend: Literal["jax", "cvxpy"] = "jax"
    eps: Annotated[float, Field(gt=0, lt=1, allow_inf_nan=False)] = Field(
        1e-6, description="ADMM relative residual tolerance (jax backend)")
    max_iters: PosInt | None = Field(None, description="ADMM iteration cap (default 20000)")


def solve(cfgs, problems, *, devices, max_batch):
    """Solve a group of one config's static fields. cvxpy solves one by one; the ADMM runs
    each problem as its own call on a multi-core CPU (the calls run concurrently, one per
    device: batching SVDs gains nothing there, and a batch would wait for its slowest
    problem) and vmaps problems in batches elsewhere."""
    import jax
    import jax.numpy as jnp

    from overparam.solvers import SolverOutcome, nuclear_norm_min, nuclear_norm_min_cvxpy

    cfg = cfgs[0]
    if cfg.backend == "cvxpy":
        for i, (c, problem) in enumerate(zip(cfgs, problems)):
            t0 = time.perf_counter()
            x = jnp.asarray(nuclear_norm_min_cvxpy(problem, tol=c.tol), c.dtype)
            yield i, SolverOutcome(x, "converged", 0, time.perf_counter() - t0,
                                   {"solver_converged": True})
        return
    from overparam.problems import stack_problems

    devices = list(devices)
    large = problems[0].pad_size is not None and _nbytes(problems[0]) > 8 << 20
    one_each = large or (jax.default_backend() == "cpu" and len(devices) > 1)
    size = 1 if one_each else max_batch
    max_iters = cfg.max_iters or ADMM_MAX_ITERS
    run = jax.jit(jax.vmap(lambda p, tol: nuclear_norm_min(p, tol=tol, eps=cfg.eps,
                                                           max_iters=max_iters)))
    order = list(range(len(problems)))
    chunks = [order[i:i + size] for i in range(0, len(order), size)]
    window = 2 * len(devices)  # calls in flight at once
    for w in range(0, len(chunks), window):
        t0 = time.perf_counter()
        pending = []
        for j, idx in enumerate(chunks[w:w + window]):
            device = devices[j % len(devices)]
            stacked = jax.device_put(stack_problems([problems[i] for i in idx]), device)
            tols = jax.device_put(jnp.asarray([cfgs[i].tol for i in idx], cfg.dtype), device)
            pending.append((idx, run(stacked, tols)))  # dispatched asynchronously
        for idx, out in pending:
            res = jax.device_get(out)
            wall = time.perf_counter() - t0
            for k, i in enumerate(idx):
                converged = bool(res.converged[k])
                yield i, SolverOutcome(res.x[k], "converged" if converged else "max_steps",
                                       int(res.iterations[k]), wall,
                                       {"solver_converged": converged,
                                        "solver_primal_residual": float(res.primal_residual[k]),
                                        "solver_dual_residual": float(res.dual_residual[k])})


def _nbytes(problem) -> int:
    import jax

    return sum(x.size * x.dtype.itemsize for x in jax.tree.leaves(problem))
