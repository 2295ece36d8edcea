"""Runs baselines (nuclear-norm and Schatten-p minimization, the truth) for solver runs."""

import time
from collections.abc import Callable, Sequence

import jax
import numpy as np

from overparam._runtime import dtype_context, full_precision
from overparam.errors import DataError
from overparam.measures import compute_measures
from overparam.models import Model
from overparam.problems import MatrixProblem
from overparam.solvers import nuclear_norm_min, nuclear_norm_min_cvxpy
from overparam.solvers._schatten import schatten_p_min
from overparam.sweep._batch import stack_problems
from overparam.sweep._build import ProblemCache, is_large, problem_signature
from overparam.sweep._config import RunConfig

ADMM_MAX_ITERS = 20_000  # IRLS (schatten) uses its own default
DEPTH_DEPENDENT = {"schatten_quasi_norm", "sv_rate_measured", "sv_rate_predicted"}
MATRIX = Model(name="matrix", init=None, predict=lambda params: params[0])


def _measure(names: Sequence[str], x, problem: MatrixProblem) -> dict:
    finals = compute_measures([n for n in names if n not in DEPTH_DEPENDENT], MATRIX, (x,),
                              problem)
    finals = {k: np.asarray(v) for k, v in finals.items()}
    finals.update({n: np.asarray(np.nan) for n in names if n in DEPTH_DEPENDENT})
    return finals


def run_solvers(
    runs: Sequence[RunConfig],
    cache: ProblemCache,
    *,
    measures: Sequence[str],
    max_batch: int,
    report: Callable[[RunConfig, str, int, dict, float, dict], None],
) -> None:
    """Solve each run's convex program and report (run, status, iterations, finals, wall, extra)."""
    groups: dict[tuple, list[RunConfig]] = {}
    for run in runs:
        s = run.solver
        with dtype_context(s.dtype):
            problem = cache.get(run.problem, s.dtype)
        key = (problem_signature(problem), s.kind, s.backend, s.dtype, s.eps, s.max_iters,
               is_large(problem))
        groups.setdefault(key, []).append(run)
    for (_, kind, backend, dtype, eps, max_iters, large), group in groups.items():
        with dtype_context(dtype), full_precision():
            problems = [cache.get(r.problem, dtype) for r in group]
            if kind == "truth":
                for run, problem in zip(group, problems):
                    if problem.truth is None:
                        raise DataError(f"problem {run.problem.kind}: baseline 'truth' needs a "
                                        "known ground truth")
                    report(run, "converged", 0, _measure(measures, problem.truth, problem), 0.0,
                           {})
                continue
            if kind == "schatten":
                for run, problem in zip(group, problems):
                    t0 = time.perf_counter()
                    options = {"max_iters": max_iters} if max_iters else {}
                    res = schatten_p_min(problem, run.solver.p, **options)
                    x = jax.numpy.asarray(res.x, dtype)
                    report(run, "converged" if res.converged else "max_steps", res.iterations,
                           _measure(measures, x, problem), time.perf_counter() - t0,
                           {"solver_converged": res.converged,
                            "solver_constraint_residual": res.constraint_residual})
                continue
            if backend == "cvxpy":
                for run, problem in zip(group, problems):
                    t0 = time.perf_counter()
                    x = nuclear_norm_min_cvxpy(problem, tol=run.solver.tol)
                    x = jax.numpy.asarray(x, dtype)
                    report(run, "converged", 0, _measure(measures, x, problem),
                           time.perf_counter() - t0, {"solver_converged": True})
                continue
            _solve_nuclear(group, problems, dtype, eps, max_iters or ADMM_MAX_ITERS, large,
                           max_batch, measures, report)


def _solve_nuclear(group, problems, dtype, eps, max_iters, large, max_batch, measures, report):
    """Batched ADMM solves. On a multi-core CPU each problem is its own call and the calls run
    concurrently, one per device (batching SVDs gains nothing there, and a batch would wait
    for its slowest problem); elsewhere problems are vmapped in batches."""
    devices = jax.devices()
    one_each = large or (jax.default_backend() == "cpu" and len(devices) > 1)
    size = 1 if one_each else max_batch
    solve = jax.jit(jax.vmap(lambda p, tol: nuclear_norm_min(p, tol=tol, eps=eps,
                                                             max_iters=max_iters)))
    chunks = [(group[i:i + size], problems[i:i + size]) for i in range(0, len(group), size)]
    window = 2 * len(devices)  # calls in flight at once
    for w in range(0, len(chunks), window):
        t0 = time.perf_counter()
        pending = []
        for j, (runs, probs) in enumerate(chunks[w:w + window]):
            device = devices[j % len(devices)]
            stacked = jax.device_put(stack_problems(probs), device)
            tols = jax.device_put(jax.numpy.asarray([r.solver.tol for r in runs], dtype), device)
            pending.append((runs, probs, solve(stacked, tols)))  # dispatched asynchronously
        for runs, probs, out in pending:
            res = jax.device_get(out)
            wall = time.perf_counter() - t0
            for i, (run, problem) in enumerate(zip(runs, probs)):
                converged = bool(res.converged[i])
                report(run, "converged" if converged else "max_steps", int(res.iterations[i]),
                       _measure(measures, res.x[i], problem), wall,
                       {"solver_converged": converged,
                        "solver_primal_residual": float(res.primal_residual[i]),
                        "solver_dual_residual": float(res.dual_residual[i])})
