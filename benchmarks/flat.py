"""Flat relaxation solves per second: the JAX ADMM of the ``flat`` baseline against cvxpy on
the same program, on phase-map cells, and how often the two agree on success.

    python benchmarks/flat.py [--d 10 20] [--seeds 3] [--cvxpy SCS CLARABEL]

Cells: Gaussian sensing, bilinear sensing, the quadratic network (m = 0.75, 1.5, 3 times the
degrees of freedom r(2d - r)) and Bernoulli completion (p = 0.3, 0.5, 0.8), rank 2 (3 for the
network), float64. JAX, compile excluded (each shape is solved once before the clock starts):

- ``jax``: ``solve_one`` of the flat kind, one problem per call, to eps 1e-9 (every solve);
- ``verdict``: the kind's ``solve`` with ``certify_failure = true`` (failures stop once
  certified, see :mod:`overparam.solvers._certify`) on every CPU device, as the
  ``ding2022-phase`` experiment runs it.

cvxpy: min ||Y||_* on the same rescaled problem (:func:`overparam.solvers._flat.
rescaled_problem`), one process, SCS at eps 1e-9 (loose tolerances cannot decide a 1e-6
rule) or Clarabel at its defaults. Success: ||D1^-1 Y D2^-1 - M||_F < 1e-6. Prints one row
per cell and a total; ``agree`` compares each cvxpy verdict with the ``jax`` one, ``v.agree``
the ``verdict`` ones with the ``jax`` ones.
"""

import argparse
import time
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from overparam import registry, use_all_cpu_cores
from overparam._runtime import single_threaded_blas
from overparam.solvers import nuclear_norm_min_cvxpy
from overparam.solvers._flat import flat_weights, rescaled_problem
from overparam.solvers.kinds import flat
from overparam.solvers.kinds.flat import FlatConfig, solve_one

CVXPY_OPTIONS = {"SCS": {"eps_abs": 1e-9, "eps_rel": 1e-9, "max_iters": 200_000},
                 "CLARABEL": {}}


def _cells(d: int):
    for kind, rank in (("gaussian_sensing", 2), ("bilinear_sensing", 2)):
        dof = rank * (2 * d - rank)
        for f in (0.75, 1.5, 3.0):
            yield f"{kind} m={f}dof", {"kind": kind, "d1": d, "d2": d, "rank": rank,
                                       "m": int(f * dof)}
    dof = 3 * (2 * d - 3)
    for f in (0.75, 1.5, 3.0):
        yield f"quadratic_network m={f}dof", {"kind": "quadratic_network", "d": d, "r1": 2,
                                              "r2": 1, "m": int(f * dof)}
    for p in (0.3, 0.5, 0.8):
        yield f"bernoulli_completion p={p}", {"kind": "bernoulli_completion", "d1": d,
                                              "d2": d, "rank": 2, "p": p}


def _build(fields: dict):
    entry = registry.PROBLEMS.get(fields["kind"])
    return registry.resolve(entry.build)(entry.config.model_validate(fields), jnp.float64)


def _cvxpy(problem, solver: str) -> float:
    """The cvxpy solution's error ||X - M||_F (inf when the weights are singular, NaN when the
    solver fails: counted as a failure, and as a disagreement where the JAX solve succeeded)."""
    import cvxpy as cp

    w = flat_weights(problem.operator)
    if w.singular:
        return float("inf")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            y = nuclear_norm_min_cvxpy(rescaled_problem(problem, w), solver=solver,
                                       **CVXPY_OPTIONS[solver])
        except (cp.error.SolverError, RuntimeError):
            return float("nan")
    return float(np.linalg.norm(w.d1_inv @ y @ w.d2_inv - np.asarray(problem.truth)))


def _success(out, problem) -> bool:
    return out.status != "singular_weights" and bool(
        np.linalg.norm(np.asarray(out.x) - np.asarray(problem.truth)) < 1e-6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d", type=int, nargs="+", default=[10, 20])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--cvxpy", nargs="+", default=["SCS", "CLARABEL"],
                        choices=sorted(CVXPY_OPTIONS))
    args = parser.parse_args()
    use_all_cpu_cores()  # one XLA device per core and one BLAS thread, as the experiments run
    single_threaded_blas()
    jax.config.update("jax_enable_x64", True)
    cfg, verdict = FlatConfig(), FlatConfig(certify_failure=True)
    devices = jax.devices()
    head = f"{'cell':<34}{'d':>4}{'jax s':>8}{'its':>7}{'verdict s':>10}{'v.agree':>8}"
    for s in args.cvxpy:
        head += f"{s + ' s':>11}{'ratio':>7}{'agree':>7}"
    print(head)
    total = {"jax": 0.0, "verdict": 0.0, **{s: 0.0 for s in args.cvxpy}}
    agree = {"verdict": 0, **{s: 0 for s in args.cvxpy}}
    solves = 0
    for d in args.d:
        for name, fields in _cells(d):
            problems = [_build({**fields, "seed": seed}) for seed in range(args.seeds)]
            solve_one(cfg, problems[0])  # compile this shape
            t0 = time.perf_counter()
            outs = [solve_one(cfg, p) for p in problems]
            t_jax = time.perf_counter() - t0
            its = np.mean([o.iterations for o in outs])
            ok_jax = [_success(o, p) for o, p in zip(outs, problems)]
            row = f"{name:<34}{d:>4}{t_jax / len(problems):>8.3f}{its:>7.0f}"
            total["jax"] += t_jax
            warm = [problems[i % len(problems)] for i in range(len(devices))]
            list(flat.solve([verdict] * len(warm), warm, devices=devices, max_batch=1))
            t0 = time.perf_counter()
            outs = dict(flat.solve([verdict] * len(problems), problems, devices=devices,
                                   max_batch=1))
            t_ver = time.perf_counter() - t0
            total["verdict"] += t_ver
            same = sum(a == _success(outs[i], p) for i, (a, p) in enumerate(zip(ok_jax,
                                                                                problems)))
            agree["verdict"] += same
            row += f"{t_ver / len(problems):>10.3f}{same:>5}/{len(problems)}"
            for s in args.cvxpy:
                t0 = time.perf_counter()
                errs = [_cvxpy(p, s) for p in problems]
                t_cvx = time.perf_counter() - t0
                total[s] += t_cvx
                same = sum(a == (e < 1e-6) for a, e in zip(ok_jax, errs))
                agree[s] += same
                row += f"{t_cvx / len(problems):>11.3f}{t_cvx / t_jax:>7.1f}" \
                       f"{same:>4}/{len(problems)}"
            solves += len(problems)
            print(row, flush=True)
    print(f"total {solves} solves: jax {solves / total['jax']:.2f} solves/s; verdict "
          f"{solves / total['verdict']:.2f} solves/s on {len(devices)} devices, same verdict "
          f"as jax {agree['verdict']}/{solves}")
    for s in args.cvxpy:
        print(f"  {s} {solves / total[s]:.2f} solves/s: jax {total[s] / total['jax']:.1f}x, "
              f"verdict {total[s] / total['verdict']:.1f}x; same verdict as jax "
              f"{agree[s]}/{solves}")


if __name__ == "__main__":
    main()
