"""Nuclear-norm minimization within a tolerance of the observations, as a baseline."""

import functools
import time
from typing import Annotated, Literal

from pydantic import Field, model_validator

from overparam.configs import Batched, NonNegFloat, PosInt
from overparam.solvers.kinds._base import (
    SolverConfigBase,
    bucketed,
    cached_jit,
    exact_nuclear_admm,
)

ADMM_MAX_ITERS = 20_000
PARTIAL_SVT_MIN_SIZE = 48  # unbatched solves of matrices at least this small side use
PARTIAL_SVT_MAX_RANK = 32  # rank-k SVTs between residual tests, k = min(d_min // 3, this)


def svt_rank(shape: tuple[int, int]) -> int | None:
    """The ``svt_rank`` of an unbatched ADMM solve of a ``shape`` problem: rank-k SVTs
    (warm-started subspace iteration, exact fallback) for matrices with both sides at least
    48, where a full SVD per iteration dominates; None (full SVDs) below."""
    d = min(shape)
    return min(d // 3, PARTIAL_SVT_MAX_RANK) if d >= PARTIAL_SVT_MIN_SIZE else None


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
    equality: bool = Field(
        False, description="tol = 0 only: enforce A(X) = y by projection (Douglas-Rachford, "
        "as the flat baseline) instead of the penalized box (jax backend)")
    certify_failure: bool = Field(
        False, description="with equality: stop once the solve is certified to miss the truth "
        "by more than 10x the 1e-6 success threshold (status certified_failure)")

    @model_validator(mode="after")
    def _exact_options(self):
        if self.equality and (self.tol != 0 or self.backend != "jax"):
            raise ValueError("equality = true needs tol = 0 and backend = 'jax'")
        if self.certify_failure and not self.equality:
            raise ValueError("certify_failure = true needs equality = true")
        return self


def solve(cfgs, problems, *, devices, max_batch):
    """Solve a group of one config's static fields. cvxpy solves one by one; the ADMM runs
    each problem as its own unbatched call on the CPU (concurrently on several devices:
    batching SVDs gains nothing there, a batch would wait for its slowest problem, and
    unbatched solves of large matrices use rank-k SVTs, see :func:`svt_rank`) and vmaps
    problems in batches elsewhere."""
    import jax
    import jax.numpy as jnp

    from overparam.solvers import SolverOutcome, nuclear_norm_min, nuclear_norm_min_cvxpy

    cfg = cfgs[0]
    if cfg.backend == "cvxpy":
        for i, (c, problem) in enumerate(zip(cfgs, problems)):
            t0 = time.perf_counter()
            x = jnp.asarray(nuclear_norm_min_cvxpy(problem, tol=c.tol), c.dtype)
            yield i, SolverOutcome(x, "converged", 0, time.perf_counter() - t0,
                                   {"solver_converged": True}, balanced_factors(x))
        return
    from overparam.problems import stack_problems

    devices = list(devices)
    large = problems[0].pad_size is not None and _nbytes(problems[0]) > 8 << 20
    one_each = large or jax.default_backend() == "cpu"
    max_iters = cfg.max_iters or ADMM_MAX_ITERS
    if one_each:
        yield from _one_each(cfgs, problems, cfg, devices, max_iters)
        return
    size = max_batch

    def batched_admm(problems, tols, stops, eps, max_iters):
        return jax.vmap(lambda p, tol, stop: nuclear_norm_min(
            p, tol=tol, eps=eps, max_iters=max_iters))(problems, tols, stops)

    def batched_exact(problems, tols, stops, eps, max_iters):
        del tols  # 0
        return jax.vmap(lambda p, stop: nuclear_norm_min(
            p, tol=0.0, eps=eps, max_iters=max_iters, equality=True, stop_norm=stop))(
            problems, stops)

    name, fn = ("nuclear_exact_batched", batched_exact) if cfg.equality else (
        "nuclear_admm_batched", batched_admm)
    run = functools.partial(cached_jit(name, fn), eps=cfg.eps, max_iters=max_iters)
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
            stops = jax.device_put(jnp.asarray([_stop_norm(cfgs[i], problems[i]) for i in idx],
                                               cfg.dtype), device)
            pending.append((idx, run(stacked, tols, stops)))  # dispatched asynchronously
        for idx, out in pending:
            res = jax.device_get(out)
            wall = time.perf_counter() - t0
            for k, i in enumerate(idx):
                yield i, _outcome(res, k, wall)


def _outcome(res, k: int | None, wall: float):
    """The outcome of solve ``k`` of a batched result, or of an unbatched one (``k`` None)."""
    from overparam.solvers import SolverOutcome

    pick = (lambda a: a) if k is None else (lambda a: a[k])  # noqa: E731
    converged = bool(pick(res.converged))
    x = pick(res.x)
    status = ("certified_failure" if bool(pick(res.below))
              else "converged" if converged else "max_steps")
    return SolverOutcome(x, status,
                         int(pick(res.iterations)), wall,
                         {"solver_converged": converged,
                          "solver_primal_residual": float(pick(res.primal_residual)),
                          "solver_dual_residual": float(pick(res.dual_residual))},
                         balanced_factors(x))


def balanced_factors(x):
    """The balanced factors ``(U sqrt(S), V sqrt(S))`` of ``x = U S V^T`` under the
    ``two_factor`` model: the norm-minimal factorization, whose Hessian measures a
    nuclear-norm row reports."""
    import jax.numpy as jnp
    import numpy as np

    from overparam.models import two_factor
    from overparam.solvers import FactorSolution
    from overparam.solvers._flat import two_factors

    d1, d2 = x.shape
    params = two_factors(np.asarray(x, np.float64), np.eye(d1), np.eye(d2))
    return FactorSolution(two_factor(d1, d2), tuple(jnp.asarray(p, x.dtype) for p in params))


def _one_each(cfgs, problems, cfg, devices, max_iters):
    """Each problem as its own unbatched call, two calls in flight per device, with rank-k
    SVTs for large matrices (:func:`svt_rank`). Problems are padded to a power of two
    measurements (:func:`~overparam.solvers.kinds._base.bucketed`) and the jitted function is
    made once per process, so a sweep over m compiles a few programs, once."""
    import jax
    import numpy as np

    from overparam.solvers import nuclear_norm_min

    rank = svt_rank(problems[0].shape)

    def nuclear_admm(problem, tol, eps, max_iters, rank):
        return nuclear_norm_min(problem, tol=tol, eps=eps, max_iters=max_iters, svt_rank=rank)

    run = cached_jit("nuclear_admm", nuclear_admm, ("eps", "max_iters", "rank"))

    window = 2 * len(devices)
    for w in range(0, len(problems), window):
        t0 = time.perf_counter()
        pending = []
        for j, i in enumerate(range(w, min(w + window, len(problems)))):
            device = devices[j % len(devices)]
            if cfg.equality:  # the shared exact program, see exact_nuclear_admm
                stop = _stop_norm(cfgs[i], problems[i]) if cfg.certify_failure else None
                out = exact_nuclear_admm(
                    bucketed(problems[i]), None if stop is None else np.asarray(stop, cfg.dtype),
                    eps=cfg.eps, max_iters=max_iters, rank=rank, device=device)
            else:
                problem = jax.device_put(bucketed(problems[i]), device)
                tol = jax.device_put(np.asarray(cfgs[i].tol, cfg.dtype), device)
                out = run(problem, tol, eps=cfg.eps, max_iters=max_iters, rank=rank)
            pending.append((i, out))  # dispatched asynchronously
        for i, out in pending:
            res = jax.device_get(out)
            yield i, _outcome(res, None, time.perf_counter() - t0)


def _stop_norm(cfg, problem) -> float:
    """The ``stop_norm`` of a solve: the certified-failure bound with ``certify_failure``
    (-inf where the problem has no truth that fits its observations), else -inf (never)."""
    from overparam.solvers._certify import failure_norm

    stop = failure_norm(problem) if cfg.certify_failure else None
    return float("-inf") if stop is None else stop


def _nbytes(problem) -> int:
    import jax

    return sum(x.size * x.dtype.itemsize for x in jax.tree.leaves(problem))
